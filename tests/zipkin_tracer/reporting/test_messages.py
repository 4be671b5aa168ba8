"""What the reporter's warnings say: what happened, what to check, and that it recovered."""

from __future__ import annotations

import logging
from typing import List

import pytest

from tests.support.fakes import DictJsonEncoder, RecordingSender, span
from zipkin_tracer.reporting.hints import check_suffix, what_to_check
from zipkin_tracer.reporting.reporter import AsyncReporter
from zipkin_tracer.transport.base import SendError

LOGGER = "zipkin_tracer.reporting.reporter"


def messages(caplog: pytest.LogCaptureFixture) -> List[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER]


def failing_first(times: int, error: SendError) -> RecordingSender:
    state = {"left": times}

    def behaviour(body: bytes) -> None:
        if state["left"] > 0:
            state["left"] -= 1
            raise error

    return RecordingSender(behaviour)


def test_a_collector_that_comes_back_gets_one_recovery_line(
    caplog: pytest.LogCaptureFixture, reporters: List[AsyncReporter]
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    sender = failing_first(2, SendError("connection_error", retryable=True))
    reporter = AsyncReporter(
        DictJsonEncoder(), sender, initial_backoff=0.001, max_backoff=0.001, close_at_exit=False
    )
    reporters.append(reporter)
    reporter.report(span(0))
    assert reporter.flush(timeout=10.0) is True
    reporter.report(span(1))
    assert reporter.flush(timeout=10.0) is True

    said = messages(caplog)
    assert len(said) == 2, said
    assert said[0].startswith("Zipkin collector memory://test failed (connection_error")
    assert "check: is Zipkin running" in said[0] and "zipkin-tracer check" in said[0]
    assert said[1].startswith(
        "Zipkin collector memory://test accepts spans again, after 2 failed attempts"
    )


def test_a_refused_message_says_what_to_check(
    caplog: pytest.LogCaptureFixture, reporters: List[AsyncReporter]
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    sender = failing_first(1, SendError("http_405", retryable=False, status=405))
    reporter = AsyncReporter(DictJsonEncoder(), sender, close_at_exit=False)
    reporters.append(reporter)
    reporter.report(span(0))
    assert reporter.flush(timeout=10.0) is False
    reporter.report(span(1))
    assert reporter.flush(timeout=10.0) is True

    dropped, recovered = messages(caplog)
    assert "dropped a message of 1 spans to memory://test (http_405, status 405" in dropped
    assert "not the UI's" in dropped
    assert "accepts spans again, after 1 failed attempts" in recovered


def test_no_recovery_line_without_a_failure(
    caplog: pytest.LogCaptureFixture, reporters: List[AsyncReporter]
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    reporter = AsyncReporter(DictJsonEncoder(), RecordingSender(), close_at_exit=False)
    reporters.append(reporter)
    reporter.report(span(0))
    assert reporter.flush(timeout=10.0) is True
    assert messages(caplog) == []


@pytest.mark.parametrize(
    "cause, words",
    [
        ("connection_error", "host and port of collector_url"),
        ("tls_error", "https:// URL against a plain-HTTP collector"),
        ("timeout", "timeout/connect_timeout"),
        ("http_401", "$ZIPKIN_HEADERS"),
        ("http_503", "Zipkin server's log"),
        ("http_418", "a Zipkin collector?"),
    ],
)
def test_every_send_failure_has_advice(cause: str, words: str) -> None:
    assert words in what_to_check(cause)
    assert check_suffix(cause).startswith("; check: ")


@pytest.mark.parametrize("cause", ["encode_failed", "too_large", "deadline"])
def test_failures_that_are_not_the_collectors_get_no_collector_advice(cause: str) -> None:
    assert check_suffix(cause) == ""
