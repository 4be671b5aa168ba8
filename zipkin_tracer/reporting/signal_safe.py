"""Events application threads may set while a signal can land at any bytecode.

``threading.Event`` takes its lock through ``Condition.__enter__``, a Python
function: a signal handler's exception raised just after the lock is taken,
before that function returns, leaves the lock held for good, and every later
``set``/``wait``/``clear`` blocks. These use one plain lock each, whose
``acquire``/``release`` are single C calls, plus a flag read before sleeping.
A guard that may run on an application thread lets a signal handler's own
exception through (``reraise_signal``): it belongs to the application.
"""

from __future__ import annotations

import signal
import threading
from typing import Optional


def _timeout(seconds: Optional[float]) -> float:
    return -1 if seconds is None else max(0.0, seconds)


class Wakeup:
    """An auto-clearing wake-up for one sleeper: ``wait`` consumes a ``set``."""

    def __init__(self) -> None:
        self._gate = threading.Lock()
        self._gate.acquire()  # locked: nothing pending

    def set(self) -> None:
        try:
            self._gate.release()
        except RuntimeError:  # already pending (or another setter won the race)
            pass

    def wait(self, timeout: Optional[float] = None) -> bool:
        return self._gate.acquire(timeout=_timeout(timeout))

    def clear(self) -> None:
        self._gate.acquire(blocking=False)

    def is_set(self) -> bool:
        return not self._gate.locked()


class Flag:
    """A one-way event (set once, never cleared) any number of threads may wait for."""

    __slots__ = ("_gate", "_set")

    def __init__(self) -> None:
        self._set = False
        self._gate = threading.Lock()
        self._gate.acquire()

    def set(self) -> None:
        self._set = True
        try:
            self._gate.release()
        except RuntimeError:
            pass

    def is_set(self) -> bool:
        return self._set

    def wait(self, timeout: Optional[float] = None) -> bool:
        if self._set:
            return True
        if self._gate.acquire(timeout=_timeout(timeout)):
            self.set()  # pass it on to the next waiter
        return self._set


def signal_error(error: BaseException) -> Optional[BaseException]:
    """The exception an installed Python signal handler raised in ``error``'s chain, if any.

    Such a handler runs on top of whatever frame was executing, report()'s
    included; its exception (a timeout library's, say) belongs to the
    application and must reach it. A cleanup it interrupted may raise an
    error of its own instead (``Thread.start()``'s ``del _limbo[self]``
    raises ``KeyError``), so the ``__context__`` chain is searched too.
    Only looked at on the error path.
    """
    codes = set()
    for signum in signal.valid_signals():
        try:
            handler = signal.getsignal(signum)
        except (OSError, ValueError):
            continue
        code = getattr(getattr(handler, "__func__", handler), "__code__", None)
        if code is not None:
            codes.add(code)
    seen = set()
    current: Optional[BaseException] = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        tb = current.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code in codes:
                return current
            tb = tb.tb_next
        current = current.__context__
    return None


def reraise_signal(error: BaseException) -> None:
    """Raise the signal handler's exception in ``error``'s chain, if any.

    Used by guards that may run on a caller's thread: the application gets
    its own exception, not a cleanup error the signal caused on the way.
    """
    handlers = signal_error(error)
    if handlers is error:
        raise error
    if handlers is not None:
        raise handlers from None
