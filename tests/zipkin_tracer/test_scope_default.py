"""The default scope manager: right parents in interleaved asyncio tasks, in
``asyncio.to_thread`` and ``run_in_executor`` work, and in plain threads."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from typing import Dict, List, Optional

from tests.support.tracers import make_tracer
from zipkin_tracer import ZipkinTracer, executor_context
from zipkin_tracer.testing import InMemoryReporter

REQUESTS = 20


def parents(reporter: InMemoryReporter) -> Dict[str, Optional[str]]:
    """Span name → parent span name (None for a root)."""
    spans = reporter.json_spans()
    names = {span["id"]: span["name"] for span in spans}
    return {span["name"]: names.get(span.get("parentId", "")) for span in spans}


def work_in_thread(tracer: ZipkinTracer, name: str) -> None:
    with tracer.start_active_span(name):
        pass


async def request(
    tracer: ZipkinTracer, index: int, barrier: asyncio.Event, waiting: List[int]
) -> None:
    loop = asyncio.get_running_loop()
    with tracer.start_active_span(f"request-{index}"):
        waiting.append(index)
        if len(waiting) == REQUESTS:
            barrier.set()
        await barrier.wait()  # every request is active at once from here on
        with tracer.start_active_span(f"child-{index}"):
            await asyncio.sleep(0)
            with tracer.start_active_span(f"grandchild-{index}"):
                await asyncio.sleep(0)
        await asyncio.gather(
            asyncio.to_thread(work_in_thread, tracer, f"to_thread-{index}"),
            loop.run_in_executor(None, work_in_thread, tracer, f"executor-{index}"),
            loop.create_task(asyncio.to_thread(work_in_thread, tracer, f"task-{index}")),
        )
        assert tracer.active_span is not None
        assert tracer.active_span.operation_name == f"request-{index}"  # type: ignore[attr-defined]


def test_interleaved_tasks_and_their_threads_get_their_own_parent() -> None:
    reporter = InMemoryReporter()
    tracer = make_tracer(reporter=reporter)

    async def main() -> None:
        barrier = asyncio.Event()
        waiting: List[int] = []
        await asyncio.gather(*(request(tracer, i, barrier, waiting) for i in range(REQUESTS)))
        assert tracer.active_span is None

    asyncio.run(main())
    found = parents(reporter)
    assert len(found) == REQUESTS * 6
    for i in range(REQUESTS):
        assert found[f"request-{i}"] is None
        assert found[f"child-{i}"] == f"request-{i}"
        assert found[f"grandchild-{i}"] == f"child-{i}"
        for kind in ("to_thread", "executor", "task"):
            assert found[f"{kind}-{i}"] == f"request-{i}", kind


def test_threads_have_their_own_active_span() -> None:
    reporter = InMemoryReporter()
    tracer = make_tracer(reporter=reporter)
    both_active = threading.Barrier(2, timeout=10)

    def thread_work(name: str) -> None:
        assert tracer.active_span is None  # a new thread starts with nothing active
        with tracer.start_active_span(name):
            both_active.wait()
            with tracer.start_active_span(f"{name}-child"):
                pass

    threads = [threading.Thread(target=thread_work, args=(f"t{i}",)) for i in range(2)]
    with tracer.start_active_span("main"):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    found = parents(reporter)
    assert found == {"t0-child": "t0", "t1-child": "t1", "t0": None, "t1": None, "main": None}


def test_explicit_thread_local_manager_installs_nothing() -> None:
    from opentracing.scope_managers import ThreadLocalScopeManager

    executor_context.uninstall()
    try:
        manager = ThreadLocalScopeManager()
        assert make_tracer(scope_manager=manager).scope_manager is manager
        assert not executor_context.installed()
        make_tracer()
        assert executor_context.installed()
    finally:
        executor_context.install()


def test_without_the_patch_executor_work_starts_a_new_trace() -> None:
    """What install() fixes: stock run_in_executor drops the caller's context."""
    reporter = InMemoryReporter()
    tracer = make_tracer(reporter=reporter)

    async def main() -> None:
        with tracer.start_active_span("request"):
            await asyncio.get_running_loop().run_in_executor(None, work_in_thread, tracer, "bare")

    executor_context.uninstall()
    try:
        asyncio.run(main())
    finally:
        executor_context.install()
    assert parents(reporter)["bare"] is None


def _square(value: int) -> int:
    return value * value


def test_process_pools_are_untouched() -> None:
    make_tracer()
    assert executor_context.installed()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        with concurrent.futures.ProcessPoolExecutor(1) as pool:
            assert await loop.run_in_executor(pool, _square, 7) == 49  # a Context cannot be pickled

    asyncio.run(main())


def test_install_is_idempotent() -> None:
    executor_context.install()
    executor_context.install()
    executor_context.uninstall()
    assert not executor_context.installed()
    executor_context.uninstall()
    executor_context.install()
    assert executor_context.installed()
