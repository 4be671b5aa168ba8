"""Propagation through ``dict`` carriers (TEXT_MAP and HTTP_HEADERS)."""

from __future__ import annotations

from typing import Any, Dict, Optional

from opentracing import InvalidCarrierException, SpanContextCorruptedException

from .context import SpanContext
from .propagator import Propagator

# Named in lower case, as upstream names them, for code that imports them.
prefix_tracer_state = "ot-tracer-"
prefix_baggage = "ot-baggage-"
field_name_trace_id = prefix_tracer_state + "traceid"
field_name_span_id = prefix_tracer_state + "spanid"
field_count = 2  # the tracer-state fields a valid carrier holds


class TextPropagator(Propagator):
    """Ids as lowercase hex under ``ot-tracer-*``, baggage under ``ot-baggage-<key>``.

    Extraction matches keys case-insensitively (HTTP may change their case) and
    raises ``SpanContextCorruptedException`` unless both ids are present and valid.
    """

    def inject(self, span_context: SpanContext, carrier: Any) -> None:
        if not hasattr(carrier, "__setitem__"):
            raise InvalidCarrierException("carrier must be a dict-like object")
        carrier[field_name_trace_id] = f"{span_context.trace_id:x}"
        carrier[field_name_span_id] = f"{span_context.span_id:x}"
        for key, value in span_context.baggage.items():
            carrier[prefix_baggage + key] = value

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
            if key == field_name_trace_id:
                trace_id = _parse_id(key, value)
            elif key == field_name_span_id:
                span_id = _parse_id(key, value)
            elif key.startswith(prefix_baggage):
                baggage[key[len(prefix_baggage) :]] = value
        if trace_id is None or span_id is None:
            raise SpanContextCorruptedException("both trace id and span id are required")
        return SpanContext(trace_id=trace_id, span_id=span_id, baggage=baggage)


def _parse_id(key: str, value: Any) -> int:
    try:
        return int(value, 16)
    except (TypeError, ValueError):
        raise SpanContextCorruptedException(f"{key} is not a hex id: {value!r}")
