"""The span context of the mock tracer: ids plus baggage."""

from __future__ import annotations

from typing import Dict, Optional

import opentracing


class SpanContext(opentracing.SpanContext):
    """Immutable ids and baggage; baggage changes produce a new context."""

    def __init__(
        self,
        trace_id: Optional[int] = None,
        span_id: Optional[int] = None,
        baggage: Optional[Dict[str, str]] = None,
    ) -> None:
        self.trace_id = trace_id
        self.span_id = span_id
        self._baggage = opentracing.SpanContext.EMPTY_BAGGAGE if baggage is None else baggage

    @property
    def baggage(self) -> Dict[str, str]:
        """Baggage items of this context (do not mutate)."""
        return self._baggage

    def with_baggage_item(self, key: str, value: str) -> SpanContext:
        """A copy of this context with one more baggage item."""
        baggage = dict(self._baggage)
        baggage[key] = value
        return SpanContext(trace_id=self.trace_id, span_id=self.span_id, baggage=baggage)
