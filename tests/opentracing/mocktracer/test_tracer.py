"""MockTracer: ids, parenting rules, finished spans and scopes."""

from __future__ import annotations

import threading

import pytest

import opentracing
from opentracing import Format, UnsupportedFormatException, child_of, follows_from
from opentracing.mocktracer import MockTracer, Propagator
from opentracing.mocktracer.context import SpanContext
from opentracing.mocktracer.span import MockSpan
from opentracing.scope_managers import ThreadLocalScopeManager


def test_defaults() -> None:
    tracer = MockTracer()
    assert isinstance(tracer, opentracing.Tracer)
    assert isinstance(tracer.scope_manager, ThreadLocalScopeManager)
    assert tracer.finished_spans() == []
    assert tracer.active_span is None


def test_ids_are_consecutive() -> None:
    tracer = MockTracer()
    root = tracer.start_span("root")
    child = tracer.start_span("child", child_of=root)
    assert (root.context.trace_id, root.context.span_id) == (2, 1)
    assert (child.context.trace_id, child.context.span_id) == (2, 3)
    assert child.parent_id == 1


def test_span_fields() -> None:
    tracer = MockTracer()
    tags = {"k": "v"}
    span = tracer.start_span("op", tags=tags, start_time=10.0)
    assert isinstance(span, MockSpan)
    assert span.operation_name == "op"
    assert span.tags is tags  # ownership passes to the tracer
    assert span.start_time == 10.0
    assert span.parent_id is None
    assert span.finished is False and span.finish_time == -1


def test_start_time_defaults_to_now() -> None:
    span = MockTracer().start_span("op")
    assert isinstance(span.start_time, float) and span.start_time > 0


def test_finished_spans_is_a_copy_and_reset_clears() -> None:
    tracer = MockTracer()
    span = tracer.start_span("a")
    span.finish(finish_time=5.0)
    spans = tracer.finished_spans()
    assert spans == [span] and span.finished and span.finish_time == 5.0
    spans.clear()
    assert tracer.finished_spans() == [span]
    tracer.reset()
    assert tracer.finished_spans() == []


def test_double_finish_is_recorded_twice() -> None:
    tracer = MockTracer()
    span = tracer.start_span("a")
    span.finish()
    span.finish()
    assert tracer.finished_spans() == [span, span]


def test_parent_precedence() -> None:
    tracer = MockTracer()
    explicit = tracer.start_span("explicit")
    ref = tracer.start_span("ref")
    with tracer.start_active_span("active") as scope:
        active_id = scope.span.context.span_id  # type: ignore[attr-defined]
        by_child_of = tracer.start_span("a", child_of=explicit.context)
        by_ref = tracer.start_span("b", references=[follows_from(ref.context)])
        by_first_real_ref = tracer.start_span(
            "c", references=[child_of(None), child_of(ref.context), child_of(explicit.context)]
        )
        by_active = tracer.start_span("d")
        by_active_despite_none_ref = tracer.start_span("e", references=[child_of(None)])
        root = tracer.start_span("f", ignore_active_span=True)
    assert by_child_of.parent_id == explicit.context.span_id
    assert by_ref.parent_id == ref.context.span_id
    assert by_first_real_ref.parent_id == ref.context.span_id
    assert by_active.parent_id == active_id
    assert by_active_despite_none_ref.parent_id == active_id
    assert root.parent_id is None


def test_child_shares_trace_and_copies_baggage() -> None:
    tracer = MockTracer()
    parent = tracer.start_span("p").set_baggage_item("k", "v")
    child = tracer.start_span("c", child_of=parent)
    assert child.context.trace_id == parent.context.trace_id
    assert child.get_baggage_item("k") == "v"
    child.set_baggage_item("k2", "v2")
    assert parent.get_baggage_item("k2") is None


def test_start_active_span_activates_and_finishes() -> None:
    tracer = MockTracer()
    with tracer.start_active_span("outer") as outer:
        assert tracer.active_span is outer.span
        with tracer.start_active_span("inner", finish_on_close=False) as inner:
            assert inner.span.parent_id == outer.span.context.span_id  # type: ignore[attr-defined]
        assert inner.span.finished is False  # type: ignore[attr-defined]
    assert tracer.finished_spans() == [outer.span]
    assert tracer.active_span is None


def test_error_on_exception_is_recorded() -> None:
    tracer = MockTracer()
    with pytest.raises(RuntimeError):
        with tracer.start_active_span("op"):
            raise RuntimeError("kaput")
    (span,) = tracer.finished_spans()
    assert span.tags == {"error": True}
    (log,) = span.logs
    assert log.key_values["event"] == "error"
    assert log.key_values["message"] == "kaput"
    assert log.key_values["error.kind"] is RuntimeError


def test_unsupported_format() -> None:
    tracer = MockTracer()
    span = tracer.start_span("op")
    with pytest.raises(UnsupportedFormatException):
        tracer.inject(span.context, "unknown", {})
    with pytest.raises(UnsupportedFormatException):
        tracer.extract("unknown", {})


def test_register_propagator() -> None:
    class Fixed(Propagator):
        def inject(self, span_context: SpanContext, carrier: dict) -> None:  # type: ignore[override]
            carrier["id"] = span_context.span_id

        def extract(self, carrier: dict) -> SpanContext:  # type: ignore[override]
            return SpanContext(trace_id=1, span_id=carrier["id"])

    tracer = MockTracer()
    tracer.register_propagator("custom", Fixed())
    span = tracer.start_span("op")
    carrier: dict = {}
    tracer.inject(span.context, "custom", carrier)
    assert carrier == {"id": span.context.span_id}
    extracted = tracer.extract("custom", carrier)
    assert extracted is not None and extracted.span_id == span.context.span_id  # type: ignore[attr-defined]
    tracer.register_propagator(Format.TEXT_MAP, Propagator())
    assert tracer.extract(Format.TEXT_MAP, {}) is None


def test_inject_of_a_foreign_context_writes_nothing() -> None:
    carrier: dict = {}
    MockTracer().inject(opentracing.SpanContext(), Format.TEXT_MAP, carrier)
    assert carrier == {}


def test_ids_are_unique_across_threads() -> None:
    tracer = MockTracer()
    spans = []

    def work() -> None:
        for _ in range(200):
            spans.append(tracer.start_span("x"))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [s.context.span_id for s in spans] + [s.context.trace_id for s in spans]
    assert len(set(ids)) == len(ids) == 1600
