"""The asynchronous reporter: bounded queue, one background worker, delivery.

Application threads only append to a bounded deque (``report``). One daemon
worker, started by the first span, encodes spans, packs them into messages of
at most ``message_max_bytes`` and hands each message to the sender, retrying
transient failures with capped, fully jittered exponential backoff. A sender
stage thread holds the one message on the wire while the worker packs the
next (one message of look-ahead), so a burst keeps draining during a POST;
when the collector is slow or down both wait, the queue fills and new spans
are dropped and counted: memory stays bounded.

Accounting: every reported span gets a sequence number (its index among all
reported spans). Spans are handled in order, so "everything before N is
handled" is a single watermark, which is what ``flush`` waits for.

This module is the public class with the intake (``report`` and its slow
paths), ``flush``/``close`` and the worker loop; its other jobs live beside
it: packing (:mod:`.message`), delivery and the sender stage
(:mod:`.delivery`), flush watermarks (:mod:`.watermark`), fork and exit
(:mod:`.process`).
"""

from __future__ import annotations

import collections
import logging
import os
import threading
import time
from typing import Any, Dict, Optional

from zipkin_tracer import defaults
from zipkin_tracer.encoding.base import Encoder
from zipkin_tracer.reporting.base import SpanReporter
from zipkin_tracer.reporting.delivery import Backoff, DeliveryMixin
from zipkin_tracer.reporting.log_limiter import LogLimiter, safe_log
from zipkin_tracer.reporting.message import FRAMING_SLACK, Message, PackingMixin
from zipkin_tracer.reporting.metrics import CLOSED, INTERNAL_ERROR, QUEUE_FULL, ReporterMetrics
from zipkin_tracer.reporting.process import ForkMixin, fork_sentinel, register
from zipkin_tracer.reporting.signal_safe import Flag, Wakeup, reraise_signal

# report() calls it under this name (its code is measured: kept as it was).
from zipkin_tracer.reporting.watermark import Waiter, WatermarkMixin
from zipkin_tracer.transport.base import TRACING_SUPPRESSED, Sender

logger = logging.getLogger(__name__)
_getpid = os.getpid
_yield = os.sched_yield if hasattr(os, "sched_yield") else (lambda: time.sleep(0))

#: While a message is open the worker wakes up on its own, about every this
#: many spans at the recent arrival rate (see ``_wait_timeout``), but not more
#: often than every ``_MIN_TICK`` seconds: application threads then need not
#: wake it, and waking a sleeping thread (a futex syscall, tens of µs on a VM)
#: would be the slowest part of ``report``.
_TICK_SPANS = 128
_MIN_TICK = 0.005

#: Spans waiting to be encoded from which the worker counts as behind and
#: callers encode their own (or a quarter of the queue, if less): with a tick
#: of about ``_TICK_SPANS`` spans, a backlog this deep means the application
#: produces faster than the worker encodes, which no buffer size can fix.
_BUSY_SPANS = 1024

DROP_NEWEST = "newest"
DROP_OLDEST = "oldest"


def _positive(name: str, value: float) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")


class AsyncReporter(SpanReporter, PackingMixin, DeliveryMixin, WatermarkMixin, ForkMixin):
    """Reports spans from a bounded queue through one background worker.

    Defaults (from :mod:`zipkin_tracer.defaults`): ``max_queue_size`` queued
    spans (drop newest when full), messages of ``message_max_bytes``, a
    message leaves at most ``flush_interval`` seconds after its first span,
    ``close`` (and the exit hook) waits at most ``close_timeout``.
    A failed message is retried for ``retry_timeout`` seconds with backoff
    from ``initial_backoff`` up to ``max_backoff`` (also the cap on a
    collector's ``Retry-After``).
    """

    report_never_raises = True

    def __init__(
        self,
        encoder: Encoder,
        sender: Sender,
        max_queue_size: int = defaults.MAX_QUEUE_SIZE,
        message_max_bytes: int = defaults.MESSAGE_MAX_BYTES,
        flush_interval: float = defaults.FLUSH_INTERVAL,
        close_timeout: float = defaults.CLOSE_TIMEOUT,
        *,
        drop_policy: str = DROP_NEWEST,
        retry_timeout: float = defaults.RETRY_TIMEOUT,
        initial_backoff: float = defaults.INITIAL_BACKOFF,
        max_backoff: float = defaults.MAX_BACKOFF,
        close_at_exit: bool = True,
        chunk_size: int = 1000,
        log_interval: float = 60.0,
        caller_encodes: bool = True,
    ) -> None:
        for name, value in (
            ("max_queue_size", max_queue_size),
            ("message_max_bytes", message_max_bytes),
            ("flush_interval", flush_interval),
            ("close_timeout", close_timeout),
            ("retry_timeout", retry_timeout),
            ("initial_backoff", initial_backoff),
            ("max_backoff", max_backoff),
            ("chunk_size", chunk_size),
        ):
            _positive(name, value)
        if not isinstance(max_queue_size, int) or not isinstance(message_max_bytes, int):
            raise ValueError("max_queue_size and message_max_bytes must be integers")
        if drop_policy not in (DROP_NEWEST, DROP_OLDEST):
            raise ValueError(f"drop_policy must be {DROP_NEWEST!r} or {DROP_OLDEST!r}")
        if message_max_bytes < encoder.message_size([64]):
            raise ValueError("message_max_bytes cannot hold even one small span")
        self._encoder = encoder
        self._sender = sender
        self._max_queue = max_queue_size
        # Queue length from which report() encodes the span itself (see report).
        self._busy_at = (
            max(1, min(max_queue_size // 4, _BUSY_SPANS)) if caller_encodes else max_queue_size + 1
        )
        self._yield_at = max(self._busy_at, max_queue_size * 3 // 4)
        self._max_bytes = message_max_bytes
        self._flush_interval = float(flush_interval)
        self._close_timeout = float(close_timeout)
        self._drop_oldest = drop_policy == DROP_OLDEST
        self._retry_timeout = float(retry_timeout)
        self._chunk_size = int(chunk_size)
        self._close_at_exit = close_at_exit
        self._log_interval = float(log_interval)
        self._backoff = Backoff(float(initial_backoff), float(max_backoff))
        self._closed = False
        self._close_deadline = 0.0
        self._init_process_state()
        register(self)

    def _init_process_state(self) -> None:
        """Everything a forked child must not share with its parent."""
        self._pid = os.getpid()
        self._fork_page = fork_sentinel()
        self._lock = threading.Lock()
        self._metrics = ReporterMetrics(self._lock)
        # The queue is two deques in step, spans and their sequence numbers:
        # appending to them allocates nothing the garbage collector tracks (a
        # (seq, span) tuple would), so report() never sets off a collection.
        self._queue = collections.deque()
        self._queue_seqs = collections.deque()
        self._wake = Wakeup()
        # Queue length at which report() wakes the worker (guarded by _lock):
        # 1 while it sleeps with nothing to send, 0 (never) while it works,
        # else set by _prepare_wait.
        self._wake_at = 1
        self._max_span_bytes = 0  # largest encoded span so far
        self._closing = Flag()
        self._halt = Flag()
        self._close_done = Flag()
        self._close_result = False
        if self._closed:
            self._closing.set()
            self._close_done.set()
        self._worker = None
        self._worker_began = None  # the one that ran _run
        # Worker-side state (only the worker, or a caller draining in its place).
        self._message = Message(self._encoder, self._max_bytes)
        self._chunk = []
        self._pos = 0
        self._encoded_bytes = 0
        self._seen_queue_full = 0
        self._tick = self._flush_interval  # worker's own wake-up period, see _wait_timeout
        self._last_take = time.monotonic()
        # Flush bookkeeping, guarded by _lock.
        self._inflight_floor = None
        # The sender stage: one message on the wire while the worker packs the
        # next (see _hand_off). ``_wire`` is guarded by ``_wire_cond`` (only
        # the two background threads wait on it), ``_wire_floor`` by _lock.
        self._wire = None
        self._wire_floor = None
        self._wire_cond = threading.Condition(threading.Lock())
        self._wire_stop = False
        self._sender_thread = None
        self._waiters = []
        self._claimers = []  # threads waiting in _claim_delivery
        self._last_flush_target = 0
        self._max_failed_seq = -1
        # Serialises worker-side code: the worker holds it while it runs, a
        # caller delivering in its place (no thread possible) takes it too.
        self._delivering = None  # guarded by _lock, see _claim_delivery
        self._backoff.succeeded()
        self._failed_attempts = 0  # since the last success: > 0 means "say it recovered"
        # New, not reset: a lock inherited across fork may be held.
        self._log = LogLimiter(logger, self._log_interval)

    # -- application side ---------------------------------------------------------
    def report(self, span: Any) -> None:
        """Queue ``span``; never blocks on I/O and never raises.

        When ``_BUSY_SPANS`` spans (or a quarter of the queue) wait while the
        collector takes what it is sent, the worker is not keeping up with
        encoding: the caller then encodes its own span (a few µs of CPU, no
        I/O, no waiting), which paces a thread that produces spans flat out
        instead of losing them.
        """
        queued = False
        try:
            page = self._fork_page
            if page is not None:
                if not page[0]:  # zeroed: we are a forked child
                    self._after_fork_without_hooks()
            elif self._pid != _getpid():
                self._after_fork_without_hooks()
            queue = self._queue  # after the fork check: a child gets a new one
            if len(queue) >= self._busy_at:  # racy read, fine
                span = self._encode_on_caller(span)
            # ``with``: no bytecode between taking the lock and the cleanup
            # that releases it, so a signal cannot leave it held.
            with self._lock:
                length = len(queue)
                if length < self._max_queue and not self._closed:  # the common case
                    metrics = self._metrics
                    seq = metrics.spans
                    try:
                        queue.append(span)
                        self._queue_seqs.append(seq)
                        metrics.spans = seq + 1  # metrics.queued(), inlined
                        metrics.queued_spans += 1
                    except BaseException:  # a signal handler's exception, re-raised
                        # Complete the append it cut short. No call in here (a
                        # call is where a second signal lands), so nothing can
                        # cut the completion short in turn.
                        try:
                            queue[length]  # IndexError: nothing went in
                            seqs = self._queue_seqs
                            if not seqs or seqs[-1] != seq:
                                seqs += (seq,)
                            if metrics.spans == seq:
                                metrics.spans = seq + 1
                                metrics.queued_spans += 1
                        except IndexError:
                            pass
                        raise
                    queued = True
                    if length + 1 != self._wake_at:
                        return
                else:
                    queued = True  # or counted as dropped: accounted for either way
                    self._report_slow_locked(span)
                    return
            # a batch is ready, or the worker sleeps with nothing to send
            if self._worker is None:
                self._start_worker()
            self._wake.set()
        except Exception as error:  # report() must never raise into the app...
            reraise_signal(error)  # ...but a signal handler's exception is the application's
            self._report_failed(queued, error)

    def _report_failed(self, queued: bool, error: Exception) -> None:
        """A bug inside ``report``: count the span as dropped unless it made it in."""
        try:
            if not queued:
                with self._lock:
                    self._metrics.rejected(INTERNAL_ERROR)
                    self._failed_locked(self._metrics.spans - 1)
            self._log.warn(
                "report_error",
                "Zipkin reporter failed to accept a span (%s)%s",
                type(error).__name__,
                "" if queued else "; it was dropped",
            )
        except Exception as error:
            reraise_signal(error)
            pass

    def _encode_on_caller(self, span: Any) -> Any:
        """``span`` encoded, if the worker is behind while the collector is fine."""
        if self._backoff.failures or self._closed:
            return span  # it may be dropped, and encoding here would not help
        if len(self._queue) >= self._yield_at:
            # The worker is starved of the GIL by producers, not held up by the
            # collector: give it a turn (a yield, not a wait) before queueing.
            _yield()
        try:
            return self._encoder.encode_span(span)
        except Exception as error:  # the worker tries again, and counts the failure
            reraise_signal(error)
            return span

    def _report_slow_locked(self, span: Any) -> None:
        """``report`` when closed or full (caller holds ``_lock``)."""
        metrics = self._metrics
        seq = metrics.spans
        queue = self._queue
        if self._closed:
            metrics.rejected(CLOSED)
            self._failed_locked(seq)
        elif self._drop_oldest:
            queue.popleft()
            old_seq = self._queue_seqs.popleft()
            metrics.evicted(QUEUE_FULL, 1)
            self._failed_locked(old_seq)
            queue.append(span)
            self._queue_seqs.append(seq)
            metrics.queued()
            self._notify_locked()
        else:
            metrics.rejected(QUEUE_FULL)
            self._failed_locked(seq)

    @property
    def metrics(self) -> Dict[str, Any]:
        """A consistent snapshot of the counters (see :mod:`.metrics`)."""
        self._check_pid()
        return self._metrics.snapshot()

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Send everything reported so far; True once the collector accepted all of it.

        False when ``timeout`` passed first or when a span reported since the
        previous ``flush``/``close`` call was dropped.
        """
        self._check_pid()
        deadline = None if timeout is None else time.monotonic() + timeout
        waiter = Waiter(0, False)
        try:  # registered inside, so a signal cannot leave the waiter behind
            with self._lock:
                self._add_waiter_locked(waiter)
                pending = self._floor_locked() < waiter.target
            if pending:
                if not self._worker_alive():
                    if self._closed:
                        return self._await(waiter, time.monotonic())
                    self._start_worker()
                if self._worker_alive():
                    self._wake.set()
                else:
                    self._drain_here(deadline)
            return self._await(waiter, deadline)
        finally:
            self._remove_waiter(waiter)

    def close(self, timeout: Optional[float] = None) -> bool:
        """Flush what is queued, then stop; returns within ``timeout`` (idempotent).

        Spans still undelivered when the time is up are counted dropped with
        reason ``closed``, as are spans reported afterwards.
        """
        self._check_pid()
        budget = self._close_timeout if timeout is None else max(0.0, timeout)
        deadline = time.monotonic() + budget
        waiter = Waiter(0, False)
        first = False
        try:
            with self._lock:
                if not self._closed:
                    self._closed = first = True
                    self._close_deadline = deadline
                    self._add_waiter_locked(waiter)
            if not first:
                self._close_done.wait(budget)
                return self._close_result
            self._close_result = self._close_first(waiter, deadline)
            return self._close_result
        finally:
            self._remove_waiter(waiter)
            if first:  # even when a signal cut the close short
                self._halt.set()
                self._close_done.set()

    def _close_first(self, waiter: Waiter, deadline: float) -> bool:
        self._closing.set()
        self._wake.set()
        # A signal-safe join: _run's exit clears _worker and notifies the waiters.
        self._sleep_until(waiter, deadline, lambda: self._worker is None)
        if not self._worker_alive() and self._queue:
            self._drain_here(deadline)  # no worker, or it stopped early: deliver here
        ok = self._await(waiter, deadline)
        self._halt.set()
        with self._lock:
            leftover = len(self._queue)
            for seq in self._queue_seqs:
                self._failed_locked(seq)
            self._queue.clear()
            self._queue_seqs.clear()
            self._metrics.evicted(CLOSED, leftover)
            in_flight = self._metrics.in_flight_spans
            self._notify_locked()
        if not self._worker_alive():  # else it still uses the sender
            try:
                self._sender.close()
            except Exception as error:
                reraise_signal(error)
                pass
        if leftover or in_flight:
            safe_log(
                logger,
                logging.WARNING,
                "Zipkin reporter closed before delivering everything to %s: "
                "%d queued spans dropped, %d still in flight",
                self._sender.endpoint,
                leftover,
                in_flight,
            )
        return ok and not leftover

    # -- worker ---------------------------------------------------------------------
    def _worker_alive(self) -> bool:
        """Whether a worker runs ``_run`` or is about to (``_run`` clears ``_worker`` as it ends).

        Never ``Thread.is_alive()`` or ``join()`` on a caller's thread: before
        Python 3.13 a signal handler's exception raised inside either marks
        the still-running thread stopped for good (CPython gh-90882), and
        every later ``flush`` then waited its whole timeout beside a worker
        it believed dead.
        """
        return self._worker is not None

    def _start_worker(self) -> None:
        with self._lock:
            if self._worker is not None or self._closed:
                return
            worker = threading.Thread(target=self._run, name="zipkin-reporter", daemon=True)
            self._worker = worker
        try:
            worker.start()
        except RuntimeError:
            # At interpreter shutdown no thread may start; close() or flush()
            # then delivers on the calling thread.
            with self._lock:
                self._worker = None
        except BaseException as error:  # a signal landed inside start()
            # Whether the thread will ever run is unknowable here (a start()
            # cut short may leave it doomed to fail in its own bootstrap, or
            # blocked for good on its start event): unless it already runs
            # ``_run``, it is given up on, and steps aside if it runs late.
            with self._lock:
                if self._worker is worker and self._worker_began is not worker:
                    self._worker = None  # the next span starts another
            reraise_signal(error)  # the handler's own exception, not start()'s cleanup error
            raise

    def _run(self) -> None:
        with self._lock:  # a start() a signal cut short was given up on, yet may run late
            if self._worker is None and not self._closed:
                self._worker = threading.current_thread()
            if self._worker is not threading.current_thread():
                return  # another worker took over: never two
            self._worker_began = self._worker
        TRACING_SUPPRESSED.set(True)
        more = False
        token = object()
        try:
            self._claim_delivery(token, None)
            while True:
                if not more:
                    timeout = self._wait_timeout()
                    if self._prepare_wait(timeout is None):
                        self._wake.wait(timeout)
                self._wake.clear()  # before draining, so no wake-up is lost
                try:
                    more = self._cycle()
                except Exception as error:  # a bug must not end delivery for good
                    more = False
                    self._abandon_in_flight(error)
                # ``more`` was decided before the POSTs: look at the queue again now.
                if self._closing.is_set() and not self._message.spans and not self._queue:
                    self._wire_idle()
                    return  # closed first, so nothing can join the queue any more
        except BaseException as error:  # say why delivery stopped
            safe_log(logger, logging.ERROR, "Zipkin reporter worker stopped: %r", error)
            raise
        finally:
            with self._lock:  # first: a successor waits for the claim released below
                if self._worker is threading.current_thread():
                    self._worker = None  # the next span starts another, unless closed
                    self._wake_at = len(self._queue) + 1
                self._notify_locked()  # close() waits for this
            self._release_delivery(token)

    def _prepare_wait(self, idle: bool) -> bool:
        """Set when report() wakes the worker next; False if it should not sleep at all.

        Idle (no open message): at the first span. Otherwise the worker wakes
        up on its own (``_wait_timeout``) and report() wakes it only when the
        queued spans could fill the open message, assuming none is larger than
        the largest seen so far (so a full message leaves at once), or when
        the queue nears the point where callers start encoding.
        """
        if idle:
            wake_at = 1
        else:
            room = self._max_bytes - self._message.bound
            wake_at = room // (self._max_span_bytes + FRAMING_SLACK) + 1
            wake_at = max(1, min(wake_at, self._busy_at, self._max_queue))
        with self._lock:
            if len(self._queue) >= wake_at:
                return False
            self._wake_at = wake_at
            return True

    def _wait_timeout(self) -> Optional[float]:
        """None (until woken) when idle; else until the message is due or the next tick."""
        if not self._message.spans:
            return None
        due = self._message.started + self._flush_interval - time.monotonic()
        return max(0.0, min(due, self._tick))

    def _adjust_tick(self, taken: int) -> None:
        """Aim at about ``_TICK_SPANS`` spans per wake-up at the rate just seen."""
        now = time.monotonic()
        elapsed, self._last_take = now - self._last_take, now
        if taken:
            tick = elapsed * _TICK_SPANS / taken
        else:
            tick = self._tick * 2
        self._tick = min(self._flush_interval, max(_MIN_TICK, tick))

    def _cycle(self) -> bool:
        """Take a chunk, pack it into messages, send what is due; True if more is queued."""
        more = self._take_chunk()
        if self._pos < len(self._chunk):
            self._add_chunk()
        message = self._message
        if message.spans:
            due = time.monotonic() >= message.started + self._flush_interval
            wanted = not more and (self._closing.is_set() or bool(self._waiters))
            if due or wanted:
                self._send_message()
        self._warn_queue_full()
        return more

    def _take_chunk(self) -> bool:
        with self._lock:
            queue, queue_seqs = self._queue, self._queue_seqs
            count = min(len(queue), self._chunk_size)
            rest = self._chunk[self._pos :]  # left by a signal cutting a caller's drain short
            if rest:
                self._chunk = rest + [(queue_seqs.popleft(), queue.popleft()) for _ in range(count)]
            elif count == len(queue):
                self._chunk = list(zip(queue_seqs, queue))
                queue.clear()
                queue_seqs.clear()
            else:
                popleft, popleft_seq = queue.popleft, queue_seqs.popleft
                self._chunk = [(popleft_seq(), popleft()) for _ in range(count)]
            self._pos = 0
            self._wake_at = 0  # busy: it looks at the queue again before sleeping
            self._metrics.taken(count)
            self._publish_locked()
            more = bool(queue)
        self._adjust_tick(count)
        return more

    def _publish_locked(self) -> None:
        """Expose the oldest in-flight span and the byte count; wake flush waiters."""
        if self._message.seqs:
            self._inflight_floor = self._message.seqs[0]
        elif self._pos < len(self._chunk):
            self._inflight_floor = self._chunk[self._pos][0]
        else:
            self._inflight_floor = None
        self._metrics.span_bytes += self._encoded_bytes
        self._encoded_bytes = 0
        self._notify_locked()

    def _abandon_in_flight(self, error: Exception) -> None:
        """Count what the worker held as dropped after an unexpected error, then go on."""
        seqs, _ = self._message.take()
        seqs += [seq for seq, _ in self._chunk[self._pos :]]
        self._chunk, self._pos = [], 0
        with self._lock:
            self._metrics.failed(INTERNAL_ERROR, len(seqs))
            for seq in seqs:
                self._failed_locked(seq)
            self._publish_locked()
        self._log.warn(
            "internal_error",
            "Zipkin reporter dropped %d spans after an unexpected %s",
            len(seqs),
            type(error).__name__,
        )

    def _drop_span(self, seq: int, reason: str) -> None:
        with self._lock:
            self._metrics.failed(reason, 1)
            self._failed_locked(seq)
            self._publish_locked()

    def _warn_queue_full(self) -> None:
        dropped = self._metrics.spans_dropped.get(QUEUE_FULL, 0)  # a racy read is fine here
        if dropped != self._seen_queue_full:
            self._seen_queue_full = dropped
            self._log.warn(
                "queue_full",
                "Zipkin reporter queue is full (max_queue_size=%d): %d spans dropped so far; "
                "is the collector at %s slow or down?",
                self._max_queue,
                dropped,
                self._sender.endpoint,
            )
