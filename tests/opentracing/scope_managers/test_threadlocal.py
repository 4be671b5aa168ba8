"""ThreadLocalScopeManager: the harness plus thread isolation."""

from __future__ import annotations

import threading
import unittest
from typing import List, Optional
from unittest import mock

from opentracing import Scope, ScopeManager, Span
from opentracing.harness.scope_check import ScopeCompatibilityCheckMixin
from opentracing.scope_managers import ThreadLocalScopeManager


class TestThreadLocalScopeManager(ScopeCompatibilityCheckMixin, unittest.TestCase):
    def scope_manager(self) -> ScopeManager:
        return ThreadLocalScopeManager()


def test_is_a_scope_manager_without_noop_scope() -> None:
    manager = ThreadLocalScopeManager()
    assert isinstance(manager, ScopeManager)
    assert not hasattr(manager, "_noop_scope")


def test_other_threads_do_not_see_the_active_scope() -> None:
    manager = ThreadLocalScopeManager()
    seen: List[Optional[Scope]] = []
    with manager.activate(mock.MagicMock(spec=Span), True):
        thread = threading.Thread(target=lambda: seen.append(manager.active))
        thread.start()
        thread.join()
    assert seen == [None]


def test_each_instance_has_its_own_storage() -> None:
    first, second = ThreadLocalScopeManager(), ThreadLocalScopeManager()
    with first.activate(mock.MagicMock(spec=Span), True):
        assert second.active is None
