"""opentracing_instrumentation (Tornado < 6 only) imports and runs on our API."""

from __future__ import annotations

from typing import Any, Iterator, List

import opentracing_instrumentation
import pytest
from opentracing_instrumentation import request_context
from tornado import gen
from tornado.ioloop import IOLoop

import opentracing
from opentracing.mocktracer import MockTracer
from opentracing.scope_managers.tornado import TornadoScopeManager

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_imports_against_our_api() -> None:
    assert request_context.ThreadSafeStackContext is not None
    assert opentracing_instrumentation.get_current_span is request_context.get_current_span


@pytest.fixture
def tracer() -> Iterator[MockTracer]:
    tracer = MockTracer(TornadoScopeManager())
    opentracing.set_global_tracer(tracer)
    try:
        yield tracer
    finally:
        opentracing._reset_global_tracer()


def test_span_in_stack_context_follows_a_coroutine(tracer: MockTracer) -> None:
    span = tracer.start_span("request")
    seen: List[Any] = []

    @gen.coroutine
    def handler() -> Any:
        yield gen.moment
        seen.append(request_context.get_current_span())
        with tracer.start_active_span("child") as scope:
            yield gen.moment
            seen.append(scope.span.parent_id)

    @gen.coroutine
    def main() -> Any:
        with request_context.span_in_stack_context(span):
            future = handler()
        yield future

    IOLoop.current().run_sync(main, timeout=10)

    assert seen == [span, span.context.span_id]
    assert [s.operation_name for s in tracer.finished_spans()] == ["child"]
