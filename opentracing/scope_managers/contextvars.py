"""``ContextVarsScopeManager``: the active scope lives in a ``contextvars.ContextVar``.

Child coroutines, tasks and ``loop.call_soon`` callbacks copy the context, so the
active span propagates to them automatically. Recommended for asyncio and Tornado 6+.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Iterator, Optional

from ..scope import Scope
from ..scope_manager import ScopeManager
from ..span import Span

_SCOPE: ContextVar[Optional[Scope]] = ContextVar("scope")


class ContextVarsScopeManager(ScopeManager):
    """Scope manager backed by one module-level ``ContextVar``."""

    def __init__(self) -> None:
        # No super().__init__(): a real manager needs no no-op scope.
        pass

    def activate(self, span: Span, finish_on_close: bool) -> Scope:
        """Activate ``span`` in the current context and return its scope."""
        return self._set_scope(span, finish_on_close)

    @property
    def active(self) -> Optional[Scope]:
        """The scope active in the current context, or None."""
        return self._get_scope()

    def _set_scope(self, span: Span, finish_on_close: bool) -> Scope:
        return _ContextVarsScope(self, span, finish_on_close)

    def _get_scope(self) -> Optional[Scope]:
        return _SCOPE.get(None)


class _ContextVarsScope(Scope):
    """Sets the context variable on creation and resets it on close."""

    def __init__(self, manager: ScopeManager, span: Span, finish_on_close: bool) -> None:
        super().__init__(manager, span)
        self._finish_on_close = finish_on_close
        self._to_restore = manager.active
        self._token: Token[Optional[Scope]] = _SCOPE.set(self)

    def close(self) -> None:
        if self.manager.active is not self:
            return
        try:
            _SCOPE.reset(self._token)
        except ValueError:
            # The token belongs to another Context (closed from a copied context).
            _SCOPE.set(self._to_restore)
        if self._finish_on_close:
            self.span.finish()


@contextmanager
def no_parent_scope() -> Iterator[None]:
    """Run the body with no active scope, cutting automatic propagation.

    Useful for work scheduled from a traced request that must not become its child
    (periodic callbacks, background tasks).
    """
    token = _SCOPE.set(None)
    try:
        yield
    finally:
        _SCOPE.reset(token)
