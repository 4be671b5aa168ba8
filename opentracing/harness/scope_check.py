"""``ScopeCompatibilityCheckMixin``: conformance checks for any ``ScopeManager``.

Override :meth:`scope_manager`, and :meth:`run_test` when the checks must run in a
particular execution context (a greenlet, a coroutine, a request context)::

    class TestMyManager(ScopeCompatibilityCheckMixin, unittest.TestCase):
        def scope_manager(self):
            return MyScopeManager()

        def run_test(self, test_fn):
            asyncio.run(_as_coroutine(test_fn))

The spans are ``MagicMock(spec=Span)`` objects, so the checks count ``finish`` calls
without needing a tracer.
"""

from __future__ import annotations

from typing import Any, Callable
from unittest import mock

from opentracing import ScopeManager, Span

from ._checks import check, check_calls


def _mock_span() -> Any:
    return mock.MagicMock(spec=Span)


class ScopeCompatibilityCheckMixin:
    """Checks that a scope manager activates, nests and restores scopes correctly."""

    # --- hooks ------------------------------------------------------------

    def scope_manager(self) -> ScopeManager:
        """Return a fresh scope manager with nothing active."""
        raise NotImplementedError("Subclass must implement scope_manager()")

    def run_test(self, test_fn: Callable[[], None]) -> None:
        """Run ``test_fn`` in the manager's execution context (default: directly)."""
        test_fn()

    # --- checks -------------------------------------------------------------

    def test_missing_active_external(self) -> None:
        # Outside run_test(): e.g. no task, loop or greenlet of the manager's own.
        check(self.scope_manager().active is None, "a fresh manager has no active scope")

    def test_missing_active(self) -> None:
        def fn() -> None:
            check(self.scope_manager().active is None, "a fresh manager has no active scope")

        self.run_test(fn)

    def test_activate(self) -> None:
        self.run_test(lambda: self._check_activate(finish_on_close=False))

    def test_activate_external(self) -> None:
        # Managers must fall back to some storage outside their execution context.
        self._check_activate(finish_on_close=False)

    def test_activate_finish_on_close(self) -> None:
        self.run_test(lambda: self._check_activate(finish_on_close=True))

    def test_activate_scope_attributes(self) -> None:
        def fn() -> None:
            manager = self.scope_manager()
            span = _mock_span()
            scope = manager.activate(span, False)
            try:
                check(scope.span is span, "scope.span is the activated span")
                check(scope.manager is manager, "scope.manager is the activating manager")
            finally:
                scope.close()

        self.run_test(fn)

    def test_activate_nested(self) -> None:
        def fn() -> None:
            manager = self.scope_manager()
            parent, child = _mock_span(), _mock_span()
            with manager.activate(parent, True):
                with manager.activate(child, True):
                    active = manager.active
                    check(active is not None and active.span is child, "the child is active")
                active = manager.active
                check(active is not None and active.span is parent, "the parent is restored")
            check(manager.active is None, "nothing is active after both closed")
            check_calls(parent.finish, 1, "parent.finish")
            check_calls(child.finish, 1, "child.finish")

        self.run_test(fn)

    def test_activate_nested_not_finish_on_close(self) -> None:
        def fn() -> None:
            manager = self.scope_manager()
            parent, child = _mock_span(), _mock_span()
            with manager.activate(parent, False) as parent_scope:
                with manager.activate(child, False):
                    pass
                check(manager.active is parent_scope, "the parent scope is restored")
            check(manager.active is None, "nothing is active after both closed")
            check_calls(parent.finish, 0, "parent.finish")
            check_calls(child.finish, 0, "child.finish")

        self.run_test(fn)

    def test_activate_finish_on_close_nested(self) -> None:
        def fn() -> None:
            manager = self.scope_manager()
            parent, child = _mock_span(), _mock_span()
            parent_scope = manager.activate(parent, False)
            with manager.activate(child, True):
                pass
            parent_scope.close()
            check_calls(parent.finish, 0, "parent.finish")
            check_calls(child.finish, 1, "child.finish")
            check(manager.active is None, "nothing is active after both closed")

        self.run_test(fn)

    def test_activate_same_span_twice(self) -> None:
        def fn() -> None:
            manager = self.scope_manager()
            span = _mock_span()
            with manager.activate(span, True) as outer:
                with manager.activate(span, False):
                    pass
                check(manager.active is outer, "the outer scope is restored")
                check_calls(span.finish, 0, "inner scope without finish_on_close: finish")
            check_calls(span.finish, 1, "outer scope: finish")

        self.run_test(fn)

    def test_close_wrong_order(self) -> None:
        def fn() -> None:
            manager = self.scope_manager()
            parent, child = _mock_span(), _mock_span()
            parent_scope = manager.activate(parent, True)
            child_scope = manager.activate(child, True)
            parent_scope.close()  # out of order: must be a no-op
            check_calls(parent.finish, 0, "out-of-order close: parent.finish")
            check(manager.active == child_scope, "out-of-order close keeps the child active")
            child_scope.close()
            parent_scope.close()

        self.run_test(fn)

    def test_scope_error_on_exception(self) -> None:
        def fn() -> None:
            manager = self.scope_manager()
            span = _mock_span()
            raised = False
            try:
                with manager.activate(span, True):
                    raise ValueError("broken")
            except ValueError:
                raised = True
            check(raised, "the exception propagates out of the scope's block")
            span.set_tag.assert_called_once_with("error", True)
            check_calls(span.log_kv, 1, "exception exit: span.log_kv")
            check_calls(span.finish, 1, "exception exit: span.finish")
            check(manager.active is None, "the scope is closed after the exception")

        self.run_test(fn)

    # --- helpers -----------------------------------------------------------

    def _check_activate(self, finish_on_close: bool) -> None:
        manager = self.scope_manager()
        span = _mock_span()
        scope = manager.activate(span, finish_on_close)
        check(scope is not None, "activate returns a scope")
        check(manager.active is scope, "the new scope is active")
        scope.close()
        check_calls(span.finish, 1 if finish_on_close else 0, "close: span.finish")
        check(manager.active is None, "nothing is active after close")
