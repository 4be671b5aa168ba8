"""TornadoScopeManager and tracer_stack_context (skipped without tornado)."""

from __future__ import annotations

import unittest
from typing import Callable, List, Optional
from unittest import mock

import pytest

from opentracing import ScopeManager, Span
from opentracing.harness.scope_check import ScopeCompatibilityCheckMixin

pytest.importorskip("tornado", reason="tornado is not installed")

from tornado.ioloop import IOLoop

from opentracing.scope_managers.tornado import (
    TornadoScopeManager,
    tracer_stack_context,
)


class TestTornadoScopeManager(ScopeCompatibilityCheckMixin, unittest.TestCase):
    def scope_manager(self) -> ScopeManager:
        return TornadoScopeManager()

    def run_test(self, test_fn: Callable[[], None]) -> None:
        async def in_loop() -> None:
            with tracer_stack_context():
                test_fn()

        IOLoop.current().run_sync(in_loop)


def test_tracer_stack_context_starts_empty_and_discards_leftovers() -> None:
    manager = TornadoScopeManager()
    with manager.activate(mock.MagicMock(spec=Span), True) as outer:
        with tracer_stack_context():
            assert manager.active is None
            manager.activate(mock.MagicMock(spec=Span), True)  # left open
        assert manager.active is outer


def test_coroutines_inherit_the_active_span() -> None:
    manager = TornadoScopeManager()
    span = mock.MagicMock(spec=Span)
    seen: List[Optional[Span]] = []

    async def child() -> None:
        active = manager.active
        seen.append(None if active is None else active.span)

    async def handler() -> None:
        with tracer_stack_context():
            with manager.activate(span, True):
                await IOLoop.current().run_in_executor(None, lambda: None)
                await child()
                IOLoop.current().spawn_callback(child)
                await child()

    IOLoop.current().run_sync(handler)
    assert seen[:2] == [span, span]


def test_import_fails_without_tornado() -> None:
    import os
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    code = (
        "import sys; sys.modules['tornado'] = None\n"
        "try:\n    import opentracing.scope_managers.tornado\n"
        "except ImportError:\n    raise SystemExit(0)\n"
        "raise SystemExit(1)\n"
    )
    env = dict(os.environ, PYTHONPATH=os.path.abspath(root))
    assert subprocess.run([sys.executable, "-c", code], env=env).returncode == 0
