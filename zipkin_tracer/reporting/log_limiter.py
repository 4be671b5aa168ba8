"""Rate-limited warnings: the first of a kind at once, then one summary a minute.

A dead collector produces a failure per message and a full queue a drop per
span; logging each floods the application's logs (zipkin-reporter-java#55).
Records carry endpoints, statuses and counts, never span payloads.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, Dict, Tuple


def safe_log(logger: logging.Logger, level: int, msg: str, *args: Any) -> None:
    """Log, but never raise: at exit or in daemons the stream may be closed.

    ``logging.Handler.handleError`` tolerates ``OSError`` but not the
    ``ValueError`` of a closed file, which would otherwise reach our caller.
    """
    try:
        logger.log(level, msg, *args)
    except Exception:  # logging must not break delivery
        pass


class LogLimiter:
    """One WARNING per key right away, then at most one summary per ``interval``."""

    def __init__(
        self,
        logger: logging.Logger,
        interval: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        # key -> (time of last record, occurrences since then)
        self._state: Dict[str, Tuple[float, int]] = {}

    def warn(self, key: str, msg: str, *args: Any) -> None:
        """Warn about one occurrence of ``key``; later ones are counted and summarised."""
        now = self._clock()
        with self._lock:
            last = self._state.get(key)
            if last is None:
                self._state[key] = (now, 0)
                suppressed = -1
            elif now - last[0] >= self._interval:
                self._state[key] = (now, 0)
                suppressed = last[1]
            else:
                self._state[key] = (last[0], last[1] + 1)
                return
        if suppressed < 0:
            safe_log(
                self._logger, logging.WARNING, msg + " (similar messages are rate-limited)", *args
            )
        else:
            safe_log(
                self._logger,
                logging.WARNING,
                msg + " (%d more like this in the last %.0fs)",
                *args,
                suppressed,
                self._interval,
            )
