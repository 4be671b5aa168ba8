"""Meta-tests: the scope harness really fails on the no-op ScopeManager."""

from __future__ import annotations

import pytest

from opentracing import ScopeManager
from opentracing.harness.scope_check import ScopeCompatibilityCheckMixin

ALL_CHECKS = sorted(n for n in dir(ScopeCompatibilityCheckMixin) if n.startswith("test_"))

MUST_FAIL_ON_NOOP = [
    "test_missing_active_external",
    "test_missing_active",
    "test_activate",
    "test_activate_external",
    "test_activate_finish_on_close",
    "test_activate_nested",
    "test_activate_finish_on_close_nested",
    "test_activate_scope_attributes",
    "test_activate_nested_not_finish_on_close",
    "test_activate_same_span_twice",
    "test_scope_error_on_exception",
]


def _noop_check() -> ScopeCompatibilityCheckMixin:
    check = ScopeCompatibilityCheckMixin()
    check.scope_manager = ScopeManager  # type: ignore[method-assign]
    return check


def test_at_least_upstream_number_of_checks() -> None:
    assert len(ALL_CHECKS) >= 8
    assert set(ALL_CHECKS) == set(MUST_FAIL_ON_NOOP) | {"test_close_wrong_order"}


@pytest.mark.parametrize("name", ALL_CHECKS)
def test_scope_manager_hook_is_required(name: str) -> None:
    with pytest.raises(NotImplementedError):
        getattr(ScopeCompatibilityCheckMixin(), name)()


@pytest.mark.parametrize("name", MUST_FAIL_ON_NOOP)
def test_fails_on_noop(name: str) -> None:
    with pytest.raises(AssertionError):
        getattr(_noop_check(), name)()


def test_close_wrong_order_passes_on_noop() -> None:
    # The no-op activate() and active return one shared scope, so this one passes.
    _noop_check().test_close_wrong_order()


def test_run_test_default_calls_directly() -> None:
    calls = []
    ScopeCompatibilityCheckMixin().run_test(lambda: calls.append(1))
    assert calls == [1]


def test_run_test_hook_is_used() -> None:
    wrapped = []

    class Check(ScopeCompatibilityCheckMixin):
        def scope_manager(self) -> ScopeManager:
            from opentracing.scope_managers import ThreadLocalScopeManager

            return ThreadLocalScopeManager()

        def run_test(self, test_fn):  # type: ignore[no-untyped-def]
            wrapped.append(test_fn)
            test_fn()

    Check().test_activate_nested()
    assert len(wrapped) == 1
