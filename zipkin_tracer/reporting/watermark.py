"""Flush watermarks: which reported spans are handled, and who waits for them.

Spans are handled in order of their sequence numbers, so "everything below N
is handled" is one number, the smallest sequence number still queued, being
packed or on the wire. ``flush`` and ``close`` register a ``Waiter`` for the
spans reported before them and sleep until that floor passes its target;
every drop marks the waiters it concerns failed.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Optional

from zipkin_tracer.reporting.state import ReporterState


class Waiter:
    """One thread waiting: a ``flush``/``close`` call for spans below ``target``.

    It sleeps on a lock of its own instead of a ``threading.Condition``: a
    signal landing inside ``Condition.wait`` can skip re-taking the queue lock,
    while an interrupted ``acquire`` here touches nothing shared.
    """

    __slots__ = ("_gate", "failed", "target")

    def __init__(self, target: int = 0, failed: bool = False) -> None:
        self.target = target
        self.failed = failed
        self._gate = threading.Lock()
        self._gate.acquire()  # locked: no wake-up pending

    def notify(self) -> None:
        """Wake the waiter (the reporter's lock is held: notifications never race)."""
        if self._gate.locked():
            self._gate.release()

    def sleep(self, timeout: Optional[float]) -> None:
        """Until notified (at once if a notification is pending) or ``timeout``."""
        self._gate.acquire(timeout=-1 if timeout is None else timeout)


class WatermarkMixin(ReporterState):
    """The flush bookkeeping of ``AsyncReporter`` (every method but ``_await`` and
    ``_remove_waiter`` runs with ``_lock`` held)."""

    def _add_waiter_locked(self, waiter: Waiter) -> None:
        # A waiter whose spans are all handled needs nothing more: this drops
        # any a second signal left behind by cutting a removal short.
        floor = self._floor_locked()
        self._waiters = [w for w in self._waiters if w.target > floor]
        target = self._metrics.spans
        waiter.target = target
        waiter.failed = self._max_failed_seq >= self._last_flush_target
        self._last_flush_target = target
        self._waiters.append(waiter)

    def _remove_waiter(self, waiter: Waiter) -> None:
        with self._lock:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def _floor_locked(self) -> int:
        """Every span with a smaller sequence number has been handled."""
        floor = self._metrics.spans
        if self._queue_seqs:
            floor = min(floor, self._queue_seqs[0])
        if self._inflight_floor is not None:
            floor = min(floor, self._inflight_floor)
        if self._wire_floor is not None:
            floor = min(floor, self._wire_floor)
        return floor

    def _failed_locked(self, seq: int) -> None:
        if seq > self._max_failed_seq:
            self._max_failed_seq = seq
        for waiter in self._waiters:
            if seq < waiter.target:
                waiter.failed = True

    def _await(self, waiter: Waiter, deadline: Optional[float]) -> bool:
        """True once every span below the waiter's target is handled and none failed."""
        handled = self._sleep_until(waiter, deadline, lambda: self._floor_locked() >= waiter.target)
        return handled and not waiter.failed

    def _sleep_until(
        self, waiter: Waiter, deadline: Optional[float], done: Callable[[], bool]
    ) -> bool:
        """Sleep on ``waiter`` until ``done()`` (checked under ``_lock``); False at ``deadline``.

        Whatever changes what ``done`` reads notifies the waiters. The caller
        registered the waiter and removes it.
        """
        while True:
            with self._lock:
                if done():
                    return True
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            waiter.sleep(remaining)

    def _notify_locked(self) -> None:
        for waiter in self._waiters:
            waiter.notify()
