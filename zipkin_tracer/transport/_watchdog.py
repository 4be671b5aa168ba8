"""The watchdog that bounds a whole HTTP attempt.

``requests`` bounds each socket operation only; a collector trickling its
answer a byte at a time could hold the sender forever. The watchdog shuts
the attempt's sockets down at its deadline instead.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Optional, Tuple


class Watchdog:
    """One long-lived daemon thread that aborts an attempt still running at its deadline.

    A thread per attempt would cost two thread hand-offs per message, and
    under a busy application each hand-off waits for the GIL; arming this
    one costs a lock and, only when it sleeps longer than the new deadline,
    one wake-up. The thread ends after ``idle_exit`` seconds without an
    attempt and starts again with the next one.
    """

    idle_exit = 30.0

    def __init__(self, abort: Callable[[], None]) -> None:
        self._abort = abort
        # Callers take the plain lock, never ``with self._cond``: that runs
        # Condition.__enter__, Python code in which a signal handler's
        # exception can leave the lock held for good. Only the watchdog's
        # own thread (where no signal handler runs) waits on the condition.
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._deadline: Optional[float] = None  # of the armed attempt
        self._sleeps_until: Optional[float] = None  # what the thread waits for; None = idle
        self._attempt = 0
        self._fired_attempt = -1
        self._thread: Optional[threading.Thread] = None
        self._stopped = False

    def arm(self, seconds: float) -> Tuple[int, bool]:
        """Start watching one attempt: its token for ``disarm``, and whether a thread watches."""
        deadline = time.monotonic() + seconds
        with self._lock:
            self._attempt += 1
            self._deadline = deadline
            if self._stopped:
                return self._attempt, False
            if self._thread is None and not self._start_locked():
                return self._attempt, False  # interpreter shutdown: no new threads
            until = self._sleeps_until
            if until is None or deadline < until:
                self._cond.notify()
            return self._attempt, True

    def fired(self, token: int) -> bool:
        """True if this attempt's deadline passed and the sockets were aborted."""
        with self._lock:
            return self._fired_attempt == token

    def disarm(self, token: int) -> bool:
        """Stop watching; True if the deadline passed and the sockets were aborted."""
        with self._lock:
            if self._attempt == token:
                self._deadline = None
            return self._fired_attempt == token

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            self._deadline = None
            self._cond.notify()

    def _start_locked(self) -> bool:
        thread = threading.Thread(target=self._run, name="zipkin-sender-watchdog", daemon=True)
        try:
            thread.start()
        except RuntimeError:  # interpreter shutdown (3.12+)
            return False
        self._thread = thread
        return True

    def _run(self) -> None:
        cond = self._cond
        with cond:
            while not self._stopped:
                deadline = self._deadline
                if deadline is None:
                    self._sleeps_until = None
                    if not cond.wait(self.idle_exit) and self._deadline is None:
                        break
                    continue
                remaining = deadline - time.monotonic()
                if remaining > 0:
                    self._sleeps_until = deadline
                    cond.wait(remaining)
                    continue
                self._fired_attempt = self._attempt
                self._deadline = None
                self._abort()  # shutdown() only: never blocks
            self._thread = None
