"""The no-op Scope and ScopeManager."""

from __future__ import annotations

from unittest import mock

import pytest

from opentracing import Scope, ScopeManager, Span, Tracer


def test_scope_properties() -> None:
    manager = ScopeManager()
    span = Tracer()._noop_span
    scope = Scope(manager, span)
    assert scope.manager is manager
    assert scope.span is span
    assert scope.close() is None


def test_scope_context_manager_closes() -> None:
    span = mock.MagicMock(spec=Span)
    scope = Scope(ScopeManager, span)  # type: ignore[arg-type]  (upstream tests do this)
    with mock.patch.object(scope, "close") as close:
        with scope as entered:
            assert entered is scope
    close.assert_called_once_with()
    span.set_tag.assert_not_called()


def test_scope_context_manager_records_error() -> None:
    span = mock.MagicMock(spec=Span)
    scope = Scope(ScopeManager(), span)
    with mock.patch.object(scope, "close") as close:
        with pytest.raises(ValueError):
            with scope:
                raise ValueError("boom")
    close.assert_called_once_with()
    span.set_tag.assert_called_once_with("error", True)
    assert span.log_kv.call_count == 1
    assert span.log_kv.call_args[0][0]["message"] == "boom"


def test_scope_without_span_tolerates_errors() -> None:
    scope = Scope(None, None)  # type: ignore[arg-type]
    with pytest.raises(KeyError):
        with scope:
            raise KeyError("k")


def test_noop_manager_returns_one_scope() -> None:
    manager = ScopeManager()
    span = Tracer()._noop_span
    scope = manager.activate(span, True)
    assert scope is manager._noop_scope
    assert manager.active is scope
    assert scope.span is manager._noop_span
    assert scope.span is not span
    assert scope.span.tracer is None
    assert manager.activate(span, False) is scope


def test_noop_managers_do_not_share_scopes() -> None:
    assert ScopeManager()._noop_scope is not ScopeManager()._noop_scope
