"""Delivery counters of one reporter.

Every span reported is in exactly one state at any moment: queued, in flight
(taken by the worker, not yet acknowledged or dropped), delivered, or dropped
for a reason. The reporter moves spans between states while holding
:attr:`ReporterMetrics.lock`, the same lock that guards its queue, so a
snapshot always satisfies::

    spans == spans_delivered + sum(spans_dropped.values()) + queued_spans + in_flight_spans
"""

from __future__ import annotations

import threading
import time
from typing import Any, Dict, Optional

#: Reasons a span is dropped (``spans_dropped`` keys).
QUEUE_FULL = "queue_full"
TOO_LARGE = "too_large"
SEND_FAILED = "send_failed"
CLOSED = "closed"
ENCODE_FAILED = "encode_failed"
INTERNAL_ERROR = "internal_error"


class ReporterMetrics:
    """Counters for one reporter; mutators expect the caller to hold ``lock``.

    Mutators do not lock themselves so the reporter can change its queue and
    the counters in one critical section (that is what keeps the invariant
    exact). :meth:`snapshot` takes the lock.
    """

    def __init__(self, lock: Optional[threading.Lock] = None) -> None:
        self.lock = lock if lock is not None else threading.Lock()
        self.spans = 0
        self.span_bytes = 0
        self.spans_delivered = 0
        self.spans_dropped: Dict[str, int] = {}
        self.queued_spans = 0
        self.in_flight_spans = 0
        self.messages = 0
        self.message_bytes = 0
        self.messages_dropped: Dict[str, int] = {}
        self.messages_split = 0
        self.retries = 0
        self.last_error_time: Optional[float] = None

    # -- span state transitions (caller holds ``lock``) -------------------------
    def queued(self) -> None:
        """A reported span entered the queue."""
        self.spans += 1
        self.queued_spans += 1

    def rejected(self, reason: str) -> None:
        """A reported span was dropped before it reached the queue."""
        self.spans += 1
        self._drop(reason, 1)

    def evicted(self, reason: str, count: int) -> None:
        """Queued spans were dropped (oldest-first policy, close, fork)."""
        self.queued_spans -= count
        self._drop(reason, count)

    def taken(self, count: int) -> None:
        """The worker took spans from the queue."""
        self.queued_spans -= count
        self.in_flight_spans += count

    def delivered(self, count: int, message_bytes: int) -> None:
        """The collector acknowledged one message of ``count`` spans."""
        self.in_flight_spans -= count
        self.spans_delivered += count
        self.messages += 1
        self.message_bytes += message_bytes

    def failed(self, reason: str, count: int) -> None:
        """In-flight spans were given up on."""
        self.in_flight_spans -= count
        self._drop(reason, count)

    def message_dropped(self, cause: str) -> None:
        self.messages_dropped[cause] = self.messages_dropped.get(cause, 0) + 1
        self.last_error_time = time.time()

    def _drop(self, reason: str, count: int) -> None:
        self.spans_dropped[reason] = self.spans_dropped.get(reason, 0) + count

    def snapshot(self) -> Dict[str, Any]:
        """A consistent copy of every counter, taken under the lock."""
        with self.lock:
            return {
                "spans": self.spans,
                "span_bytes": self.span_bytes,
                "spans_delivered": self.spans_delivered,
                "spans_dropped": dict(self.spans_dropped),
                "spans_dropped_total": sum(self.spans_dropped.values()),
                "queued_spans": self.queued_spans,
                "in_flight_spans": self.in_flight_spans,
                "messages": self.messages,
                "message_bytes": self.message_bytes,
                "messages_dropped": dict(self.messages_dropped),
                "messages_split": self.messages_split,
                "retries": self.retries,
                "last_error_time": self.last_error_time,
            }
