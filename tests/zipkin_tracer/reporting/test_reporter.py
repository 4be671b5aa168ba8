"""AsyncReporter against an in-process sender: batching, bounds, retries, accounting."""

from __future__ import annotations

import gc
import logging
import random
import threading
import time
import tracemalloc
from typing import Any, Dict, List, Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.fakes import DictJsonEncoder, RecordingSender, span, span_ids
from tests.support.reporting import Gate, assert_invariant, park_worker
from zipkin_tracer.reporting.reporter import AsyncReporter
from zipkin_tracer.transport.base import MessageTooLarge, SendError


def make(made: List[AsyncReporter], sender: RecordingSender, **kwargs: Any) -> AsyncReporter:
    kwargs.setdefault("close_at_exit", False)
    reporter = AsyncReporter(DictJsonEncoder(), sender, **kwargs)
    made.append(reporter)
    return reporter


def test_no_thread_until_the_first_span(reporters: List[AsyncReporter]) -> None:
    before = threading.active_count()
    reporter = make(reporters, RecordingSender())
    assert threading.active_count() == before
    reporter.report(span(0))
    assert threading.active_count() == before + 1
    assert reporter.flush(5)


def test_flush_delivers_every_span_exactly_once(reporters: List[AsyncReporter]) -> None:
    sender = RecordingSender()
    reporter = make(reporters, sender, flush_interval=30)
    for i in range(3000):
        reporter.report(span(i))
    assert reporter.flush(5) is True
    ids = sender.ids()
    assert len(ids) == 3000 == len(set(ids))
    m = reporter.metrics
    assert m["spans"] == m["spans_delivered"] == 3000
    assert m["messages"] == len(sender.bodies)
    assert m["message_bytes"] == sum(len(b) for b in sender.bodies)
    assert m["span_bytes"] == sum(len(DictJsonEncoder().encode_span(span(i))) for i in range(3000))
    assert_invariant(m)


def test_a_lone_span_leaves_after_flush_interval(reporters: List[AsyncReporter]) -> None:
    sent = threading.Event()
    sender = RecordingSender(lambda body: sent.set())
    reporter = make(reporters, sender, flush_interval=0.3)
    start = time.monotonic()
    reporter.report(span(0))
    assert sent.wait(2)
    assert 0.25 <= time.monotonic() - start < 0.8


def test_flush_is_true_with_nothing_reported(reporters: List[AsyncReporter]) -> None:
    before = threading.active_count()
    assert make(reporters, RecordingSender()).flush(1) is True
    assert threading.active_count() == before


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    pads=st.lists(st.integers(min_value=0, max_value=3000), min_size=1, max_size=60),
    max_bytes=st.integers(min_value=400, max_value=8000),
)
def test_messages_never_exceed_the_limit(pads: List[int], max_bytes: int) -> None:
    encoder = DictJsonEncoder()
    sender = RecordingSender()
    reporter = AsyncReporter(
        encoder, sender, message_max_bytes=max_bytes, flush_interval=30, close_at_exit=False
    )
    try:
        for i, pad in enumerate(pads):
            reporter.report(span(i, pad=pad))
        reporter.flush(5)
        fitting = {
            span(i)["id"]
            for i, pad in enumerate(pads)
            if len(encoder.encode_span(span(i, pad=pad))) + 2 <= max_bytes
        }
        assert all(len(body) <= max_bytes for body in sender.bodies)
        ids = sender.ids()
        assert sorted(ids) == sorted(fitting)
        m = reporter.metrics
        assert m["spans_dropped"].get("too_large", 0) == len(pads) - len(fitting)
        assert_invariant(m)
    finally:
        reporter.close(1)


def test_a_span_too_large_for_any_message_is_dropped(reporters: List[AsyncReporter]) -> None:
    sender = RecordingSender()
    reporter = make(reporters, sender, message_max_bytes=5000)
    reporter.report(span(0))
    reporter.report(span(1, pad=20000))
    reporter.report(span(2))
    assert reporter.flush(5) is False  # one of the spans did not make it
    assert sorted(sender.ids()) == [span(0)["id"], span(2)["id"]]
    assert reporter.metrics["spans_dropped"] == {"too_large": 1}
    reporter.report(span(3))
    assert reporter.flush(5) is True


def test_encoder_failure_is_counted_and_the_worker_survives(
    reporters: List[AsyncReporter], caplog: pytest.LogCaptureFixture
) -> None:
    sender = RecordingSender()
    reporter = make(reporters, sender)
    reporter.report(object())  # json.dumps raises TypeError on the worker
    reporter.report(span(1))
    assert reporter.flush(5) is False
    assert sender.ids() == [span(1)["id"]]
    assert reporter.metrics["spans_dropped"] == {"encode_failed": 1}
    assert "TypeError" in caplog.text


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_worker_ended_by_a_base_exception_is_replaced_by_the_next_span(
    reporters: List[AsyncReporter], caplog: pytest.LogCaptureFixture
) -> None:
    """A greenlet killed with GreenletExit, a callback calling sys.exit(): delivery goes on."""

    class EndsTheWorkerOnce(DictJsonEncoder):
        ended = threading.Event()

        def encode_span(self, value: Any) -> bytes:
            if not self.ended.is_set():
                self.ended.set()
                raise SystemExit  # not an Exception: the worker thread ends
            return super().encode_span(value)

    delivered = threading.Event()
    sender = RecordingSender(lambda body: delivered.set())
    reporter = AsyncReporter(EndsTheWorkerOnce(), sender, flush_interval=0.05, close_at_exit=False)
    reporters.append(reporter)
    reporter.report(span(0))
    assert EndsTheWorkerOnce.ended.wait(5)
    worker = next(t for t in threading.enumerate() if t.name == "zipkin-reporter")
    worker.join(5)
    reporter.report(span(1))  # no flush: this report starts the next worker
    assert delivered.wait(5), reporter.metrics
    assert reporter.flush(5) and sender.ids() == [span(0)["id"], span(1)["id"]]
    assert "worker stopped: SystemExit" in caplog.text
    assert_invariant(reporter.metrics)


def test_queue_full_drops_are_counted_exactly(reporters: List[AsyncReporter]) -> None:
    gate = Gate()
    sender = RecordingSender(gate)
    reporter = make(reporters, sender, max_queue_size=10000, flush_interval=0.01)
    park_worker(reporter, gate, span(0), span(99999))  # one span sent, one packed
    for i in range(1, 25001):
        reporter.report(span(i))
    m = reporter.metrics
    assert m["in_flight_spans"] == 2
    assert m["queued_spans"] == 10000
    assert m["spans_dropped"] == {"queue_full": 15000}
    assert_invariant(m)
    gate.opened.set()
    assert reporter.flush(10) is False  # dropped spans were reported before the call
    ids = sender.ids()
    assert len(ids) == len(set(ids)) == 10002
    assert reporter.metrics["spans_delivered"] == 10002
    reporter.report(span(99998))
    assert reporter.flush(5) is True


def test_drop_oldest_policy_keeps_the_newest(reporters: List[AsyncReporter]) -> None:
    gate = Gate()
    sender = RecordingSender(gate)
    reporter = make(reporters, sender, max_queue_size=10, flush_interval=0.01, drop_policy="oldest")
    park_worker(reporter, gate, span(0), span(99))
    for i in range(1, 16):
        reporter.report(span(i))
    gate.opened.set()
    reporter.flush(5)
    kept = [span(0)["id"], span(99)["id"]] + [span(i)["id"] for i in range(6, 16)]
    assert sorted(sender.ids()) == sorted(kept)
    assert reporter.metrics["spans_dropped"] == {"queue_full": 5}


def test_http_413_splits_the_message_until_it_fits(reporters: List[AsyncReporter]) -> None:
    def small_bodies_only(body: bytes) -> None:
        if len(body) > 2000:
            raise MessageTooLarge()

    sender = RecordingSender(small_bodies_only)
    reporter = make(reporters, sender, flush_interval=30)
    for i in range(300):
        reporter.report(span(i))
    assert reporter.flush(5) is True
    assert sorted(sender.ids()) == sorted(span(i)["id"] for i in range(300))
    m = reporter.metrics
    assert m["messages_split"] > 0
    assert m["spans_dropped"] == {}
    assert_invariant(m)


def test_single_span_refused_with_413_is_dropped_as_too_large(
    reporters: List[AsyncReporter],
) -> None:
    def refuse(body: bytes) -> None:
        raise MessageTooLarge()

    reporter = make(reporters, RecordingSender(refuse))
    reporter.report(span(0))
    assert reporter.flush(5) is False
    assert reporter.metrics["spans_dropped"] == {"too_large": 1}
    assert reporter.metrics["messages_dropped"] == {"http_413": 1}


def test_retryable_failures_are_retried_until_success(reporters: List[AsyncReporter]) -> None:
    failures = [SendError("http_503", retryable=True, status=503)] * 3

    def flaky(body: bytes) -> None:
        if failures:
            raise failures.pop()

    sender = RecordingSender(flaky)
    reporter = make(reporters, sender, initial_backoff=0.01, max_backoff=0.05)
    for i in range(10):
        reporter.report(span(i))
    assert reporter.flush(5) is True
    m = reporter.metrics
    assert m["retries"] == 3 and sender.attempts == 4
    assert m["spans_delivered"] == 10 and m["spans_dropped"] == {}


def test_retry_after_is_honoured_up_to_the_cap(reporters: List[AsyncReporter]) -> None:
    times: List[float] = []

    def busy_once(body: bytes) -> None:
        times.append(time.monotonic())
        if len(times) == 1:
            raise SendError("http_429", retryable=True, status=429, retry_after=3600)

    reporter = make(reporters, RecordingSender(busy_once), initial_backoff=0.01, max_backoff=0.3)
    reporter.report(span(0))
    assert reporter.flush(5) is True
    assert 0.28 <= times[1] - times[0] < 1.0


def test_other_4xx_is_dropped_without_retry(reporters: List[AsyncReporter]) -> None:
    def bad_request(body: bytes) -> None:
        raise SendError("http_400", retryable=False, status=400)

    sender = RecordingSender(bad_request)
    reporter = make(reporters, sender)
    for i in range(5):
        reporter.report(span(i))
    assert reporter.flush(5) is False
    m = reporter.metrics
    assert sender.attempts == 1
    assert m["spans_dropped"] == {"send_failed": 5}
    assert m["messages_dropped"] == {"http_400": 1}
    assert m["last_error_time"] is not None


def test_a_message_is_dropped_when_its_retry_time_is_up(reporters: List[AsyncReporter]) -> None:
    def down(body: bytes) -> None:
        raise SendError("connection_error", retryable=True)

    sender = RecordingSender(down)
    reporter = make(reporters, sender, retry_timeout=0.3, initial_backoff=0.02, max_backoff=0.05)
    reporter.report(span(0))
    start = time.monotonic()
    assert reporter.flush(3) is False
    assert time.monotonic() - start < 1.5
    m = reporter.metrics
    assert m["spans_dropped"] == {"send_failed": 1}
    assert m["messages_dropped"] == {"connection_error": 1}
    assert 2 <= sender.attempts <= 40  # backoff, not a busy loop


def test_flush_returns_false_on_timeout(reporters: List[AsyncReporter]) -> None:
    gate = Gate()
    reporter = make(reporters, RecordingSender(gate))
    reporter.report(span(0))
    start = time.monotonic()
    assert reporter.flush(0.2) is False
    assert time.monotonic() - start < 0.5
    gate.opened.set()
    assert reporter.flush(5) is True


def test_close_returns_on_time_and_accounts_for_everything(
    reporters: List[AsyncReporter],
) -> None:
    gate = Gate()
    sender = RecordingSender(gate)
    reporter = make(reporters, sender, flush_interval=0.01)
    for i in range(5000):
        reporter.report(span(i))
    assert gate.entered.wait(5)
    start = time.monotonic()
    assert reporter.close(0.5) is False
    assert time.monotonic() - start < 0.8
    m = reporter.metrics
    assert_invariant(m)
    assert m["queued_spans"] == 0
    assert m["spans_dropped"]["closed"] + m["in_flight_spans"] == 5000
    reporter.report(span(5000))
    assert reporter.metrics["spans_dropped"]["closed"] == m["spans_dropped"]["closed"] + 1
    start = time.monotonic()
    assert reporter.close(0.5) is False  # idempotent, and quick
    assert time.monotonic() - start < 0.2
    gate.opened.set()


def test_close_delivers_what_is_queued(reporters: List[AsyncReporter]) -> None:
    sender = RecordingSender()
    reporter = make(reporters, sender, flush_interval=30)
    for i in range(100):
        reporter.report(span(i))
    assert reporter.close(2) is True
    assert len(sender.ids()) == 100
    assert sender.closed == 1
    assert reporter.close(2) is True


def test_sixteen_threads_report_concurrently_without_duplicates(
    reporters: List[AsyncReporter],
) -> None:
    sender = RecordingSender()
    reporter = make(reporters, sender, max_queue_size=40000, flush_interval=0.05)
    start = threading.Barrier(16)

    def produce(t: int) -> None:
        start.wait()
        for i in range(2000):
            reporter.report(span(t * 2000 + i))

    threads = [threading.Thread(target=produce, args=(t,)) for t in range(16)]
    for thread in threads:
        thread.start()
    snapshots = []
    for thread in threads:
        snapshots.append(reporter.metrics)
        thread.join(30)
    assert reporter.flush(10) is True
    ids = sender.ids()
    assert len(ids) == len(set(ids)) == 32000
    for snapshot in snapshots + [reporter.metrics]:
        assert_invariant(snapshot)


def test_invariant_holds_under_random_faults(reporters: List[AsyncReporter]) -> None:
    rng = random.Random(7)

    def chaos(body: bytes) -> None:
        roll = rng.random()
        if roll < 0.2:
            raise SendError("http_503", retryable=True, status=503)
        if roll < 0.3:
            raise SendError("http_400", retryable=False, status=400)
        if roll < 0.4 and len(body) > 300:
            raise MessageTooLarge()

    sender = RecordingSender(chaos)
    reporter = make(
        reporters,
        sender,
        max_queue_size=500,
        message_max_bytes=3000,
        flush_interval=0.01,
        initial_backoff=0.001,
        max_backoff=0.005,
    )
    samples = []
    for i in range(3000):
        reporter.report(span(i, pad=rng.choice([0, 0, 0, 4000])))
        if i % 100 == 0:
            samples.append(reporter.metrics)
    reporter.flush(10)
    final = reporter.metrics
    for sample in samples + [final]:
        assert_invariant(sample)
    ids = sender.ids()
    assert len(ids) == len(set(ids)) == final["spans_delivered"]
    assert final["queued_spans"] == final["in_flight_spans"] == 0


def test_logs_are_rate_limited_and_never_carry_payloads(
    reporters: List[AsyncReporter], caplog: pytest.LogCaptureFixture
) -> None:
    def bad_request(body: bytes) -> None:
        raise SendError("http_400", retryable=False, status=400)

    caplog.set_level(logging.DEBUG, logger="zipkin_tracer")
    reporter = make(reporters, RecordingSender(bad_request), flush_interval=0.001)
    for i in range(200):
        secret = span(i)
        secret["tags"] = {"secret": "PAYLOAD-MARKER"}
        reporter.report(secret)
        reporter.flush(1)
    records = [r for r in caplog.records if r.name.startswith("zipkin_tracer")]
    assert 1 <= len(records) <= 2
    assert "memory://test" in records[0].getMessage()
    assert "400" in records[0].getMessage()
    assert "PAYLOAD-MARKER" not in caplog.text


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_queue_size": 0},
        {"max_queue_size": -1},
        {"max_queue_size": 1.5},
        {"message_max_bytes": 10},
        {"flush_interval": 0},
        {"close_timeout": -1},
        {"retry_timeout": 0},
        {"max_backoff": 0},
        {"drop_policy": "random"},
        {"flush_interval": "1"},
        {"max_queue_size": True},
    ],
)
def test_bad_configuration_is_refused(kwargs: Dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        AsyncReporter(DictJsonEncoder(), RecordingSender(), close_at_exit=False, **kwargs)


def test_report_never_raises(reporters: List[AsyncReporter]) -> None:
    reporter = make(reporters, RecordingSender())

    def broken() -> None:
        raise ValueError("internal fault")

    reporter._start_worker = broken  # type: ignore[method-assign]
    reporter.report(span(0))  # would start the worker: the fault is swallowed
    assert reporter.metrics["queued_spans"] == 1
    assert reporter.close(2) is True  # no worker: close delivers on the calling thread


def test_report_allocates_nothing_the_garbage_collector_tracks(
    reporters: List[AsyncReporter],
) -> None:
    """So a collection never starts inside report(), i.e. inside span.finish()."""
    gate = Gate()
    reporter = make(reporters, RecordingSender(gate), flush_interval=0.01, caller_encodes=False)
    park_worker(reporter, gate, span(0), span(9999))  # nothing else runs
    spans = [span(i) for i in range(1, 5001)]  # more than the 2-tuple free list holds
    gc.disable()
    try:
        before = gc.get_count()[0]
        for item in spans:
            reporter.report(item)
        allocated = gc.get_count()[0] - before
    finally:
        gc.enable()
        gate.opened.set()
    # A tuple per span would be about 3000 here; other tests' idle threads may
    # allocate a little meanwhile.
    assert allocated < 50
    assert reporter.flush(5)


def test_a_fault_before_queueing_is_counted_as_a_drop(
    reporters: List[AsyncReporter], caplog: pytest.LogCaptureFixture
) -> None:
    reporter = make(reporters, RecordingSender())
    reporter._busy_at = "broken"  # type: ignore[assignment]  # comparing it raises TypeError
    with caplog.at_level(logging.WARNING):
        reporter.report(span(0))  # never raises
    m = reporter.metrics
    assert m["spans"] == 1 and m["spans_dropped"] == {"internal_error": 1}
    assert_invariant(m)
    assert "failed to accept a span (TypeError); it was dropped" in caplog.text
    assert reporter.flush(1) is False  # the drop is visible to flush too


def test_flush_body_ids(reporters: List[AsyncReporter]) -> None:
    sender = RecordingSender()
    reporter = make(reporters, sender)
    reporter.report(span(0))
    assert reporter.flush(5)
    assert span_ids(sender.bodies[0]) == [span(0)["id"]]


class FlakyEncoder(DictJsonEncoder):
    """Fails where the worker least expects it: sizing and framing."""

    def __init__(self) -> None:
        self.fail_framing = True
        self.fail_sizing = False

    def message_size(self, span_sizes: Sequence[int]) -> int:
        if self.fail_sizing:
            raise RuntimeError("sizing bug")
        return super().message_size(span_sizes)

    def encode_message(self, encoded_spans: Sequence[bytes]) -> bytes:
        if self.fail_framing:
            raise RuntimeError("framing bug")
        return super().encode_message(encoded_spans)


def test_encoder_bugs_are_counted_and_never_stop_delivery(reporters: List[AsyncReporter]) -> None:
    encoder = FlakyEncoder()
    sender = RecordingSender()
    reporter = AsyncReporter(encoder, sender, close_at_exit=False)
    reporters.append(reporter)
    reporter.report(span(0))
    assert reporter.flush(5) is False
    encoder.fail_framing = False
    encoder.fail_sizing = True
    reporter.report(span(1))
    assert reporter.flush(5) is False
    encoder.fail_sizing = False
    reporter.report(span(2))
    assert reporter.flush(5) is True
    assert sender.ids() == [span(2)["id"]]
    m = reporter.metrics
    assert m["spans_dropped"] == {"encode_failed": 2}
    assert_invariant(m)


def test_memory_stays_flat_while_the_collector_is_down(reporters: List[AsyncReporter]) -> None:
    def down(body: bytes) -> None:
        raise SendError("connection_error", retryable=True)

    reporter = make(
        reporters,
        RecordingSender(down),
        max_queue_size=1000,
        flush_interval=0.001,
        initial_backoff=0.001,
        max_backoff=0.002,
        retry_timeout=0.01,
    )
    tracemalloc.start()
    try:
        peaks = []
        for _ in range(3):  # the first round warms caches and allocator pools up
            for i in range(30000):
                reporter.report(span(i))
            peaks.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.reset_peak()
    finally:
        tracemalloc.stop()
    # Peak is the bounded queue plus one chunk, whatever the number of spans.
    _, first, second = peaks
    assert second < 8_000_000  # 1000 queued spans and a chunk: ~2 MB (3.11) to ~4.5 MB (3.13)
    assert second < first * 1.5
    m = reporter.metrics
    assert m["queued_spans"] <= 1000
    assert_invariant(m)


def test_a_full_message_is_sent_at_once_not_at_the_next_tick(
    reporters: List[AsyncReporter],
) -> None:
    """No missed wake-up (OTel #5400): a full message never waits for the timer."""
    sent = threading.Semaphore(0)
    sender = RecordingSender(lambda body: sent.release())
    reporter = make(reporters, sender, message_max_bytes=1500, flush_interval=30)
    per_message = 1500 // len(DictJsonEncoder().encode_span(span(0)))
    worst = 0.0
    for round_ in range(100):
        start = time.monotonic()
        for i in range(per_message + 1):
            reporter.report(span(round_ * 100 + i))
        assert sent.acquire(timeout=1)
        worst = max(worst, time.monotonic() - start)
    assert worst < 0.1


def test_an_idle_reporter_costs_no_cpu(reporters: List[AsyncReporter]) -> None:
    reporter = make(reporters, RecordingSender(), flush_interval=0.05)
    reporter.report(span(0))
    assert reporter.flush(5)
    cpu = time.process_time()
    threading.Event().wait(0.5)  # idle on purpose: measure what the worker burns
    assert time.process_time() - cpu < 0.02


class UnderestimatingEncoder(DictJsonEncoder):
    """Claims no framing at all: the reporter must still never send an oversized body."""

    def message_size(self, span_sizes: Sequence[int]) -> int:
        return sum(span_sizes) // 2


def test_an_encoder_that_underestimates_sizes_cannot_oversize_a_message(
    reporters: List[AsyncReporter],
) -> None:
    sender = RecordingSender()
    reporter = AsyncReporter(
        UnderestimatingEncoder(), sender, message_max_bytes=1000, close_at_exit=False
    )
    reporters.append(reporter)
    for i in range(50):
        reporter.report(span(i))
    reporter.report(span(50, pad=1500))
    reporter.flush(5)
    assert all(len(body) <= 1000 for body in sender.bodies)
    assert len(set(sender.ids())) == 50
    assert reporter.metrics["spans_dropped"] == {"too_large": 1}


def test_spans_joining_an_open_message_do_not_wake_the_worker_each(
    reporters: List[AsyncReporter],
) -> None:
    """One wake-up per batch: report() makes no syscall per span."""
    sender = RecordingSender()
    reporter = make(reporters, sender, flush_interval=30)
    reporter.report(span(0))  # the idle worker wakes and opens a message
    deadline = time.monotonic() + 5
    while reporter.metrics["in_flight_spans"] != 1 or reporter._wake.is_set():
        assert time.monotonic() < deadline
        time.sleep(0.001)
    time.sleep(0.01)  # the worker is back asleep, waiting for the message to be due
    sets = []
    real_set = reporter._wake.set
    reporter._wake.set = lambda: (sets.append(1), real_set())[1]  # type: ignore[method-assign]
    for i in range(1, 501):  # below the message's room and the callers' threshold
        reporter.report(span(i))
    assert sets == []
    assert reporter.flush(5)
    assert sorted(sender.ids()) == sorted(span(i)["id"] for i in range(501))


def test_the_worker_takes_queued_spans_on_its_own_tick(reporters: List[AsyncReporter]) -> None:
    """Nobody wakes it, nobody flushes, the message is not due: the queue still drains."""
    reporter = make(reporters, RecordingSender(), flush_interval=30)
    reporter.report(span(0))
    for i in range(1, 300):
        reporter.report(span(i))
        if i % 50 == 0:
            time.sleep(0.01)  # a steady arrival rate for the tick to follow
    deadline = time.monotonic() + 3
    while reporter.metrics["queued_spans"]:
        assert time.monotonic() < deadline, reporter.metrics
        time.sleep(0.005)
    m = reporter.metrics
    assert m["in_flight_spans"] == 300 and m["messages"] == 0  # encoded, waiting to be due


class ThreadCountingEncoder(DictJsonEncoder):
    """Counts ``encode_span`` calls per thread name."""

    def __init__(self) -> None:
        self.by_thread: Dict[str, int] = {}
        self.lock = threading.Lock()

    def encode_span(self, span: Any) -> bytes:
        name = threading.current_thread().name
        with self.lock:
            self.by_thread[name] = self.by_thread.get(name, 0) + 1
        return super().encode_span(span)


def _backed_up(made: List[AsyncReporter], sender: RecordingSender, **kwargs: Any) -> AsyncReporter:
    """A reporter of 100 slots; the tests hold its sender stage in a send."""
    reporter = AsyncReporter(
        ThreadCountingEncoder(),
        sender,
        max_queue_size=100,
        flush_interval=0.01,
        close_at_exit=False,
        **kwargs,
    )
    made.append(reporter)
    return reporter


def test_a_backed_up_queue_makes_callers_encode_their_own_spans(
    reporters: List[AsyncReporter],
) -> None:
    gate = Gate()
    sender = RecordingSender(gate)
    reporter = _backed_up(reporters, sender)
    encoder = reporter._encoder
    assert isinstance(encoder, ThreadCountingEncoder)
    park_worker(reporter, gate, span(0), span(1))
    me = threading.current_thread().name
    for i in range(2, 101):  # queue lengths 0..98 at report time
        reporter.report(span(i))
    # From a quarter of the queue on (25 queued), the caller encodes.
    assert encoder.by_thread.get(me) == 99 - 25
    gate.opened.set()
    assert reporter.flush(5) is True
    assert sorted(sender.ids()) == sorted(f"{i + 1:016x}" for i in range(101))
    assert sum(encoder.by_thread.values()) == 101  # nothing encoded twice
    m = reporter.metrics
    assert m["spans_delivered"] == 101
    assert m["span_bytes"] == sum(len(DictJsonEncoder().encode_span(span(i))) for i in range(101))
    assert_invariant(m)


def test_callers_do_not_encode_while_the_collector_fails(reporters: List[AsyncReporter]) -> None:
    gate = Gate()
    failed = threading.Event()

    def fail_once_then_block(body: bytes) -> None:
        if not failed.is_set():
            failed.set()
            raise SendError("http_503", retryable=True, status=503)
        gate(body)

    reporter = _backed_up(reporters, RecordingSender(fail_once_then_block), initial_backoff=0.01)
    encoder = reporter._encoder
    assert isinstance(encoder, ThreadCountingEncoder)
    reporter.report(span(0))
    assert gate.entered.wait(5)  # the retry, after the failure was counted
    for i in range(1, 100):
        reporter.report(span(i))
    assert threading.current_thread().name not in encoder.by_thread
    gate.opened.set()
    assert reporter.flush(5) is True


def test_caller_encoding_can_be_turned_off(reporters: List[AsyncReporter]) -> None:
    gate = Gate()
    reporter = _backed_up(reporters, RecordingSender(gate), caller_encodes=False)
    encoder = reporter._encoder
    assert isinstance(encoder, ThreadCountingEncoder)
    reporter.report(span(0))
    assert gate.entered.wait(5)
    for i in range(1, 100):
        reporter.report(span(i))
    assert threading.current_thread().name not in encoder.by_thread
    gate.opened.set()
    assert reporter.flush(5) is True


def test_a_caller_encoding_failure_is_counted_once_by_the_worker(
    reporters: List[AsyncReporter],
) -> None:
    gate = Gate()
    sender = RecordingSender(gate)
    reporter = _backed_up(reporters, sender)
    reporter.report(span(0))
    assert gate.entered.wait(5)
    for i in range(1, 30):
        reporter.report(span(i))
    reporter.report(object())  # not JSON: fails on the caller, then on the worker
    gate.opened.set()
    assert reporter.flush(5) is False  # a span was dropped
    m = reporter.metrics
    assert m["spans_dropped"] == {"encode_failed": 1}
    assert m["spans_delivered"] == 30
    assert_invariant(m)
