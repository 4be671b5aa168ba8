"""A burst from many threads to a healthy loopback collector loses nothing."""

from __future__ import annotations

import threading
from typing import List

from tests.support.fake_collector import FakeCollector
from tests.support.fakes import DictJsonEncoder, span
from tests.support.reporting import assert_invariant
from zipkin_tracer.reporting.reporter import AsyncReporter
from zipkin_tracer.transport.http import HttpSender

THREADS, PER_THREAD = 16, 1000


def test_sixteen_threads_bursting_a_thousand_spans_each_lose_none(
    collector: FakeCollector, reporters: List[AsyncReporter]
) -> None:
    reporter = AsyncReporter(
        DictJsonEncoder(), HttpSender(collector.url, timeout=10), close_at_exit=False
    )
    reporters.append(reporter)
    start = threading.Barrier(THREADS)

    def burst(k: int) -> None:
        start.wait(10)
        for i in range(PER_THREAD):
            reporter.report(span(k * PER_THREAD + i))

    threads = [threading.Thread(target=burst, args=(k,)) for k in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    assert reporter.flush(30) is True
    m = reporter.metrics
    assert m["spans_dropped"] == {}, m
    assert m["spans_delivered"] == THREADS * PER_THREAD
    assert_invariant(m)
    ids = collector.received_ids()
    assert len(ids) == len(set(ids)) == THREADS * PER_THREAD
