"""``MockSpan``: a span that keeps everything in memory for inspection by tests."""

from __future__ import annotations

import time
from threading import Lock
from typing import TYPE_CHECKING, Any, Dict, List, Optional, cast

from opentracing import Span

from .context import SpanContext

if TYPE_CHECKING:
    from .tracer import MockTracer


class LogData:
    """One ``log_kv`` call: its fields and its timestamp (default: now)."""

    def __init__(self, key_values: Dict[str, Any], timestamp: Optional[float] = None) -> None:
        self.key_values = key_values
        self.timestamp = time.time() if timestamp is None else timestamp


class MockSpan(Span):
    """Records name, tags, logs, times and its parent id in public attributes."""

    def __init__(
        self,
        tracer: MockTracer,
        operation_name: Optional[str] = None,
        context: Optional[SpanContext] = None,
        parent_id: Optional[int] = None,
        tags: Optional[Dict[Any, Any]] = None,
        start_time: Optional[float] = None,
    ) -> None:
        super().__init__(tracer, context if context is not None else SpanContext())
        self._mock_tracer = tracer
        self._lock = Lock()
        self.operation_name = operation_name
        self.start_time = start_time
        self.parent_id = parent_id
        self.tags: Dict[Any, Any] = tags if tags is not None else {}
        self.finish_time: float = -1
        self.finished = False
        self.logs: List[LogData] = []

    @property
    def context(self) -> SpanContext:
        """The mock :class:`SpanContext` (trace_id, span_id, baggage)."""
        return cast(SpanContext, self._context)

    def set_operation_name(self, operation_name: str) -> MockSpan:
        with self._lock:
            self.operation_name = operation_name
        return self

    def set_tag(self, key: str, value: Any) -> MockSpan:
        with self._lock:
            self.tags[key] = value
        return self

    def log_kv(self, key_values: Dict[str, Any], timestamp: Optional[float] = None) -> MockSpan:
        with self._lock:
            self.logs.append(LogData(key_values, timestamp))
        return self

    def finish(self, finish_time: Optional[float] = None) -> None:
        """Mark finished and report to the tracer (every call is recorded, as upstream)."""
        with self._lock:
            self.finished = True
            self.finish_time = time.time() if finish_time is None else finish_time
        self._mock_tracer._append_finished_span(self)

    def set_baggage_item(self, key: str, value: str) -> MockSpan:
        with self._lock:
            self._context = self.context.with_baggage_item(key, value)
        return self

    def get_baggage_item(self, key: str) -> Optional[str]:
        return self.context.baggage.get(key)
