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
"""

from __future__ import annotations

import atexit
import collections
import logging
import mmap
import os
import platform
import random
import signal
import sys
import threading
import time
import weakref
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple

from zipkin_tracer.encoding.base import Encoder
from zipkin_tracer.reporting.base import SpanReporter
from zipkin_tracer.reporting.hints import check_suffix
from zipkin_tracer.reporting.log_limiter import LogLimiter, safe_log
from zipkin_tracer.reporting.metrics import (
    CLOSED,
    ENCODE_FAILED,
    INTERNAL_ERROR,
    QUEUE_FULL,
    SEND_FAILED,
    TOO_LARGE,
    ReporterMetrics,
)
from zipkin_tracer.reporting.signal_safe import Flag, Wakeup
from zipkin_tracer.transport.base import (
    TRACING_SUPPRESSED,
    MessageTooLarge,
    Sender,
    SendError,
)

logger = logging.getLogger(__name__)
_getpid = os.getpid
_yield = os.sched_yield if hasattr(os, "sched_yield") else (lambda: time.sleep(0))

#: Linux ``MADV_WIPEONFORK`` (asm-generic value; Python's mmap does not name it).
_MADV_WIPEONFORK = 18
_WIPEONFORK_MACHINES = frozenset({"x86_64", "amd64", "aarch64", "arm64", "i686", "i386"})

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


def _fork_sentinel() -> Optional[mmap.mmap]:
    """One private page the kernel zeroes in any forked child, or None.

    ``MADV_WIPEONFORK`` (Linux 4.14+) makes reading one byte a complete fork
    check, hooks or not, without the ``getpid()`` syscall on every report
    (the way OpenSSL detects forks). Elsewhere the reporter compares PIDs.
    """
    if not sys.platform.startswith("linux") or platform.machine() not in _WIPEONFORK_MACHINES:
        return None
    try:
        page = mmap.mmap(-1, mmap.PAGESIZE, flags=mmap.MAP_PRIVATE)
        page.madvise(_MADV_WIPEONFORK)
        page[0] = 1
    except (OSError, ValueError, AttributeError):  # an older kernel: EINVAL
        return None
    return page


DROP_NEWEST = "newest"
DROP_OLDEST = "oldest"

#: Upper bound assumed for the framing one more span adds to a message (JSON
#: adds 1 byte, Thrift 0, proto3 a few). Only used to skip the exact size
#: computation far from the limit; the encoded body is checked exactly.
_FRAMING_SLACK = 64

_Item = Tuple[int, Any]  # (sequence number, span)


class _Waiter:
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


class _Backoff:
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


class _Message:
    """The next message: encoded spans, their sequence numbers and a size bound."""

    def __init__(self, encoder: Encoder, max_bytes: int) -> None:
        self._encoder = encoder
        self._max_bytes = max_bytes
        self.seqs: List[int] = []
        self.spans: List[bytes] = []
        self.sizes: List[int] = []
        self.bound = 0  # >= the exact message size
        self.started = 0.0

    def fits(self, size: int) -> bool:
        if not self.sizes:
            return True
        if self.bound + size + _FRAMING_SLACK <= self._max_bytes:
            return True
        exact = self._encoder.message_size(self.sizes + [size])
        if exact <= self._max_bytes:
            self.bound = exact - size  # add() puts ``size`` back
            return True
        return False

    def add(self, seq: int, data: bytes, size: int) -> None:
        if not self.sizes:
            self.started = time.monotonic()
            self.bound = self._encoder.message_size([size]) - size
        self.seqs.append(seq)
        self.spans.append(data)
        self.sizes.append(size)
        self.bound += size + _FRAMING_SLACK

    def take(self) -> Tuple[List[int], List[bytes]]:
        seqs, spans = self.seqs, self.spans
        self.seqs, self.spans, self.sizes, self.bound = [], [], [], 0
        return seqs, spans


def _signal_error(error: BaseException) -> Optional[BaseException]:
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


def _reraise_signal(error: BaseException) -> None:
    """Raise the signal handler's exception in ``error``'s chain, if any.

    Used by guards that may run on a caller's thread: the application gets
    its own exception, not a cleanup error the signal caused on the way.
    """
    handlers = _signal_error(error)
    if handlers is error:
        raise error
    if handlers is not None:
        raise handlers from None


def _positive(name: str, value: float) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")


class AsyncReporter(SpanReporter):
    """Reports spans from a bounded queue through one background worker.

    Defaults: 10 000 queued spans (drop newest when full), 500 000-byte
    messages, a message leaves at most ``flush_interval`` seconds after its
    first span, ``close`` (and the exit hook) waits at most ``close_timeout``.
    A failed message is retried for ``retry_timeout`` seconds with backoff
    from ``initial_backoff`` up to ``max_backoff`` (also the cap on a
    collector's ``Retry-After``).
    """

    report_never_raises = True

    def __init__(
        self,
        encoder: Encoder,
        sender: Sender,
        max_queue_size: int = 10000,
        message_max_bytes: int = 500000,
        flush_interval: float = 1.0,
        close_timeout: float = 2.0,
        *,
        drop_policy: str = DROP_NEWEST,
        retry_timeout: float = 60.0,
        initial_backoff: float = 0.1,
        max_backoff: float = 10.0,
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
        self._backoff = _Backoff(float(initial_backoff), float(max_backoff))
        self._closed = False
        self._close_deadline = 0.0
        self._init_process_state()
        _REPORTERS.add(self)

    def _init_process_state(self) -> None:
        """Everything a forked child must not share with its parent."""
        self._pid = os.getpid()
        self._fork_page = _fork_sentinel()
        self._lock = threading.Lock()
        self._metrics = ReporterMetrics(self._lock)
        # The queue is two deques in step, spans and their sequence numbers:
        # appending to them allocates nothing the garbage collector tracks (a
        # (seq, span) tuple would), so report() never sets off a collection.
        self._queue: Deque[Any] = collections.deque()
        self._queue_seqs: Deque[int] = collections.deque()
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
        self._worker: Optional[threading.Thread] = None
        self._worker_began: Optional[threading.Thread] = None  # the one that ran _run
        # Worker-side state (only the worker, or a caller draining in its place).
        self._message = _Message(self._encoder, self._max_bytes)
        self._chunk: List[_Item] = []
        self._pos = 0
        self._encoded_bytes = 0
        self._seen_queue_full = 0
        self._tick = self._flush_interval  # worker's own wake-up period, see _wait_timeout
        self._last_take = time.monotonic()
        # Flush bookkeeping, guarded by _lock.
        self._inflight_floor: Optional[int] = None
        # The sender stage: one message on the wire while the worker packs the
        # next (see _hand_off). ``_wire`` is guarded by ``_wire_cond`` (only
        # the two background threads wait on it), ``_wire_floor`` by _lock.
        self._wire: Optional[Tuple[List[int], List[bytes]]] = None
        self._wire_floor: Optional[int] = None
        self._wire_cond = threading.Condition(threading.Lock())
        self._wire_stop = False
        self._sender_thread: Optional[threading.Thread] = None
        self._waiters: List[_Waiter] = []
        self._claimers: List[_Waiter] = []  # threads waiting in _claim_delivery
        self._last_flush_target = 0
        self._max_failed_seq = -1
        # Serialises worker-side code: the worker holds it while it runs, a
        # caller delivering in its place (no thread possible) takes it too.
        self._delivering: Optional[object] = None  # guarded by _lock, see _claim_delivery
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
            _reraise_signal(error)  # ...but a signal handler's exception is the application's
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
            _reraise_signal(error)
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
            _reraise_signal(error)
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
        waiter = _Waiter(0, False)
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
        waiter = _Waiter(0, False)
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

    def _close_first(self, waiter: _Waiter, deadline: float) -> bool:
        self._closing.set()
        self._wake.set()
        worker = self._worker
        if worker is not None and worker.is_alive():
            worker.join(max(0.0, deadline - time.monotonic()))
        if (worker is None or not worker.is_alive()) and self._queue:
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
        if worker is None or not worker.is_alive():
            try:
                self._sender.close()
            except Exception as error:
                _reraise_signal(error)
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

    # -- flush bookkeeping (caller holds _lock) -------------------------------------
    def _add_waiter_locked(self, waiter: _Waiter) -> None:
        # A waiter whose spans are all handled needs nothing more: this drops
        # any a second signal left behind by cutting a removal short.
        floor = self._floor_locked()
        self._waiters = [w for w in self._waiters if w.target > floor]
        target = self._metrics.spans
        waiter.target = target
        waiter.failed = self._max_failed_seq >= self._last_flush_target
        self._last_flush_target = target
        self._waiters.append(waiter)

    def _remove_waiter(self, waiter: _Waiter) -> None:
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

    def _await(self, waiter: _Waiter, deadline: Optional[float]) -> bool:
        while True:  # the caller removes the waiter
            with self._lock:
                if self._floor_locked() >= waiter.target:
                    return not waiter.failed
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            waiter.sleep(remaining)

    def _notify_locked(self) -> None:
        for waiter in self._waiters:
            waiter.notify()

    # -- worker ---------------------------------------------------------------------
    def _worker_alive(self) -> bool:
        worker = self._worker
        return worker is not None and worker.is_alive()

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
            _reraise_signal(error)  # the handler's own exception, not start()'s cleanup error
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
            self._release_delivery(token)

    def _claim_delivery(self, token: object, deadline: Optional[float]) -> bool:
        """Make ``token`` the one runner of worker-side code; False if the time ran out.

        A token under the queue lock rather than a lock of its own: the
        caller's ``finally`` releases it if it holds it, even when a signal
        landed between the claim and the return.
        """
        waiter = _Waiter()  # target 0: only woken, never counted
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
            wake_at = room // (self._max_span_bytes + _FRAMING_SLACK) + 1
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

    def _add_chunk(self) -> None:
        """``_add`` for every span left in the chunk, with the common case inlined.

        ``_pos`` stays exact after every span (``_publish_locked`` and
        ``_abandon_in_flight`` read it).
        """
        chunk = self._chunk
        encode = self._encoder.encode_span
        message = self._message
        seqs, spans, sizes = message.seqs, message.spans, message.sizes
        # Far below the limit, a span fits without the exact size (see _Message.fits).
        roomy = self._max_bytes - _FRAMING_SLACK
        pos = self._pos
        end = len(chunk)
        while pos < end:
            seq, span = chunk[pos]
            if span.__class__ is bytes:  # encoded by report() (see there)
                data = span
            else:
                try:
                    data = encode(span)
                except Exception as error:  # a bad span must not stop the worker
                    _reraise_signal(error)
                    self._encode_failed(seq, error)
                    pos = self._pos
                    continue
            size = len(data)
            if size > self._max_span_bytes:
                self._max_span_bytes = size
            if seqs and message.bound + size <= roomy:  # _Message.add(), inlined
                seqs.append(seq)
                spans.append(data)
                sizes.append(size)
                message.bound += size + _FRAMING_SLACK
                self._encoded_bytes += size
                self._pos = pos + 1
            else:
                self._add_encoded(seq, data, size)
                seqs, spans, sizes = message.seqs, message.spans, message.sizes
            pos = self._pos

    def _encode_failed(self, seq: int, error: Exception) -> None:
        self._pos += 1
        self._drop_span(seq, ENCODE_FAILED)
        self._log.warn(
            "encode_failed",
            "Zipkin reporter could not encode a span (%s); it was dropped",
            type(error).__name__,
        )

    def _add_encoded(self, seq: int, data: bytes, size: int) -> None:
        if size > self._max_span_bytes:
            self._max_span_bytes = size
        try:
            alone = self._encoder.message_size([size])
        except Exception as error:
            _reraise_signal(error)
            self._encode_failed(seq, error)
            return
        self._encoded_bytes += size
        if alone > self._max_bytes:
            self._pos += 1
            self._drop_span(seq, TOO_LARGE)
            self._log.warn(
                "too_large",
                "Zipkin reporter dropped a span of %d bytes: larger than message_max_bytes=%d",
                size,
                self._max_bytes,
            )
            return
        if not self._message.fits(size):
            self._send_message()
        self._message.add(seq, data, size)
        self._pos += 1

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
            _reraise_signal(error)
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
                _reraise_signal(error)
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
        thread = self._sender_thread
        if thread is not None and thread.is_alive():
            return True
        thread = threading.Thread(target=self._run_sender, name="zipkin-sender", daemon=True)
        try:
            thread.start()
        except RuntimeError:  # interpreter shutdown: the worker sends itself
            return False
        self._sender_thread = thread
        return True

    def _run_sender(self) -> None:
        TRACING_SUPPRESSED.set(True)
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

    # -- fork ---------------------------------------------------------------------------
    def _check_pid(self) -> None:
        page = self._fork_page
        if (page is not None and not page[0]) or self._pid != _getpid():
            self._after_fork_without_hooks()

    def _after_fork_without_hooks(self) -> None:
        """Fork hooks did not run (e.g. uWSGI): re-initialise like the child hook."""
        if self._pid != os.getpid():
            self._after_fork_in_child()

    def _after_fork_in_child(self) -> None:
        """Start clean: the parent's queued spans are the parent's to send."""
        self._init_process_state()
        try:
            self._sender.after_fork_in_child()
        except Exception:
            pass


# -- process-wide hooks -------------------------------------------------------------------
_REPORTERS: weakref.WeakSet[AsyncReporter] = weakref.WeakSet()
_held_at_fork: List[AsyncReporter] = []
#: Test switch: simulate servers whose fork does not run Python's hooks.
fork_hooks_enabled = True


def _before_fork() -> None:
    """Hold every reporter's queue lock so no thread forks mid-append (brief: no I/O under it)."""
    if not fork_hooks_enabled:
        return
    reporters: List[AsyncReporter] = []
    for _ in range(3):  # another thread may be adding a reporter right now
        try:
            reporters = list(_REPORTERS)
            break
        except RuntimeError:
            continue
    for reporter in reporters:
        reporter._lock.acquire()
        _held_at_fork.append(reporter)


def _after_fork_in_parent() -> None:
    while _held_at_fork:
        _held_at_fork.pop()._lock.release()


def _after_fork_in_child() -> None:
    held = list(_held_at_fork)
    _held_at_fork.clear()
    for reporter in held:
        reporter._after_fork_in_child()


def _close_all_at_exit() -> None:
    """Bounded exit flush: each reporter gets at most its ``close_timeout``."""
    for reporter in list(_REPORTERS):
        if not reporter._close_at_exit:
            continue
        try:
            reporter.close()
        except BaseException:  # never change the exit status
            pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_before_fork,
        after_in_parent=_after_fork_in_parent,
        after_in_child=_after_fork_in_child,
    )
atexit.register(_close_all_at_exit)
