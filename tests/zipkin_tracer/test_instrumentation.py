"""The helpers WSGI and requests share: one suppression flag, one error record."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import zipkin_tracer.transport.base as transport_base
from tests.support.tracers import make_tracer
from zipkin_tracer import _instrumentation
from zipkin_tracer.testing import InMemoryReporter


def test_the_flag_is_one_object_wherever_it_is_imported_from() -> None:
    assert transport_base.TRACING_SUPPRESSED is _instrumentation.TRACING_SUPPRESSED
    token = transport_base.TRACING_SUPPRESSED.set(True)
    try:
        assert _instrumentation.is_tracing_suppressed()
    finally:
        transport_base.TRACING_SUPPRESSED.reset(token)
    assert not _instrumentation.is_tracing_suppressed()


def test_record_error_tags_and_logs_the_exception() -> None:
    reporter = InMemoryReporter()
    span = make_tracer(reporter=reporter).start_span("x")
    _instrumentation.record_error(span, KeyError("k"), logging.getLogger("t"), "test span")
    span.finish()
    assert span.tags["error"] is True
    ((_, fields),) = span.logs
    assert fields["event"] == "error" and fields["error.kind"] == "KeyError"
    assert str(fields["error.object"]) == "'k'"
    assert "message" not in fields  # the text once, in the annotation too


class _Broken:
    def set_tag(self, *args: Any) -> None:
        raise RuntimeError("broken span")


def test_record_error_never_raises_and_names_the_caller(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="t"):
        _instrumentation.record_error(
            _Broken(), ValueError(), logging.getLogger("t"), "client span"
        )  # type: ignore[arg-type]
    assert "could not record an error on the client span" in caplog.text
