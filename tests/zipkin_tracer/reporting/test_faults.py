"""The reporter with the real HTTP sender against a misbehaving collector on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any, List

from tests.support.fake_collector import (
    Action,
    Blackhole,
    FakeCollector,
    refused_url,
)
from tests.support.fakes import DictJsonEncoder, span
from tests.support.reporting import assert_invariant
from zipkin_tracer.reporting.reporter import AsyncReporter
from zipkin_tracer.transport.http import HttpSender


def make(made: List[AsyncReporter], url: str, timeout: float = 2.0, **kwargs: Any) -> AsyncReporter:
    kwargs.setdefault("close_at_exit", False)
    kwargs.setdefault("initial_backoff", 0.05)
    kwargs.setdefault("max_backoff", 0.3)
    reporter = AsyncReporter(
        DictJsonEncoder(), HttpSender(url, timeout=timeout, connect_timeout=0.5), **kwargs
    )
    made.append(reporter)
    return reporter


def produce(reporter: AsyncReporter, total: int, seconds: float) -> None:
    """Report ``total`` spans spread over about ``seconds`` (pacing, not synchronisation)."""
    batches = 20
    for b in range(batches):
        for i in range(total // batches):
            reporter.report(span(b * (total // batches) + i))
        time.sleep(seconds / batches)


def test_503_for_a_while_then_recovery_loses_nothing(reporters: List[AsyncReporter]) -> None:
    until = time.monotonic() + 1.5
    server = FakeCollector(lambda n: Action(503) if time.monotonic() < until else Action())
    try:
        reporter = make(reporters, server.url, max_queue_size=20000, flush_interval=0.1)
        produce(reporter, 3000, 2.0)
        assert reporter.flush(10) is True
        ids = server.received_ids()
        assert len(ids) == len(set(ids)) == 3000
        m = reporter.metrics
        assert m["spans_dropped"] == {} and m["retries"] > 0
        assert_invariant(m)
    finally:
        server.stop()


def test_outage_with_a_small_queue_drops_exactly_what_did_not_fit(
    reporters: List[AsyncReporter],
) -> None:
    until = time.monotonic() + 1.0
    server = FakeCollector(lambda n: Action(503) if time.monotonic() < until else Action())
    try:
        reporter = make(reporters, server.url, max_queue_size=300, flush_interval=0.05)
        produce(reporter, 3000, 1.5)
        reporter.flush(10)
        m = reporter.metrics
        ids = server.received_ids()
        assert len(ids) == len(set(ids)) == m["spans_delivered"]
        assert m["spans_dropped"]["queue_full"] > 0
        assert m["spans_dropped_total"] == 3000 - m["spans_delivered"]
        assert m["queued_spans"] == m["in_flight_spans"] == 0
    finally:
        server.stop()


def test_close_against_a_dead_collector_returns_on_time(reporters: List[AsyncReporter]) -> None:
    hole = Blackhole()
    try:
        reporter = make(reporters, hole.url, timeout=10.0, flush_interval=0.01)
        for i in range(5000):
            reporter.report(span(i))
        start = time.monotonic()
        assert reporter.close(1.0) is False
        assert time.monotonic() - start < 1.3
        m = reporter.metrics
        assert_invariant(m)
        assert m["spans_delivered"] == 0 and m["queued_spans"] == 0
    finally:
        hole.close()


def test_refused_port_is_probed_with_backoff_not_hammered(reporters: List[AsyncReporter]) -> None:
    reporter = make(reporters, refused_url(), max_backoff=0.2, retry_timeout=30)
    reporter.report(span(0))
    cpu = time.process_time()
    assert reporter.flush(1.5) is False
    assert time.process_time() - cpu < 0.5
    assert 2 <= reporter.metrics["retries"] <= 60


def test_413_from_the_collector_splits_messages(reporters: List[AsyncReporter]) -> None:
    server = FakeCollector(lambda n: Action(max_body=20000))
    try:
        reporter = make(reporters, server.url, flush_interval=30)
        for i in range(2000):
            reporter.report(span(i))
        assert reporter.flush(10) is True
        assert sorted(server.received_ids()) == sorted(span(i)["id"] for i in range(2000))
        assert reporter.metrics["messages_split"] > 0
    finally:
        server.stop()


def test_resets_and_stalls_are_retried(reporters: List[AsyncReporter]) -> None:
    script = {0: Action(reset=True), 1: Action(stall=True), 2: Action(503)}
    server = FakeCollector(lambda n: script.get(n, Action()))
    try:
        reporter = make(reporters, server.url, timeout=0.5, max_backoff=0.05)
        for i in range(50):
            reporter.report(span(i))
        assert reporter.flush(10) is True
        ids = server.received_ids()
        assert len(ids) == len(set(ids)) == 50
        assert reporter.metrics["retries"] == 3
    finally:
        server.stop()


def test_a_slow_collector_never_slows_report(
    reporters: List[AsyncReporter], monkeypatch: Any
) -> None:
    # Every POST is held until the test ends: report() returning at all,
    # before any answer, is the proof that it never waits for the collector.
    # (How fast it returns is measured in benchmarks/, not here.)
    server = FakeCollector(lambda n: Action(delay=60))
    io_threads = set()
    real_sendall = socket.socket.sendall

    def recording_sendall(self: socket.socket, *args: Any) -> Any:
        io_threads.add(threading.current_thread().name)
        return real_sendall(self, *args)

    monkeypatch.setattr(socket.socket, "sendall", recording_sendall)
    try:
        reporter = make(reporters, server.url, flush_interval=0.01, max_queue_size=5000)
        for i in range(20000):
            reporter.report(span(i))
        assert server.got_request.wait(5)
        m = reporter.metrics
        assert m["spans"] == 20000 and m["spans_delivered"] == 0, m
        assert_invariant(m)
        assert io_threads and io_threads <= {"zipkin-reporter", "zipkin-sender"}
    finally:
        server.stop()
