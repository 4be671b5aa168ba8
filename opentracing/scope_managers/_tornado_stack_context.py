"""Tornado before 6: the active scope travels in a ``tornado.stack_context``.

Tornado 4.5 and 5.x carry a stack of contexts along with every callback they
schedule (``add_callback``, futures, ``gen.coroutine`` resumptions) and re-enter it
in whichever thread runs the callback. ``tracer_stack_context()`` puts one
per-request slot on that stack; ``TornadoScopeManager`` keeps the active scope in
the slot of the context being run, and falls back to thread-local storage outside
any. Names and behaviour follow upstream's module, which ``opentracing_instrumentation``
and ``tornado_opentracing`` import.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any, Callable, List, Optional

from ..scope import Scope
from ..span import Span
from . import ThreadLocalScopeManager

# Looked up at run time: Tornado 6, which the type checker sees, has no stack_context.
_stack_context: Any = importlib.import_module("tornado.stack_context")


class _RequestSlot:
    """The active scope of one ``tracer_stack_context()`` (shared by its callbacks)."""

    __slots__ = ("active",)

    def __init__(self) -> None:
        self.active: Optional[Scope] = None


class _Running(threading.local):
    """The slot of the stack context the current thread is running, if any."""

    slot: Optional[_RequestSlot] = None


_running = _Running()


class _EnterSlot:
    """Entered by Tornado around each callback of the context: makes its slot current."""

    def __init__(self, slot: _RequestSlot) -> None:
        self._slot = slot
        self._previous: Optional[_RequestSlot] = None

    def __enter__(self) -> _RequestSlot:
        self._previous = _running.slot
        _running.slot = self._slot
        return self._slot

    def __exit__(self, *exc_info: object) -> None:
        _running.slot = self._previous
        self._previous = None


class _PerThreadStack(threading.local):
    """A list-like stack per thread, for ``StackContext.contexts``."""

    def __init__(self) -> None:
        super().__init__()
        self._items: List[Any] = []

    def append(self, item: Any) -> None:
        self._items.append(item)

    def pop(self) -> Any:
        return self._items.pop()


class ThreadSafeStackContext(_stack_context.StackContext):
    """A ``StackContext`` whose entered contexts are kept per thread.

    Tornado's own keeps them in one list on the instance, so when two threads run
    callbacks of the same context, one thread's exit can pop the other's entry.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if hasattr(self, "contexts"):
            self.contexts = _PerThreadStack()


class TornadoScopeManager(ThreadLocalScopeManager):
    """Scopes in the running ``tracer_stack_context()``, else per thread.

    Under ``tracer_stack_context()`` the active span follows ``gen.coroutine``
    children, yields and scheduled callbacks. Coroutines yielded together share the
    one slot of their context, as upstream's do.
    """

    def activate(self, span: Span, finish_on_close: bool) -> Scope:
        """Make ``span`` active in the running stack context (or this thread)."""
        slot = _running.slot
        if slot is None:
            return super().activate(span, finish_on_close)
        scope = _StackContextScope(self, span, finish_on_close)
        slot.active = scope
        return scope

    @property
    def active(self) -> Optional[Scope]:
        """The running stack context's active scope (or this thread's)."""
        slot = _running.slot
        if slot is None:
            return super().active
        return slot.active


class _StackContextScope(Scope):
    """Restores the scope it replaced, in its slot, when closed."""

    def __init__(self, manager: TornadoScopeManager, span: Span, finish_on_close: bool) -> None:
        super().__init__(manager, span)
        self._finish_on_close = finish_on_close
        self._to_restore = manager.active

    def close(self) -> None:
        slot = _running.slot
        if slot is None or slot.active is not self:
            return  # out of order, or outside its context: a no-op, as upstream
        slot.active = self._to_restore
        if self._finish_on_close:
            self.span.finish()


def tracer_stack_context() -> Any:
    """A new ``ThreadSafeStackContext`` with an empty slot for the active scope.

    Wrap each request's work in it (``with tracer_stack_context(): ...``) so that
    ``TornadoScopeManager`` keeps that request's spans apart from other requests'.
    """
    slot = _RequestSlot()
    factory: Callable[[], _EnterSlot] = lambda: _EnterSlot(slot)  # noqa: E731
    return ThreadSafeStackContext(factory)
