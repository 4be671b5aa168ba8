"""Meta-tests: the API harness really fails where the no-op tracer cannot comply."""

from __future__ import annotations

import pytest

from opentracing import Tracer
from opentracing.harness.api_check import APICompatibilityCheckMixin

# With the default hooks (check everything, is_parent() False) these must fail on
# the no-op tracer; otherwise the harness would not be checking anything.
MUST_FAIL_ON_NOOP = [
    "test_span_baggage",
    "test_context_baggage",
    "test_start_active_span",
    "test_start_active_span_parent",
    "test_start_span_propagation",
    "test_tracer_start_active_span_scope",
    "test_tracer_start_span_scope",
    "test_start_active_span_finish_on_close",
    "test_start_active_span_default_finish_on_close",
    "test_active_span",
    "test_active_span_restored_after_close",
    "test_start_active_span_child_of",
    "test_start_span_child_of_span_context",
    "test_start_span_child_of_reference",
    "test_start_span_none_reference_ignored",
    "test_extracted_context_as_parent",
]

MUST_PASS_ON_NOOP = [
    "test_start_active_span_ignore_active_span",
    "test_start_span_propagation_ignore_active_span",
]

ALL_CHECKS = sorted(n for n in dir(APICompatibilityCheckMixin) if n.startswith("test_"))


def _noop_check() -> APICompatibilityCheckMixin:
    check = APICompatibilityCheckMixin()
    check.tracer = Tracer  # type: ignore[method-assign]
    return check


def test_at_least_upstream_number_of_checks() -> None:
    assert len(ALL_CHECKS) >= 25


def test_mixin_is_not_collected_by_name() -> None:
    assert not APICompatibilityCheckMixin.__name__.startswith("Test")


@pytest.mark.parametrize("name", ALL_CHECKS)
def test_tracer_hook_is_required(name: str) -> None:
    with pytest.raises(NotImplementedError):
        getattr(APICompatibilityCheckMixin(), name)()


@pytest.mark.parametrize("name", MUST_FAIL_ON_NOOP)
def test_default_hooks_fail_on_noop(name: str) -> None:
    with pytest.raises(AssertionError):
        getattr(_noop_check(), name)()


@pytest.mark.parametrize("name", MUST_PASS_ON_NOOP)
def test_default_hooks_pass_on_noop(name: str) -> None:
    getattr(_noop_check(), name)()


def test_default_hooks() -> None:
    check = APICompatibilityCheckMixin()
    assert check.check_baggage_values() is True
    assert check.check_scope_manager() is True
    assert check.is_parent(None, Tracer().start_span()) is False


def test_disabled_checks_pass_on_noop() -> None:
    check = _noop_check()
    check.check_baggage_values = lambda: False  # type: ignore[method-assign]
    check.check_scope_manager = lambda: False  # type: ignore[method-assign]
    for name in ALL_CHECKS:
        getattr(check, name)()


def test_baggage_check_alone_fails_on_noop() -> None:
    check = _noop_check()
    check.check_scope_manager = lambda: False  # type: ignore[method-assign]
    with pytest.raises(AssertionError):
        check.test_span_baggage()
    check.check_baggage_values = lambda: False  # type: ignore[method-assign]
    check.test_span_baggage()


def test_failures_survive_optimised_mode() -> None:
    """The checks raise AssertionError themselves, so ``python -O`` cannot disable them."""
    import subprocess
    import sys

    code = (
        "from opentracing import Tracer\n"
        "from opentracing.harness.api_check import APICompatibilityCheckMixin as M\n"
        "m = M(); m.tracer = Tracer\n"
        "try:\n    m.test_span_baggage()\nexcept AssertionError:\n    raise SystemExit(0)\n"
        "raise SystemExit(1)\n"
    )
    import os

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, PYTHONPATH=root)
    assert subprocess.run([sys.executable, "-O", "-c", code], env=env).returncode == 0
