"""Propagation through ``dict`` carriers (TEXT_MAP and HTTP_HEADERS)."""

from __future__ import annotations

from typing import Any, Dict, Optional

from opentracing import InvalidCarrierException, SpanContextCorruptedException

from .context import SpanContext
from .propagator import Propagator

PREFIX_TRACER_STATE = "ot-tracer-"
PREFIX_BAGGAGE = "ot-baggage-"
FIELD_NAME_TRACE_ID = PREFIX_TRACER_STATE + "traceid"
FIELD_NAME_SPAN_ID = PREFIX_TRACER_STATE + "spanid"


class TextPropagator(Propagator):
    """Ids as lowercase hex under ``ot-tracer-*``, baggage under ``ot-baggage-<key>``.

    Extraction matches keys case-insensitively (HTTP may change their case) and
    raises ``SpanContextCorruptedException`` unless both ids are present and valid.
    """

    def inject(self, span_context: SpanContext, carrier: Any) -> None:
        if not hasattr(carrier, "__setitem__"):
            raise InvalidCarrierException("carrier must be a dict-like object")
        carrier[FIELD_NAME_TRACE_ID] = f"{span_context.trace_id:x}"
        carrier[FIELD_NAME_SPAN_ID] = f"{span_context.span_id:x}"
        for key, value in span_context.baggage.items():
            carrier[PREFIX_BAGGAGE + key] = value

    def extract(self, carrier: Any) -> Optional[SpanContext]:
        try:
            items = list(carrier.items())
        except AttributeError:
            raise InvalidCarrierException("carrier must be a dict-like object")
        trace_id: Optional[int] = None
        span_id: Optional[int] = None
        baggage: Dict[str, str] = {}
        for raw_key, value in items:
            key = str(raw_key).lower()
            if key == FIELD_NAME_TRACE_ID:
                trace_id = _parse_id(key, value)
            elif key == FIELD_NAME_SPAN_ID:
                span_id = _parse_id(key, value)
            elif key.startswith(PREFIX_BAGGAGE):
                baggage[key[len(PREFIX_BAGGAGE) :]] = value
        if trace_id is None or span_id is None:
            raise SpanContextCorruptedException("both trace id and span id are required")
        return SpanContext(trace_id=trace_id, span_id=span_id, baggage=baggage)


def _parse_id(key: str, value: Any) -> int:
    try:
        return int(value, 16)
    except (TypeError, ValueError):
        raise SpanContextCorruptedException(f"{key} is not a hex id: {value!r}")
