"""Bad start/finish times: the same documented fallback for both, and a time
Zipkin cannot store drops only its own span, alike in JSON and Thrift."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, List, Optional

import pytest

from tests.support.tracers import make_tracer
from zipkin_tracer import span as span_module
from zipkin_tracer.encoding.json_v2 import JsonV2Encoder
from zipkin_tracer.encoding.thrift_v1 import ThriftV1Encoder
from zipkin_tracer.reporting.reporter import AsyncReporter
from zipkin_tracer.transport.base import Sender

BAD = [float("nan"), float("inf"), float("-inf"), "123", True, None.__class__, object()]


@pytest.fixture(autouse=True)
def _fresh_warnings() -> None:
    span_module._warned_times.clear()


@pytest.mark.parametrize("bad", BAD, ids=repr)
def test_a_bad_start_time_falls_back_to_the_clock(bad: Any) -> None:
    before = time.time_ns() // 1000
    span = make_tracer().start_span("x", start_time=bad)
    after = time.time_ns() // 1000
    assert before <= span.start_us <= after
    span.finish()
    assert span.duration_us >= 1


@pytest.mark.parametrize("bad", BAD, ids=repr)
def test_a_bad_finish_time_falls_back_to_the_clock(bad: Any) -> None:
    span = make_tracer().start_span("x", start_time=1700000000.0)
    span.finish(finish_time=bad)
    assert span.start_us + span.duration_us >= time.time_ns() // 1000 - 60_000_000


def test_start_and_finish_fall_back_alike_and_warn_once_each(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tracer = make_tracer()
    with caplog.at_level(logging.DEBUG, logger="zipkin_tracer.span"):
        for _ in range(3):
            tracer.start_span("x", start_time=float("nan")).finish(finish_time=float("nan"))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert "start_time=nan" in warnings[0] and "finish_time=nan" in warnings[1]
    assert "using the clock" in warnings[0]


def test_good_times_are_kept_exactly() -> None:
    span = make_tracer().start_span("x", start_time=1700000000.25)
    span.finish(finish_time=1700000001.5)
    assert (span.start_us, span.duration_us) == (1700000000250000, 1250000)


def _nanoseconds_as_seconds_span(encoding: str) -> Any:
    span = make_tracer(encoding=encoding).start_span("x", start_time=time.time_ns())
    span.finish()
    return span


@pytest.mark.parametrize("encoder", [JsonV2Encoder(), ThriftV1Encoder(), ThriftV1Encoder(False)])
def test_a_time_beyond_int64_microseconds_is_refused_by_every_encoder(encoder: Any) -> None:
    with pytest.raises(ValueError, match="outside int64 microseconds"):
        encoder.encode_span(_nanoseconds_as_seconds_span("json"))


def test_a_log_time_beyond_int64_microseconds_is_refused() -> None:
    span = make_tracer().start_span("x")
    span.log_kv({"event": "e"}, timestamp=2.0**70)
    span.finish()
    for encoder in (JsonV2Encoder(), ThriftV1Encoder()):
        with pytest.raises(ValueError):
            encoder.encode_span(span)


class _Collector(Sender):
    endpoint = "memory"

    def __init__(self) -> None:
        self.bodies: List[bytes] = []
        self.lock = threading.Lock()

    def send(self, body: bytes, timeout: Optional[float] = None) -> None:
        with self.lock:
            self.bodies.append(body)


@pytest.mark.parametrize("encoding", ["json", "thrift"])
def test_one_bad_time_drops_only_its_span_counted(encoding: str) -> None:
    tracer = make_tracer(encoding=encoding)
    collector = _Collector()
    reporter = AsyncReporter(tracer.encoder, collector, close_at_exit=False)
    tracer.reporter = reporter
    try:
        for index in range(200):
            start = time.time_ns() if index == 100 else None
            tracer.start_span(f"s{index}", start_time=start).finish()
        assert reporter.flush(10) is False  # a span reported since was dropped
        metrics = reporter.metrics
        assert metrics["spans_delivered"] == 199
        assert metrics["spans_dropped"] == {"encode_failed": 1}
        assert metrics["spans"] == (
            metrics["spans_delivered"]
            + metrics["spans_dropped_total"]
            + metrics["queued_spans"]
            + metrics["in_flight_spans"]
        )
    finally:
        reporter.close(5)
