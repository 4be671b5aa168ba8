"""jaeger-client's headers: ``uber-trace-id`` and ``uberctx-<key>`` baggage.

``uber-trace-id`` is ``trace:span:parent:flags`` in hex (``%3A`` accepted
for ``:``, as jaeger-client percent-decodes it); IDs of 1-32 / 1-16 hex
characters, flags bit 1 = sampled, bit 2 = debug. The parent field is
deprecated upstream: it is read, and written as ``0``. Anything malformed
gives no context; ``uberctx-`` baggage is kept on its own, as ``ot-baggage-``
is. For users moving off jaeger-client.
"""

from __future__ import annotations

import logging
import re
from typing import Dict, Optional, Tuple
from urllib.parse import quote, unquote

from zipkin_tracer.context import ZipkinSpanContext
from zipkin_tracer.ids import format_span_id, format_trace_id
from zipkin_tracer.propagation.carrier import DropCounter, Fields, first

logger = logging.getLogger(__name__)

TRACE_HEADER = "uber-trace-id"
BAGGAGE_PREFIX = "uberctx-"
_TRACE = re.compile(r"([0-9a-f]{1,32}):([0-9a-f]{1,16}):([0-9a-f]{1,16}):([0-9a-f]{1,2})\Z")
_SAMPLED, _DEBUG = 0x01, 0x02


def parse(value: str) -> Optional[Tuple[int, int, Optional[int], bool, bool]]:
    """``(trace, span, parent, sampled, debug)`` or None."""
    match = _TRACE.match(unquote(value.strip()).lower())
    if match is None:
        return None
    trace_id, span_id, parent_id, flags = (int(group, 16) for group in match.groups())
    if not trace_id or not span_id:
        return None
    debug = bool(flags & _DEBUG)
    return trace_id, span_id, parent_id or None, debug or bool(flags & _SAMPLED), debug


class JaegerPropagator:
    __slots__ = ("drops",)
    fields = (TRACE_HEADER,)

    def __init__(self, drops: Optional[DropCounter] = None) -> None:
        self.drops = drops or DropCounter()

    def headers(self, context: ZipkinSpanContext) -> Dict[str, str]:
        out: Dict[str, str] = {}
        if context.trace_id:
            flags = (_SAMPLED if context.sampled or context.debug else 0) | (
                _DEBUG if context.debug else 0
            )
            trace_id = format_trace_id(context.trace_id)
            out[TRACE_HEADER] = f"{trace_id}:{format_span_id(context.span_id)}:0:{flags:x}"
        for key, value in context.baggage.items():
            try:
                out[BAGGAGE_PREFIX + quote(str(key).lower())] = quote(str(value))
            except Exception as error:
                self.drops.drop("baggage_unencodable", f"{type(error).__name__} in uberctx")
        return out

    def extract_fields(self, fields: Fields) -> Optional[ZipkinSpanContext]:
        baggage: Dict[str, str] = {}
        for name, values in fields.items():
            if name.startswith(BAGGAGE_PREFIX) and len(name) > len(BAGGAGE_PREFIX):
                baggage[unquote(name[len(BAGGAGE_PREFIX) :])] = unquote(values[0])
        raw = first(fields, TRACE_HEADER)
        parsed = None if raw is None else parse(raw)
        if parsed is None:
            if raw is not None:
                logger.debug("ignored uber-trace-id %r", raw[:80])
            if baggage:
                return ZipkinSpanContext(0, 0, None, None, False, baggage, True)
            return None
        trace_id, span_id, parent_id, sampled, debug = parsed
        if parent_id == span_id:
            parent_id = None
        return ZipkinSpanContext(
            trace_id, span_id, parent_id, sampled, debug, baggage or None, True
        )
