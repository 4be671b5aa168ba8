"""Propagation through ``bytearray`` carriers (BINARY).

The payload is a 4-byte big-endian length followed by UTF-8 JSON. Upstream used
pickle, which must never be fed untrusted input; JSON is safe to decode.
"""

from __future__ import annotations

import json
import struct
from typing import Any, Optional

from opentracing import InvalidCarrierException, SpanContextCorruptedException

from .context import SpanContext
from .propagator import Propagator

_LENGTH = struct.Struct(">I")


class BinaryPropagator(Propagator):
    """Appends the encoded context on inject; decodes it from the start on extract."""

    def inject(self, span_context: SpanContext, carrier: Any) -> None:
        if type(carrier) is not bytearray:
            raise InvalidCarrierException("carrier must be a bytearray")
        payload = json.dumps(
            {
                "trace_id": span_context.trace_id,
                "span_id": span_context.span_id,
                "baggage": span_context.baggage,
            }
        ).encode("utf-8")
        carrier.extend(_LENGTH.pack(len(payload)))
        carrier.extend(payload)

    def extract(self, carrier: Any) -> Optional[SpanContext]:
        if type(carrier) is not bytearray:
            raise InvalidCarrierException("carrier must be a bytearray")
        try:
            (length,) = _LENGTH.unpack_from(carrier, 0)
            end = _LENGTH.size + length
            if end > len(carrier):
                raise ValueError("truncated payload")
            state = json.loads(bytes(carrier[_LENGTH.size : end]).decode("utf-8"))
            trace_id, span_id = state["trace_id"], state["span_id"]
            baggage = state["baggage"]
            if not (isinstance(trace_id, int) and isinstance(span_id, int)):
                raise ValueError("ids must be integers")
            if not isinstance(baggage, dict):
                raise ValueError("baggage must be an object")
        except (struct.error, ValueError, KeyError, TypeError) as exc:
            raise SpanContextCorruptedException(str(exc))
        return SpanContext(trace_id=trace_id, span_id=span_id, baggage=baggage)
