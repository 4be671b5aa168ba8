"""End to end: AsyncReporter + HttpSender deliver a large batch to a real Zipkin."""

from __future__ import annotations

import random

from tests.integration.zipkin_api import ZipkinApi
from tests.support.fakes import DictJsonEncoder, span
from zipkin_tracer.reporting.reporter import AsyncReporter
from zipkin_tracer.transport.http import HttpSender


def test_ten_thousand_spans_are_all_readable_back(zipkin_url: str, zipkin: ZipkinApi) -> None:
    trace_id = f"{random.getrandbits(64) | 1:016x}"
    encoder = DictJsonEncoder()
    sender = HttpSender(
        zipkin_url + "/", path=encoder.path, content_type=encoder.content_type, timeout=10.0
    )
    reporter = AsyncReporter(encoder, sender, close_at_exit=False)
    try:
        for i in range(10000):
            reporter.report(span(i, trace_id=trace_id, pad=20))
        assert reporter.flush(30) is True
        m = reporter.metrics
        assert m["spans_delivered"] == 10000
        assert m["messages"] >= 3  # 10 000 spans do not fit one 500 kB message
        assert m["message_bytes"] <= m["messages"] * 500000
    finally:
        assert reporter.close(5) is True
    stored = zipkin.wait_for_trace(trace_id, spans=10000, timeout=30)
    assert {s["id"] for s in stored} == {f"{i + 1:016x}" for i in range(10000)}
