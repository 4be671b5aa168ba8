"""``AsyncioScopeManager``: the active scope is stored on the current asyncio Task.

There is no automatic propagation: a child task starts with no active scope and
must re-activate its parent's span (with ``finish_on_close=False``). Outside a
running task the manager falls back to thread-local storage. For automatic
propagation use :class:`~opentracing.scope_managers.contextvars.ContextVarsScopeManager`.
"""

from __future__ import annotations

import asyncio
from typing import Any, Optional

from ..scope import Scope
from ..span import Span
from . import ThreadLocalScopeManager
from .constants import ACTIVE_ATTR


class AsyncioScopeManager(ThreadLocalScopeManager):
    """Scope manager keyed on ``asyncio.current_task()``."""

    def activate(self, span: Span, finish_on_close: bool) -> Scope:
        """Activate ``span`` in the current task (or thread, outside a task)."""
        task = self._get_task()
        if task is None:
            return super().activate(span, finish_on_close)
        scope = _AsyncioScope(self, span, finish_on_close)
        self._set_task_scope(scope, task)
        return scope

    @property
    def active(self) -> Optional[Scope]:
        """The scope active in the current task (or thread, outside a task)."""
        task = self._get_task()
        if task is None:
            return super().active
        return self._get_task_scope(task)

    def _get_task(self) -> Optional[asyncio.Task[Any]]:
        # current_task() raises RuntimeError when no loop is running; never create one.
        try:
            return asyncio.current_task()
        except RuntimeError:
            return None

    def _set_task_scope(
        self,
        scope: Optional[Scope],
        task: Optional[asyncio.Task[Any]] = None,
    ) -> None:
        if task is None:
            task = self._get_task()
        setattr(task, ACTIVE_ATTR, scope)

    def _get_task_scope(
        self,
        task: Optional[asyncio.Task[Any]] = None,
    ) -> Optional[Scope]:
        if task is None:
            task = self._get_task()
        return getattr(task, ACTIVE_ATTR, None)


class _AsyncioScope(Scope):
    """A scope bound to the task that was current when it was activated."""

    def __init__(self, manager: AsyncioScopeManager, span: Span, finish_on_close: bool) -> None:
        super().__init__(manager, span)
        self._owner = manager
        self._finish_on_close = finish_on_close
        self._to_restore = manager.active

    def close(self) -> None:
        manager = self._owner
        if manager.active is not self:
            return
        manager._set_task_scope(self._to_restore)
        if self._finish_on_close:
            self.span.finish()
