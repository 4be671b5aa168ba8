"""Kafka sender without a broker: classification, deadlines, close, fork, a missing extra.

The broker-facing behaviour (delivery, a broker that goes away and comes
back, size limits, consumer groups) is in tests/integration/kafka/.
"""

from __future__ import annotations

import socket
import sys
import time
from typing import Iterator

import pytest
from confluent_kafka import KafkaError

from tests.support.fakes import DictJsonEncoder, span
from zipkin_tracer import ZipkinTracer
from zipkin_tracer.reporting.reporter import AsyncReporter
from zipkin_tracer.transport import kafka as kafka_module
from zipkin_tracer.transport.base import MessageTooLarge, SendError
from zipkin_tracer.transport.kafka import KafkaSender


@pytest.fixture
def dead_broker() -> Iterator[str]:
    """host:port of a port nothing listens on (bound, never listening: refused)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    yield f"127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


def test_errors_are_classified() -> None:
    sender = KafkaSender("127.0.0.1:1")
    assert isinstance(sender._classify(KafkaError(KafkaError.MSG_SIZE_TOO_LARGE)), MessageTooLarge)
    assert isinstance(
        sender._classify(KafkaError(KafkaError.RECORD_LIST_TOO_LARGE)), MessageTooLarge
    )
    down = sender._classify(KafkaError(KafkaError._TRANSPORT))
    assert (down.cause, down.retryable) == ("kafka_transport", True)
    timed_out = sender._classify(KafkaError(KafkaError._MSG_TIMED_OUT))
    assert (timed_out.cause, timed_out.retryable) == ("kafka_msg_timed_out", True)
    denied = sender._classify(KafkaError(KafkaError.TOPIC_AUTHORIZATION_FAILED))
    assert (denied.cause, denied.retryable) == ("kafka_topic_authorization_failed", False)
    assert sender.endpoint == "kafka://127.0.0.1:1/zipkin"


def test_a_send_to_an_absent_broker_fails_retryably_at_its_deadline(dead_broker: str) -> None:
    sender = KafkaSender(dead_broker, timeout=5.0)
    first = sender._get_producer()
    started = time.monotonic()
    with pytest.raises(SendError) as raised:
        sender.send(b"[]", timeout=0.5)
    elapsed = time.monotonic() - started
    assert raised.value.cause == "timeout" and raised.value.retryable
    assert 0.5 <= elapsed < 2.0
    assert sender._get_producer() is not first  # the retry starts on a new producer
    started = time.monotonic()
    sender.close()
    assert time.monotonic() - started < 1.0


def test_a_message_over_the_producer_limit_is_too_large(dead_broker: str) -> None:
    sender = KafkaSender(dead_broker, message_max_bytes=1000)
    with pytest.raises(MessageTooLarge):
        sender.send(b"x" * 20000, timeout=1.0)
    sender.close()


def test_the_reporter_never_waits_for_an_absent_broker_and_close_keeps_its_deadline(
    dead_broker: str,
) -> None:
    reporter = AsyncReporter(
        DictJsonEncoder(),
        KafkaSender(dead_broker, timeout=5.0),
        max_queue_size=100,
        close_at_exit=False,
    )
    started = time.monotonic()
    for index in range(300):
        reporter.report(span(index))
    assert time.monotonic() - started < 0.5  # 300 reports, none waits for the broker
    started = time.monotonic()
    assert reporter.close(timeout=1.0) is False
    assert time.monotonic() - started < 2.0
    metrics = reporter.metrics
    assert metrics["spans"] == 300 and metrics["spans_delivered"] == 0
    assert metrics["spans_dropped_total"] + metrics["in_flight_spans"] == 300, metrics
    # the attempt that was in flight at close ends within the sender's timeout
    for thread in (reporter._worker, reporter._sender_thread):
        if thread is not None:
            thread.join(10.0)
            assert not thread.is_alive()
    metrics = reporter.metrics
    assert metrics["spans_dropped_total"] == 300, metrics
    assert metrics["in_flight_spans"] == metrics["queued_spans"] == 0, metrics


def test_a_forked_child_abandons_the_inherited_producer(dead_broker: str) -> None:
    sender = KafkaSender(dead_broker)
    inherited = sender._get_producer()
    refs = sys.getrefcount(inherited)
    sender.after_fork_in_child()
    assert sender._producer is None
    assert kafka_module._ABANDONED[-1] is inherited
    assert sys.getrefcount(inherited) == refs + 1  # the list's, plus one never released
    assert sender._get_producer() is not inherited


def test_a_missing_client_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "confluent_kafka", None)
    with pytest.raises(ImportError, match=r"pip install 'zipkin-opentracing\[kafka\]'"):
        KafkaSender("kafka:9092")


def test_the_tracer_builds_a_kafka_sender_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, dead_broker: str
) -> None:
    monkeypatch.setenv("ZIPKIN_TRANSPORT", "kafka")
    monkeypatch.setenv("ZIPKIN_KAFKA_BOOTSTRAP_SERVERS", dead_broker)
    monkeypatch.setenv("ZIPKIN_KAFKA_TOPIC", "spans.v2")
    tracer = ZipkinTracer("svc", encoding="proto3", close_timeout=0.5)
    try:
        sender = tracer.reporter._sender  # type: ignore[attr-defined]
        assert isinstance(sender, KafkaSender)
        assert (sender.bootstrap_servers, sender.topic) == (dead_broker, "spans.v2")
    finally:
        tracer.close(timeout=0.5)
