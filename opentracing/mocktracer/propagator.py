"""``Propagator``: one carrier format's inject/extract, pluggable into MockTracer."""

from __future__ import annotations

from typing import Any, Optional

from .context import SpanContext


class Propagator:
    """No-op base; subclasses encode a mock :class:`SpanContext` into one carrier type."""

    def inject(self, span_context: SpanContext, carrier: Any) -> None:
        """Write ``span_context`` into ``carrier``."""

    def extract(self, carrier: Any) -> Optional[SpanContext]:
        """Read a span context from ``carrier``."""
        return None
