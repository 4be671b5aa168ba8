"""GeventScopeManager (skipped when gevent is not installed)."""

from __future__ import annotations

import os
import subprocess
import sys
import unittest
from typing import Callable
from unittest import mock

import pytest

from opentracing import ScopeManager, Span
from opentracing.harness.scope_check import ScopeCompatibilityCheckMixin

gevent = pytest.importorskip("gevent", reason="gevent is not installed")

from opentracing.scope_managers.gevent import GeventScopeManager  # noqa: E402


class TestGeventScopeManager(ScopeCompatibilityCheckMixin, unittest.TestCase):
    def scope_manager(self) -> ScopeManager:
        return GeventScopeManager()

    def run_test(self, test_fn: Callable[[], None]) -> None:
        gevent.spawn(test_fn).get()


def test_spawned_greenlet_does_not_inherit() -> None:
    manager = GeventScopeManager()
    span = mock.MagicMock(spec=Span)

    def child() -> None:
        assert manager.active is None
        with manager.activate(span, False):
            assert manager.active.span is span  # type: ignore[union-attr]

    def parent() -> None:
        with manager.activate(span, True) as scope:
            gevent.spawn(child).get()
            assert manager.active is scope

    gevent.spawn(parent).get()
    assert span.finish.call_count == 1  # type: ignore[attr-defined]


def test_import_fails_without_gevent() -> None:
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    code = (
        "import sys; sys.modules['gevent'] = None\n"
        "try:\n    import opentracing.scope_managers.gevent\n"
        "except ImportError:\n    raise SystemExit(0)\n"
        "raise SystemExit(1)\n"
    )
    env = dict(os.environ, PYTHONPATH=os.path.abspath(root))
    assert subprocess.run([sys.executable, "-c", code], env=env).returncode == 0
