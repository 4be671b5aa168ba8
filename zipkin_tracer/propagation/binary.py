"""``Format.BINARY``: the B3 single header and baggage, as UTF-8 JSON.

Inject appends ``{"b3": "...", "ot-baggage-k": "v"}`` to a ``bytearray``.
Extract takes ``bytes``/``bytearray``/``memoryview``: empty means no context;
bytes that are not such a JSON object raise ``SpanContextCorruptedException``
(the one corruption ``extract`` reports: a binary payload is ours or broken);
malformed B3 inside it is treated like a bad header (no context).
"""

from __future__ import annotations

import json
from typing import Any, Optional

from opentracing import InvalidCarrierException, SpanContextCorruptedException
from zipkin_tracer.context import ZipkinSpanContext
from zipkin_tracer.propagation.b3 import B3Propagator

_TEXT = B3Propagator(single=True, http=False)


class BinaryPropagator:
    __slots__ = ()

    def inject(self, context: ZipkinSpanContext, carrier: Any) -> None:
        if not isinstance(carrier, bytearray):
            raise InvalidCarrierException(
                f"Format.BINARY carrier must be a bytearray, got {type(carrier).__name__}"
            )
        payload = json.dumps(_TEXT.headers(context), separators=(",", ":"))
        carrier.extend(payload.encode("utf-8"))

    def extract(self, carrier: Any) -> Optional[ZipkinSpanContext]:
        if not isinstance(carrier, (bytes, bytearray, memoryview)):
            raise InvalidCarrierException(
                "Format.BINARY carrier must be bytes, bytearray or memoryview, "
                f"got {type(carrier).__name__}"
            )
        data = bytes(carrier)
        if not data:
            return None
        try:
            decoded = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise SpanContextCorruptedException("Format.BINARY payload is not a span context")
        if not isinstance(decoded, dict):
            raise SpanContextCorruptedException("Format.BINARY payload is not a span context")
        return _TEXT.extract(decoded)
