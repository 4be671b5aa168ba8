"""HTTPS to a real TLS collector on 127.0.0.1: certificates verified by default."""

from __future__ import annotations

import logging
from typing import Iterator

import pytest

from tests.support.fake_collector import TLS_CA, FakeCollector
from zipkin_tracer import ZipkinTracer


@pytest.fixture
def collector(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCollector]:
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "ZIPKIN_VERIFY", "ZIPKIN_URL"):
        monkeypatch.delenv(name, raising=False)
    server = FakeCollector(tls=True)
    yield server
    server.stop()


def finish_spans(tracer: ZipkinTracer, count: int) -> None:
    for index in range(count):
        tracer.start_span(f"op-{index}").finish()


def test_an_untrusted_certificate_is_refused_counted_and_said(
    collector: FakeCollector, caplog: pytest.LogCaptureFixture
) -> None:
    tracer = ZipkinTracer(service_name="tls", collector_url=collector.url)
    try:
        finish_spans(tracer, 5)
        assert tracer.flush(10) is False
        metrics = tracer.metrics
        assert metrics["spans_dropped"] == {"send_failed": 5}, metrics
        assert metrics["messages_dropped"] == {"tls_error": 1}, metrics
        assert metrics["retries"] == 0  # a certificate does not get better with retries
        assert collector.received_ids() == []
        warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert any("tls_error" in r.getMessage() and "verify" in r.getMessage() for r in warnings)
    finally:
        tracer.close(1)


@pytest.mark.parametrize("how", ["option", "environment"])
def test_a_ca_bundle_that_trusts_the_collector_delivers_every_span(
    collector: FakeCollector, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    if how == "option":
        tracer = ZipkinTracer(service_name="tls", collector_url=collector.url, verify=TLS_CA)
    else:
        monkeypatch.setenv("ZIPKIN_URL", collector.url)
        monkeypatch.setenv("ZIPKIN_VERIFY", TLS_CA)
        tracer = ZipkinTracer(service_name="tls")
    try:
        finish_spans(tracer, 300)
        assert tracer.flush(10), tracer.metrics
        ids = collector.received_ids()
        assert len(ids) == len(set(ids)) == 300
    finally:
        tracer.close(1)


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_verify_false_skips_the_check(collector: FakeCollector) -> None:
    tracer = ZipkinTracer(service_name="tls", collector_url=collector.url, verify=False)
    try:
        finish_spans(tracer, 3)
        assert tracer.flush(10), tracer.metrics
        assert len(collector.received_ids()) == 3
    finally:
        tracer.close(1)


def test_https_to_a_plain_http_collector_is_a_tls_error(caplog: pytest.LogCaptureFixture) -> None:
    plain = FakeCollector()
    tracer = ZipkinTracer(
        service_name="tls", collector_url=plain.url.replace("http://", "https://")
    )
    try:
        finish_spans(tracer, 2)
        assert tracer.flush(10) is False
        assert tracer.metrics["messages_dropped"] == {"tls_error": 1}
        assert any("plain-HTTP" in r.getMessage() for r in caplog.records)
        assert plain.received_ids() == []
    finally:
        tracer.close(1)
        plain.stop()
