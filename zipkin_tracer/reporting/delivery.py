"""Delivery of packed messages: retry with backoff, 413 split, give-up.

A message goes to the sender with capped, fully jittered exponential backoff
between attempts, retried for ``retry_timeout`` seconds; a collector's
``Retry-After`` is honoured up to ``max_backoff``. A message the collector
finds too large (413) is split in halves; anything else that cannot be
delivered is given up and counted. The worker hands each message to a sender
stage thread (one message of look-ahead, so packing goes on during a POST);
when no thread can run, a caller delivers on its own thread instead.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Callable, List, Optional

from zipkin_tracer.reporting.hints import check_suffix
from zipkin_tracer.reporting.metrics import (
    CLOSED,
    ENCODE_FAILED,
    INTERNAL_ERROR,
    SEND_FAILED,
    TOO_LARGE,
)
from zipkin_tracer.reporting.signal_safe import reraise_signal
from zipkin_tracer.reporting.state import ReporterState
from zipkin_tracer.reporting.watermark import Waiter
from zipkin_tracer.transport.base import TRACING_SUPPRESSED, MessageTooLarge, SendError


class Backoff:
    """Exponential backoff with full jitter, drawn per attempt.

    State survives across messages until a success: while the collector is
    down the worker probes at most about once per backoff period.
    """

    def __init__(
        self, initial: float, cap: float, rand: Callable[[], float] = random.random
    ) -> None:
        self.initial = initial
        self.cap = cap
        self._rand = rand
        self.failures = 0
        self._hint: Optional[float] = None

    def delay(self) -> float:
        if self.failures == 0:
            return 0.0
        if self._hint is not None:
            return min(self._hint, self.cap)
        ceiling = min(self.cap, self.initial * 2 ** min(self.failures - 1, 32))
        return self._rand() * ceiling

    @property
    def hinted(self) -> bool:
        """Whether the collector said when to come back (``Retry-After``)."""
        return self._hint is not None

    def failed(self, retry_after: Optional[float]) -> None:
        self.failures += 1
        self._hint = retry_after

    def succeeded(self) -> None:
        self.failures = 0
        self._hint = None


class DeliveryMixin(ReporterState):
    """The delivery side of ``AsyncReporter``: the sender stage and the retry loop."""

    # -- delivery -----------------------------------------------------------------------
    def _send_message(self) -> None:
        seqs, spans = self._message.take()
        if threading.current_thread() is self._worker and self._hand_off(seqs, spans):
            return
        settled = [0]  # how many of seqs are counted delivered or dropped
        try:
            self._deliver(seqs, spans, settled)
        except BaseException:  # a signal on a caller delivering here: count the rest, re-raise
            rest = seqs[settled[0] :]
            with self._lock:
                self._settle_dropped_locked(INTERNAL_ERROR, len(rest), settled)
                for seq in rest:
                    self._failed_locked(seq)
            raise
        finally:
            with self._lock:
                self._publish_locked()

    def _deliver(self, seqs: List[int], spans: List[bytes], settled: List[int]) -> None:
        try:
            body = self._encoder.encode_message(spans)
        except Exception as error:  # the encoder's bug; count it, keep going
            reraise_signal(error)
            self._give_up(seqs, settled, ENCODE_FAILED, "encode_failed", None)
            return
        if len(body) > self._max_bytes:  # the encoder's size math was off: never send it
            if len(spans) > 1:
                self._split(seqs, spans, settled)
            else:
                self._give_up(seqs, settled, TOO_LARGE, "too_large", None)
            return
        msg_deadline = time.monotonic() + self._retry_timeout
        last: Optional[SendError] = None
        while True:
            self._warn_queue_full()  # while the collector fails, the queue fills
            deadline = msg_deadline
            if self._closing.is_set():
                deadline = min(deadline, self._close_deadline)
            delay = self._backoff.delay()
            if delay > 0:
                retry_at = time.monotonic() + delay
                if not self._retry_after_past_close(retry_at):
                    self._sleep(min(delay, max(0.0, deadline - time.monotonic())))
                if self._closing.is_set():
                    deadline = min(deadline, self._close_deadline)
                    # close() cuts a backoff short, but not the wait a collector
                    # asked for (Retry-After): that is honoured within the budget.
                    if self._retry_after_past_close(retry_at):
                        self._give_up(seqs, settled, CLOSED, "retry_after", last)
                        return
                    if self._backoff.hinted:
                        self._halt.wait(retry_at - time.monotonic())
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                reason = CLOSED if self._closing.is_set() else SEND_FAILED
                self._give_up(seqs, settled, reason, last.cause if last else "deadline", last)
                return
            if self._backoff.failures:
                with self._lock:
                    self._metrics.retries += 1
            try:
                self._sender.send(body, timeout=remaining)
            except MessageTooLarge as too_large:
                self._backoff.succeeded()  # the collector is up, it just wants less
                if len(spans) > 1:
                    self._split(seqs, spans, settled)
                else:
                    self._give_up(seqs, settled, TOO_LARGE, "http_413", too_large)
                return
            except SendError as error:
                self._failed_attempts += 1
                if not error.retryable:
                    self._backoff.succeeded()
                    self._give_up(seqs, settled, SEND_FAILED, error.cause, error)
                    return
                last = error
                self._backoff.failed(error.retry_after)
                self._log.warn(
                    "retry:" + error.cause,
                    "Zipkin collector %s failed (%s, status %s) with a message of %d spans; "
                    "retrying with backoff, %d spans queued%s",
                    self._sender.endpoint,
                    error.cause,
                    error.status,
                    len(seqs),
                    self._metrics.queued_spans,
                    check_suffix(error.cause),
                )
            except Exception as error:  # a broken sender must not kill us
                reraise_signal(error)
                self._give_up(seqs, settled, SEND_FAILED, "error", None)
                self._log.warn(
                    "sender_error",
                    "Zipkin sender for %s raised %s; message dropped",
                    self._sender.endpoint,
                    type(error).__name__,
                )
                return
            else:
                self._backoff.succeeded()
                with self._lock:
                    metrics = self._metrics  # inlined: no call a signal could cut short
                    metrics.in_flight_spans -= len(seqs)
                    metrics.spans_delivered += len(seqs)
                    settled[0] += len(seqs)
                    metrics.messages += 1
                    metrics.message_bytes += len(body)
                if self._failed_attempts:
                    self._log.warn(
                        "recovered",
                        "Zipkin collector %s accepts spans again, after %d failed attempts",
                        self._sender.endpoint,
                        self._failed_attempts,
                    )
                    self._failed_attempts = 0
                return

    # -- sender stage -------------------------------------------------------------------
    def _hand_off(self, seqs: List[int], spans: List[bytes]) -> bool:
        """Give the message to the sender stage; False if no stage thread can run.

        Waits only while the previous message is still on the wire: the worker
        keeps taking and encoding spans during a POST (one message of
        look-ahead), so a burst no longer piles up in the queue meanwhile.
        """
        with self._wire_cond:
            while self._wire is not None:
                self._wire_cond.wait()
            if not self._start_sender_locked():
                return False
            with self._lock:
                self._wire_floor = seqs[0]
                self._publish_locked()
            self._wire = (seqs, spans)
            self._wire_cond.notify_all()
        return True

    def _start_sender_locked(self) -> bool:
        # Its own bookkeeping, not Thread.is_alive(): see AsyncReporter._worker_alive.
        if self._sender_thread is not None:
            return True
        thread = threading.Thread(target=self._run_sender, name="zipkin-sender", daemon=True)
        self._sender_thread = thread
        try:
            thread.start()
        except RuntimeError:  # interpreter shutdown: the worker sends itself
            self._sender_thread = None
            return False
        return True

    def _run_sender(self) -> None:
        TRACING_SUPPRESSED.set(True)
        try:
            self._send_from_wire()
        finally:
            with self._wire_cond:  # the worker starts another for its next message
                if self._sender_thread is threading.current_thread():
                    self._sender_thread = None

    def _send_from_wire(self) -> None:
        while True:
            with self._wire_cond:
                while self._wire is None:
                    if self._wire_stop:
                        return
                    self._wire_cond.wait()
                seqs, spans = self._wire
            settled = [0]
            try:
                self._deliver(seqs, spans, settled)
            except Exception as error:  # a bug must not end delivery for good
                self._give_up(seqs[settled[0] :], settled, INTERNAL_ERROR, "internal_error", None)
                self._log.warn(
                    "internal_error",
                    "Zipkin reporter dropped %d spans after an unexpected %s",
                    len(seqs),
                    type(error).__name__,
                )
            finally:
                with self._lock:
                    self._wire_floor = None
                    self._notify_locked()
                with self._wire_cond:
                    self._wire = None
                    self._wire_cond.notify_all()

    def _wire_idle(self) -> None:
        """Wait for the message on the wire, then let the stage thread end."""
        with self._wire_cond:
            while self._wire is not None:
                self._wire_cond.wait()
            self._wire_stop = True
            self._wire_cond.notify_all()

    def _retry_after_past_close(self, retry_at: float) -> bool:
        return self._closing.is_set() and self._backoff.hinted and retry_at > self._close_deadline

    def _split(self, seqs: List[int], spans: List[bytes], settled: List[int]) -> None:
        with self._lock:
            self._metrics.messages_split += 1
        half = len(spans) // 2
        self._deliver(seqs[:half], spans[:half], settled)
        with self._lock:
            self._publish_after_partial_locked(seqs[half])
        self._deliver(seqs[half:], spans[half:], settled)

    def _publish_after_partial_locked(self, next_seq: int) -> None:
        if threading.current_thread() is self._sender_thread:
            self._wire_floor = next_seq
        else:
            self._inflight_floor = next_seq
        self._notify_locked()

    def _settle_dropped_locked(self, reason: str, count: int, settled: List[int]) -> None:
        """``metrics.failed`` inlined: between its updates runs no call a signal could cut."""
        metrics = self._metrics
        drops = metrics.spans_dropped
        if reason not in drops:
            drops[reason] = 0
        metrics.in_flight_spans -= count
        drops[reason] += count
        settled[0] += count

    def _give_up(
        self,
        seqs: List[int],
        settled: List[int],
        reason: str,
        cause: str,
        error: Optional[SendError],
    ) -> None:
        with self._lock:
            self._settle_dropped_locked(reason, len(seqs), settled)
            self._metrics.message_dropped(cause)
            for seq in seqs:
                self._failed_locked(seq)
        self._log.warn(
            "dropped:" + cause,
            "Zipkin reporter dropped a message of %d spans to %s (%s, status %s, reason %s)%s",
            len(seqs),
            self._sender.endpoint,
            cause,
            error.status if error else None,
            reason,
            check_suffix(cause),
        )

    def _sleep(self, seconds: float) -> None:
        """Back off; ``close()`` cuts the first wait short, later ones honour its deadline."""
        if seconds <= 0:
            return
        event = self._halt if self._closing.is_set() else self._closing
        event.wait(seconds)

    # -- delivery on a caller's thread ---------------------------------------------
    def _drain_here(self, deadline: Optional[float]) -> None:
        """Deliver on the calling thread when no worker can run (exit path, failed start)."""
        claim = threading.get_ident()
        token = TRACING_SUPPRESSED.set(True)
        try:
            claimed = self._claim_delivery(claim, deadline)
            while claimed and (deadline is None or time.monotonic() < deadline):
                self._cycle()
                if self._message.spans:
                    self._send_message()
                if not self._queue:  # looked at after the POSTs, not before
                    return
        finally:
            TRACING_SUPPRESSED.reset(token)
            with self._lock:
                if self._delivering == claim:
                    self._wake_at = 1  # no worker sleeps: the next span tries to start one
            self._release_delivery(claim)

    def _claim_delivery(self, token: object, deadline: Optional[float]) -> bool:
        """Make ``token`` the one runner of worker-side code; False if the time ran out.

        A token under the queue lock rather than a lock of its own: the
        caller's ``finally`` releases it if it holds it, even when a signal
        landed between the claim and the return.
        """
        waiter = Waiter()  # target 0: only woken, never counted
        try:
            while True:
                with self._lock:
                    holder = self._delivering
                    # A caller's claim is its thread id: one still held by this
                    # very thread was left behind by a signal cutting a
                    # ``finally`` short (no thread drains twice at once).
                    if holder is None or holder == token:
                        self._delivering = token
                        return True
                    if waiter not in self._claimers:
                        self._claimers.append(waiter)
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                waiter.sleep(remaining)
        finally:
            with self._lock:
                if waiter in self._claimers:
                    self._claimers.remove(waiter)

    def _release_delivery(self, token: object) -> None:
        with self._lock:
            if self._delivering == token:
                self._delivering = None
                for waiter in self._claimers:
                    waiter.notify()
                self._claimers.clear()  # a live one registers again
