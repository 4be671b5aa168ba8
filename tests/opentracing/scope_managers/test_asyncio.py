"""AsyncioScopeManager: the harness inside a task, plus its manual propagation."""

from __future__ import annotations

import asyncio
import unittest
import warnings
from typing import Callable
from unittest import mock

from opentracing import ScopeManager, Span
from opentracing.harness.scope_check import ScopeCompatibilityCheckMixin
from opentracing.scope_managers import ThreadLocalScopeManager
from opentracing.scope_managers.asyncio import AsyncioScopeManager
from opentracing.scope_managers.constants import ACTIVE_ATTR


def _span() -> Span:
    return mock.MagicMock(spec=Span)


class TestAsyncioScopeManager(ScopeCompatibilityCheckMixin, unittest.TestCase):
    def scope_manager(self) -> ScopeManager:
        return AsyncioScopeManager()

    def run_test(self, test_fn: Callable[[], None]) -> None:
        async def in_task() -> None:
            test_fn()

        asyncio.run(in_task())


def test_is_thread_local_subclass() -> None:
    assert issubclass(AsyncioScopeManager, ThreadLocalScopeManager)


def test_scope_is_stored_on_the_task() -> None:
    manager = AsyncioScopeManager()

    async def main() -> None:
        scope = manager.activate(_span(), True)
        assert getattr(asyncio.current_task(), ACTIVE_ATTR) is scope
        scope.close()

    asyncio.run(main())


def test_child_task_does_not_inherit_but_can_reactivate() -> None:
    manager = AsyncioScopeManager()
    parent_span = _span()

    async def child() -> None:
        assert manager.active is None  # no automatic propagation
        with manager.activate(parent_span, False):
            assert manager.active is not None and manager.active.span is parent_span

    async def main() -> None:
        with manager.activate(parent_span, True) as scope:
            await asyncio.create_task(child())
            assert manager.active is scope
        assert manager.active is None

    asyncio.run(main())
    assert parent_span.finish.call_count == 1  # type: ignore[attr-defined]


def test_task_scope_invisible_outside_the_loop() -> None:
    manager = AsyncioScopeManager()

    async def main() -> None:
        manager.activate(_span(), True)  # left open on purpose

    asyncio.run(main())
    assert manager.active is None


def test_no_deprecation_warning_outside_a_loop() -> None:
    manager = AsyncioScopeManager()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert manager.active is None
        manager.activate(_span(), False).close()
