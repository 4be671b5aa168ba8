"""close(): delivers what was reported before it, returns when done, counts the rest."""

from __future__ import annotations

import threading
import time
from typing import Any, List

from tests.support.fake_collector import ACCEPT, Action, FakeCollector
from tests.support.fakes import DictJsonEncoder, RecordingSender, span
from tests.support.reporting import Gate, assert_invariant
from zipkin_tracer.reporting.reporter import AsyncReporter
from zipkin_tracer.transport.http import HttpSender


def make(made: List[AsyncReporter], sender: Any, **kwargs: Any) -> AsyncReporter:
    kwargs.setdefault("close_at_exit", False)
    reporter = AsyncReporter(DictJsonEncoder(), sender, **kwargs)
    made.append(reporter)
    return reporter


def test_close_delivers_spans_reported_while_a_post_was_in_flight(
    reporters: List[AsyncReporter],
) -> None:
    gate = Gate()
    sender = RecordingSender(gate)
    reporter = make(reporters, sender, flush_interval=0.01)
    reporter.report(span(0))
    assert gate.entered.wait(5)  # the first message is on the wire
    for i in range(1, 501):  # queued after the worker decided nothing more was queued
        reporter.report(span(i))
    result: List[bool] = []
    start = time.monotonic()
    closer = threading.Thread(target=lambda: result.append(reporter.close(6)))
    closer.start()
    deadline = time.monotonic() + 5
    while not reporter._closing.is_set():  # close() has begun
        assert time.monotonic() < deadline
        time.sleep(0.001)
    gate.opened.set()
    closer.join(10)
    elapsed = time.monotonic() - start
    assert result == [True]
    assert sorted(sender.ids()) == sorted(span(i)["id"] for i in range(501))
    assert elapsed < 3, "close() sat out its budget after the work was done"
    m = reporter.metrics
    assert m["spans_delivered"] == 501 and m["spans_dropped_total"] == 0
    assert_invariant(m)


def test_close_honours_a_long_retry_after_by_giving_up_counted(
    reporters: List[AsyncReporter],
) -> None:
    collector = FakeCollector(
        lambda n: Action(status=503, headers={"Retry-After": "3600"}) if n == 0 else ACCEPT
    )
    try:
        reporter = make(reporters, HttpSender(collector.url, timeout=5), flush_interval=0.01)
        reporter.report(span(0))
        deadline = time.monotonic() + 5
        while reporter._backoff.failures == 0:  # the 503 arrived; the worker backs off
            assert time.monotonic() < deadline
            time.sleep(0.001)
        start = time.monotonic()
        assert reporter.close(2) is False
        assert time.monotonic() - start < 1.5  # gave up at once: 3600 s exceed the budget
        assert collector.requests == 1, "close() retried at once despite Retry-After"
        m = reporter.metrics
        assert m["spans_dropped"] == {"closed": 1}
        assert_invariant(m)
    finally:
        collector.stop()
