"""MockSpan and its context."""

from __future__ import annotations

import time

from opentracing import SpanContext as BaseSpanContext
from opentracing.mocktracer import MockTracer
from opentracing.mocktracer.context import SpanContext
from opentracing.mocktracer.span import LogData, MockSpan


def test_mutators_record_and_chain() -> None:
    span = MockTracer().start_span("op")
    assert span.set_operation_name("renamed").set_tag("k", 1).log_kv({"a": 1}, 3.0) is span
    assert span.operation_name == "renamed"
    assert span.tags == {"k": 1}
    assert [(log.key_values, log.timestamp) for log in span.logs] == [({"a": 1}, 3.0)]


def test_deprecated_log_helpers_end_up_in_logs() -> None:
    span = MockTracer().start_span("op")
    span.log_event("ev", payload=2).log(event="e2", timestamp=4.0)
    assert [log.key_values for log in span.logs] == [
        {"event": "ev", "payload": 2},
        {"event": "e2"},
    ]
    assert span.logs[1].timestamp == 4.0


def test_baggage_replaces_the_context() -> None:
    span = MockTracer().start_span("op")
    before = span.context
    assert span.set_baggage_item("k", "v") is span
    assert span.context is not before
    assert before.baggage == {}
    assert span.context.baggage == {"k": "v"}
    assert (span.context.trace_id, span.context.span_id) == (before.trace_id, before.span_id)
    assert span.get_baggage_item("k") == "v"
    assert span.get_baggage_item("missing") is None


def test_context_defaults() -> None:
    ctx = SpanContext()
    assert isinstance(ctx, BaseSpanContext)
    assert ctx.trace_id is None and ctx.span_id is None
    assert ctx.baggage is BaseSpanContext.EMPTY_BAGGAGE
    new = ctx.with_baggage_item("a", "b")
    assert new.baggage == {"a": "b"} and ctx.baggage == {}


def test_log_data_timestamp_defaults_to_now() -> None:
    before = time.time()
    log = LogData({"a": 1})
    assert before <= log.timestamp <= time.time()


def test_constructor_defaults() -> None:
    tracer = MockTracer()
    span = MockSpan(tracer)
    assert span.tracer is tracer
    assert span.operation_name is None and span.tags == {} and span.logs == []
