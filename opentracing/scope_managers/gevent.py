"""``GeventScopeManager``: the active scope is stored on the current greenlet.

Spawned greenlets do not inherit the active scope; re-activate the parent span
in the child with ``finish_on_close=False``. Requires ``gevent``.
"""

from __future__ import annotations

from typing import Any, Optional

import gevent

from ..scope import Scope
from ..scope_manager import ScopeManager
from ..span import Span
from .constants import ACTIVE_ATTR


class GeventScopeManager(ScopeManager):
    """Scope manager keyed on ``gevent.getcurrent()``."""

    def __init__(self) -> None:
        # No super().__init__(): a real manager needs no no-op scope.
        pass

    def activate(self, span: Span, finish_on_close: bool) -> Scope:
        """Activate ``span`` in the current greenlet and return its scope."""
        scope = _GeventScope(self, span, finish_on_close)
        self._set_greenlet_scope(scope)
        return scope

    @property
    def active(self) -> Optional[Scope]:
        """The scope active in the current greenlet, or None."""
        return self._get_greenlet_scope()

    def _get_greenlet_scope(self, greenlet: Any = None) -> Optional[Scope]:
        if greenlet is None:
            greenlet = gevent.getcurrent()
        return getattr(greenlet, ACTIVE_ATTR, None)

    def _set_greenlet_scope(self, scope: Optional[Scope], greenlet: Any = None) -> None:
        if greenlet is None:
            greenlet = gevent.getcurrent()
        setattr(greenlet, ACTIVE_ATTR, scope)


class _GeventScope(Scope):
    """Remembers the scope it replaced in its greenlet and restores it on close."""

    def __init__(self, manager: GeventScopeManager, span: Span, finish_on_close: bool) -> None:
        super().__init__(manager, span)
        self._owner = manager
        self._finish_on_close = finish_on_close
        self._to_restore = manager.active

    def close(self) -> None:
        manager = self._owner
        if manager.active is not self:
            return
        manager._set_greenlet_scope(self._to_restore)
        if self._finish_on_close:
            self.span.finish()
