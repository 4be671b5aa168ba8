"""TornadoScopeManager on Tornado 4.5 and 5.1: scopes in a ``tornado.stack_context``."""

from __future__ import annotations

import threading
import unittest
from typing import Any, Callable, List, Optional
from unittest import mock

import pytest
from tornado import gen, stack_context
from tornado.ioloop import IOLoop

from opentracing import ScopeManager, Span
from opentracing.harness.scope_check import ScopeCompatibilityCheckMixin
from opentracing.scope_managers.tornado import (
    ThreadSafeStackContext,
    TornadoScopeManager,
    tracer_stack_context,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def new_span() -> Span:
    return mock.MagicMock(spec=Span)


def active_span(manager: TornadoScopeManager) -> Optional[Span]:
    scope = manager.active
    return None if scope is None else scope.span


def run(coroutine: Callable[[], Any]) -> None:
    IOLoop.current().run_sync(coroutine, timeout=10)


class TestTornadoScopeManager(ScopeCompatibilityCheckMixin, unittest.TestCase):
    def scope_manager(self) -> ScopeManager:
        return TornadoScopeManager()

    def run_test(self, test_fn: Callable[[], None]) -> None:
        @gen.coroutine
        def body() -> Any:
            test_fn()

        with tracer_stack_context():
            run(body)


def test_tracer_stack_context_is_thread_safe_stack_context() -> None:
    assert isinstance(tracer_stack_context(), ThreadSafeStackContext)
    assert isinstance(tracer_stack_context(), stack_context.StackContext)


def test_span_follows_gen_coroutine_children_yields_and_callbacks() -> None:
    manager = TornadoScopeManager()
    parent, child_span = new_span(), new_span()
    seen: List[Any] = []
    callback_ran = threading.Event()

    @gen.coroutine
    def child() -> Any:
        seen.append(("child start", active_span(manager)))
        yield gen.moment
        with manager.activate(child_span, True):
            yield gen.sleep(0.001)
            seen.append(("child inner", active_span(manager)))
        seen.append(("child end", active_span(manager)))

    def callback() -> None:
        seen.append(("callback", active_span(manager)))
        callback_ran.set()

    @gen.coroutine
    def handler() -> Any:
        with manager.activate(parent, True):
            yield child()
            seen.append(("after child", active_span(manager)))
            IOLoop.current().add_callback(callback)
            yield gen.moment
            seen.append(("after callback", active_span(manager)))
        seen.append(("closed", active_span(manager)))

    @gen.coroutine
    def main() -> Any:
        with tracer_stack_context():
            future = handler()
        assert manager.active is None  # nothing leaks out of the context
        yield future

    run(main)

    assert callback_ran.is_set()
    assert seen == [
        ("child start", parent),
        ("child inner", child_span),
        ("child end", parent),
        ("after child", parent),
        ("callback", parent),
        ("after callback", parent),
        ("closed", None),
    ]
    child_span.finish.assert_called_once_with()
    parent.finish.assert_called_once_with()


def test_concurrent_requests_keep_their_own_spans_across_yields() -> None:
    manager = TornadoScopeManager()
    trails: dict = {}

    @gen.coroutine
    def handle(name: str, span: Span) -> Any:
        with manager.activate(span, False):
            for _ in range(5):
                yield gen.moment
                trails.setdefault(name, []).append(active_span(manager) is span)

    def start(name: str) -> Any:
        with tracer_stack_context():
            return handle(name, new_span())

    @gen.coroutine
    def main() -> Any:
        yield [start("a"), start("b"), start("c")]

    run(main)

    assert trails == {name: [True] * 5 for name in "abc"}


def test_outside_a_stack_context_scopes_are_per_thread() -> None:
    manager = TornadoScopeManager()
    span = new_span()
    other: List[Optional[Span]] = []
    with manager.activate(span, False):
        thread = threading.Thread(target=lambda: other.append(active_span(manager)))
        thread.start()
        thread.join(10)
        assert active_span(manager) is span
    assert other == [None]
    assert manager.active is None


def test_a_wrapped_callback_carries_the_span_to_another_thread() -> None:
    manager = TornadoScopeManager()
    span = new_span()
    seen: List[Optional[Span]] = []
    with tracer_stack_context():
        manager.activate(span, False)
        wrapped = stack_context.wrap(lambda: seen.append(active_span(manager)))
    assert manager.active is None
    threads = [threading.Thread(target=wrapped) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen == [span] * 4
    assert manager.active is None


def test_closing_from_outside_its_context_is_a_no_op() -> None:
    manager = TornadoScopeManager()
    span = new_span()
    with tracer_stack_context():
        scope = manager.activate(span, True)
    scope.close()
    span.finish.assert_not_called()


def test_threads_running_one_context_at_once_each_restore_their_own_state() -> None:
    """Thread A enters the context, thread B enters it too, A leaves first.

    With one shared list of entered contexts A's exit would pop B's entry and
    restore B's state in thread A: A's own outer span would be lost.
    """
    manager = TornadoScopeManager()
    outer_span, request_span = new_span(), new_span()
    a_entered, b_entered, a_done = threading.Event(), threading.Event(), threading.Event()
    with tracer_stack_context():
        manager.activate(request_span, False)

        def in_a() -> None:
            a_entered.set()
            b_entered.wait(10)

        def in_b() -> None:
            b_entered.set()
            a_done.wait(10)

        run_a, run_b = stack_context.wrap(in_a), stack_context.wrap(in_b)
    seen: List[Optional[Span]] = []

    def thread_a() -> None:
        try:
            with tracer_stack_context():
                manager.activate(outer_span, False)
                run_a()
                seen.append(active_span(manager))
        finally:
            a_done.set()

    def thread_b() -> None:
        a_entered.wait(10)
        run_b()

    threads = [threading.Thread(target=thread_a), threading.Thread(target=thread_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert b_entered.is_set()
    assert seen == [outer_span]
