"""Test helpers: a reporter that keeps spans in memory.

>>> from zipkin_tracer import ZipkinTracer
>>> from zipkin_tracer.testing import InMemoryReporter
>>> reporter = InMemoryReporter()
>>> tracer = ZipkinTracer("svc", reporter=reporter)
>>> tracer.start_span("work").finish()
>>> reporter.json_spans()[0]["name"]
'work'
"""

from __future__ import annotations

import threading
from typing import Any, Dict, List, Optional

from zipkin_tracer.reporting.base import SpanReporter

__all__ = ["InMemoryReporter"]


class InMemoryReporter(SpanReporter):
    """Keeps every reported span in ``.spans`` (thread-safe); sends nothing."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.spans: List[Any] = []
        self.closed = False

    def report(self, span: Any) -> None:
        with self._lock:
            self.spans.append(span)

    def json_spans(self) -> List[Dict[str, Any]]:
        """Each reported span as its Zipkin v2 JSON object, in report order."""
        from zipkin_tracer.encoding.json_v2 import span_to_dict

        with self._lock:
            spans = list(self.spans)
        return [span_to_dict(span) for span in spans]

    def clear(self) -> None:
        with self._lock:
            self.spans.clear()

    def flush(self, timeout: Optional[float] = None) -> bool:
        return True

    def close(self, timeout: Optional[float] = None) -> bool:
        self.closed = True
        return True

    @property
    def metrics(self) -> Dict[str, Any]:
        with self._lock:
            return {"spans": len(self.spans)}
