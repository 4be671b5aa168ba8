"""The recipes of README.rst's "Context across threads and asyncio": coroutines and threads."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional

from opentracing.mocktracer import MockTracer
from opentracing.scope_managers import ThreadLocalScopeManager
from opentracing.scope_managers.contextvars import ContextVarsScopeManager
from zipkin_tracer.logs import TraceContextFilter


def by_name(tracer: MockTracer) -> Dict[str, Any]:
    return {span.operation_name: span for span in tracer.finished_spans()}


def is_child(child: Any, parent: Any) -> bool:
    return bool(
        child.parent_id == parent.context.span_id
        and child.context.trace_id == parent.context.trace_id
    )


# asyncio: ContextVarsScopeManager carries the active span into awaited
# coroutines and into tasks, which copy the context when they are created.


def test_awaited_coroutines_are_children() -> None:
    tracer = MockTracer(scope_manager=ContextVarsScopeManager())

    async def fetch(name: str) -> None:
        with tracer.start_active_span(name):
            pass

    async def handler() -> None:
        with tracer.start_active_span("handler"):
            await fetch("awaited")
            await asyncio.gather(fetch("task-a"), fetch("task-b"))
            await asyncio.get_running_loop().create_task(fetch("created"))
        assert tracer.active_span is None

    asyncio.run(handler())
    spans = by_name(tracer)
    for name in ("awaited", "task-a", "task-b", "created"):
        assert is_child(spans[name], spans["handler"]), name


def test_concurrent_tasks_do_not_nest_under_each_other() -> None:
    """Two interleaved requests: each child belongs to its own request."""
    tracer = MockTracer(scope_manager=ContextVarsScopeManager())

    async def request(name: str, started: asyncio.Event, other: asyncio.Event) -> None:
        with tracer.start_active_span(name):
            started.set()
            await other.wait()  # the other request is now active too
            with tracer.start_active_span(f"{name}-child"):
                pass

    async def main() -> None:
        a, b = asyncio.Event(), asyncio.Event()
        await asyncio.gather(request("a", a, b), request("b", b, a))

    asyncio.run(main())
    spans = by_name(tracer)
    assert spans["a"].parent_id is None and spans["b"].parent_id is None
    assert is_child(spans["a-child"], spans["a"])
    assert is_child(spans["b-child"], spans["b"])


def test_log_lines_of_interleaved_tasks_carry_their_own_ids() -> None:
    tracer = MockTracer(scope_manager=ContextVarsScopeManager())
    log_filter = TraceContextFilter(tracer)
    seen: Dict[str, str] = {}

    async def request(name: str, started: asyncio.Event, other: asyncio.Event) -> None:
        with tracer.start_active_span(name) as scope:
            started.set()
            await other.wait()
            record = logging.LogRecord("t", logging.INFO, __file__, 1, name, None, None)
            log_filter.filter(record)
            seen[name] = record.span_id
            assert record.span_id == format(scope.span.context.span_id, "016x")

    async def main() -> None:
        a, b = asyncio.Event(), asyncio.Event()
        await asyncio.gather(request("a", a, b), request("b", b, a))

    asyncio.run(main())
    assert seen["a"] != seen["b"]


def test_to_thread_carries_the_context() -> None:
    tracer = MockTracer(scope_manager=ContextVarsScopeManager())

    def blocking_io() -> None:
        with tracer.start_active_span("in-thread"):
            pass

    async def handler() -> None:
        with tracer.start_active_span("handler"):
            await asyncio.to_thread(blocking_io)

    asyncio.run(handler())
    spans = by_name(tracer)
    assert is_child(spans["in-thread"], spans["handler"])


# Threads: no scope manager carries the active span into a new thread; hand
# the parent over explicitly.


def test_thread_pool_task_given_the_parent_is_its_child() -> None:
    tracer = MockTracer(scope_manager=ThreadLocalScopeManager())

    def work(parent: Any, name: str) -> None:
        with tracer.start_span(name, child_of=parent):
            pass

    with tracer.start_active_span("request") as scope:
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = [pool.submit(work, scope.span, f"job-{i}") for i in range(4)]
            for future in futures:
                future.result()
    spans = by_name(tracer)
    for i in range(4):
        assert is_child(spans[f"job-{i}"], spans["request"])


def test_without_the_parent_a_pool_task_starts_a_new_trace() -> None:
    """The pitfall the recipe avoids: thread-local context stays behind."""
    tracer = MockTracer(scope_manager=ThreadLocalScopeManager())

    def work() -> Optional[Any]:
        active = tracer.active_span
        with tracer.start_span("orphan"):
            pass
        return active

    with tracer.start_active_span("request"):
        with ThreadPoolExecutor(max_workers=1) as pool:
            assert pool.submit(work).result() is None
    spans = by_name(tracer)
    assert spans["orphan"].parent_id is None
    assert spans["orphan"].context.trace_id != spans["request"].context.trace_id


def test_reactivating_the_parent_in_the_thread_makes_it_implicit() -> None:
    """For code in the thread that relies on the active span (instrumented
    libraries, log correlation): activate the parent without finishing it."""
    tracer = MockTracer(scope_manager=ThreadLocalScopeManager())

    def work(parent: Any) -> None:
        with tracer.scope_manager.activate(parent, finish_on_close=False):
            with tracer.start_active_span("implicit"):
                pass
        assert tracer.active_span is None

    with tracer.start_active_span("request") as scope:
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(work, scope.span).result()
        assert not scope.span.finished  # still owned by the request
    spans = by_name(tracer)
    assert is_child(spans["implicit"], spans["request"])


def test_copy_context_carries_contextvars_scope_into_a_pool() -> None:
    tracer = MockTracer(scope_manager=ContextVarsScopeManager())
    results: List[Any] = []

    def work() -> None:
        results.append(tracer.active_span)
        with tracer.start_active_span("pooled"):
            pass

    with tracer.start_active_span("request") as scope:
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(contextvars.copy_context().run, work).result()
    assert results == [scope.span]
    spans = by_name(tracer)
    assert is_child(spans["pooled"], spans["request"])
