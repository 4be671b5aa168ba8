"""Scope managers; ``ThreadLocalScopeManager`` is the default for real tracers.

The other managers live in their own modules (``asyncio``, ``contextvars``,
``gevent``, ``tornado``) so that importing this package needs no third-party library.
"""

from __future__ import annotations

import threading
from typing import Optional

from ..scope import Scope
from ..scope_manager import ScopeManager
from ..span import Span

__all__ = ["Scope", "ScopeManager", "ThreadLocalScopeManager"]


class _ScopeStorage(threading.local):
    """Per-thread slot; the class default means no exception when a thread has none."""

    active: Optional[Scope] = None


class ThreadLocalScopeManager(ScopeManager):
    """Keeps the active scope per thread; each instance has its own storage."""

    def __init__(self) -> None:
        # No super().__init__(): a real manager needs no no-op scope.
        self._tls_scope = _ScopeStorage()

    def activate(self, span: Span, finish_on_close: bool) -> Scope:
        """Make ``span`` active in the current thread and return its scope."""
        scope = _ThreadLocalScope(self, span, finish_on_close)
        self._tls_scope.active = scope
        return scope

    @property
    def active(self) -> Optional[Scope]:
        """The scope active in the current thread, or None."""
        return self._tls_scope.active


class _ThreadLocalScope(Scope):
    """Remembers the scope it replaced and restores it on close."""

    def __init__(self, manager: ThreadLocalScopeManager, span: Span, finish_on_close: bool) -> None:
        super().__init__(manager, span)
        self._owner = manager
        self._finish_on_close = finish_on_close
        self._to_restore = manager.active

    def close(self) -> None:
        # Closing a scope that is not the active one is a no-op (out-of-order close).
        manager = self._owner
        if manager.active is not self:
            return
        if self._finish_on_close:
            self.span.finish()
        manager._tls_scope.active = self._to_restore
