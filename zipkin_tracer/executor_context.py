"""Let ``loop.run_in_executor`` work inherit the caller's active span.

``asyncio.to_thread`` runs its function in a copy of the caller's context, so
a span started there is a child of the span active in the calling task.
``loop.run_in_executor`` does not (a Python limitation): the function runs in
the worker thread's own context and its spans would start new traces.
:func:`install` makes the standard asyncio event loops run thread-pool work
the way ``to_thread`` does. ``ZipkinTracer`` calls it when it builds its
default scope manager; a tracer given an explicit ``scope_manager`` leaves
asyncio alone.

Only thread pools are affected (a context cannot travel to another process),
and only loops built on ``asyncio.BaseEventLoop`` (uvloop's loop is not).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import functools
import threading
from typing import Any, Callable, Optional

__all__ = ["install", "installed", "uninstall"]

_lock = threading.Lock()
_original: Optional[Callable[..., Any]] = None


def _in_caller_context(
    self: asyncio.AbstractEventLoop, executor: Any, func: Any, *args: Any
) -> asyncio.Future[Any]:
    original = _original
    assert original is not None  # set before the patch, never cleared
    if (
        (executor is None or isinstance(executor, concurrent.futures.ThreadPoolExecutor))
        and callable(func)
        and not asyncio.iscoroutinefunction(func)
    ):
        func = functools.partial(contextvars.copy_context().run, func)
    return original(self, executor, func, *args)


def install() -> None:
    """Run thread-pool work of ``run_in_executor`` in the caller's context. Idempotent."""
    global _original
    with _lock:
        current = asyncio.BaseEventLoop.run_in_executor
        if current is not _in_caller_context:
            _original = current
            setattr(asyncio.BaseEventLoop, "run_in_executor", _in_caller_context)  # noqa: B010


def uninstall() -> None:
    """Undo :func:`install`; harmless when not installed."""
    with _lock:
        if asyncio.BaseEventLoop.run_in_executor is _in_caller_context and _original is not None:
            setattr(asyncio.BaseEventLoop, "run_in_executor", _original)  # noqa: B010


def installed() -> bool:
    """True while ``run_in_executor`` carries the caller's context."""
    return asyncio.BaseEventLoop.run_in_executor is _in_caller_context
