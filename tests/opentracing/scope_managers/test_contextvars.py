"""ContextVarsScopeManager: the harness, automatic propagation and no_parent_scope."""

from __future__ import annotations

import asyncio
import contextvars
import unittest
from typing import Callable, List, Optional
from unittest import mock

from opentracing import Scope, ScopeManager, Span
from opentracing.harness.scope_check import ScopeCompatibilityCheckMixin
from opentracing.scope_managers.contextvars import ContextVarsScopeManager, no_parent_scope


def _span() -> Span:
    return mock.MagicMock(spec=Span)


class TestContextVarsScopeManager(ScopeCompatibilityCheckMixin, unittest.TestCase):
    def scope_manager(self) -> ScopeManager:
        return ContextVarsScopeManager()

    def run_test(self, test_fn: Callable[[], None]) -> None:
        async def in_task() -> None:
            test_fn()

        asyncio.run(in_task())


class TestContextVarsScopeManagerInCopiedContext(TestContextVarsScopeManager):
    def run_test(self, test_fn: Callable[[], None]) -> None:
        contextvars.copy_context().run(test_fn)


def test_child_tasks_inherit_the_active_span() -> None:
    manager = ContextVarsScopeManager()
    parent = _span()
    seen: List[Optional[Span]] = []

    async def child() -> None:
        active = manager.active
        seen.append(None if active is None else active.span)

    async def main() -> None:
        with manager.activate(parent, True):
            await asyncio.gather(child(), asyncio.create_task(child()))
            asyncio.get_running_loop().call_soon(lambda: seen.append(manager.active.span))  # type: ignore[union-attr]
            await asyncio.sleep(0)

    asyncio.run(main())
    assert seen == [parent, parent, parent]


def test_no_parent_scope_cuts_propagation() -> None:
    manager = ContextVarsScopeManager()
    with manager.activate(_span(), True) as scope:
        with no_parent_scope():
            assert manager.active is None
            inner = manager.activate(_span(), True)
            assert manager.active is inner
        assert manager.active is scope
    assert manager.active is None


def test_close_from_another_context_restores_previous() -> None:
    manager = ContextVarsScopeManager()
    span = _span()
    ctx = contextvars.copy_context()
    scope = ctx.run(manager.activate, span, True)
    after_close: List[Optional[Scope]] = []

    def close_elsewhere() -> None:
        # This copy sees the scope as active, but the scope's token is foreign here.
        scope.close()
        after_close.append(manager.active)

    ctx.copy().run(close_elsewhere)
    assert after_close == [None]
    assert span.finish.call_count == 1  # type: ignore[attr-defined]
