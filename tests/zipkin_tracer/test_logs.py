"""Log correlation: the filter stamps records with the active span's IDs."""

from __future__ import annotations

import io
import logging
from typing import Any, Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

import opentracing
from opentracing.mocktracer import MockTracer
from zipkin_tracer.logs import LOG_FORMAT, TraceContextFilter, format_id


@pytest.fixture()
def tracer() -> MockTracer:
    return MockTracer()


def _record() -> logging.LogRecord:
    return logging.LogRecord("t", logging.INFO, __file__, 1, "hello", None, None)


def test_ids_of_the_active_span_are_lower_hex(tracer: MockTracer) -> None:
    f = TraceContextFilter(tracer)
    with tracer.start_active_span("op") as scope:
        record = _record()
        assert f.filter(record) is True
        ctx = scope.span.context
        assert record.trace_id == format(ctx.trace_id, "016x")
        assert record.span_id == format(ctx.span_id, "016x")
        assert len(record.trace_id) == 16


def test_child_span_changes_span_id_not_trace_id(tracer: MockTracer) -> None:
    f = TraceContextFilter(tracer)
    with tracer.start_active_span("parent"):
        outer = _record()
        f.filter(outer)
        with tracer.start_active_span("child"):
            inner = _record()
            f.filter(inner)
        after = _record()
        f.filter(after)
    assert inner.trace_id == outer.trace_id
    assert inner.span_id != outer.span_id
    assert after.span_id == outer.span_id


def test_no_active_span_gives_empty_strings(tracer: MockTracer) -> None:
    record = _record()
    TraceContextFilter(tracer).filter(record)
    assert (record.trace_id, record.span_id) == ("", "")


def test_noop_global_tracer_gives_empty_strings() -> None:
    opentracing._reset_global_tracer()
    record = _record()
    assert TraceContextFilter().filter(record) is True
    assert (record.trace_id, record.span_id) == ("", "")


def test_global_tracer_is_looked_up_per_record(tracer: MockTracer) -> None:
    f = TraceContextFilter()  # created before the tracer is installed
    opentracing.set_global_tracer(tracer)
    try:
        with tracer.start_active_span("op") as scope:
            record = _record()
            f.filter(record)
        assert record.span_id == format(scope.span.context.span_id, "016x")
    finally:
        opentracing._reset_global_tracer()


class _ForeignContext(opentracing.SpanContext):
    trace_id = "abc"  # not an int: some other tracer's representation


class _BrokenTracer(opentracing.Tracer):
    @property
    def active_span(self) -> Any:
        raise RuntimeError("broken")


def test_foreign_context_gives_empty_strings(tracer: MockTracer) -> None:
    span = opentracing.Span(tracer, _ForeignContext())
    with tracer.scope_manager.activate(span, False):
        record = _record()
        TraceContextFilter(tracer).filter(record)
    assert (record.trace_id, record.span_id) == ("", "")


def test_broken_tracer_never_breaks_logging() -> None:
    record = _record()
    assert TraceContextFilter(_BrokenTracer()).filter(record) is True
    assert (record.trace_id, record.span_id) == ("", "")


def test_128_bit_trace_id_is_32_chars() -> None:
    assert format_id(2**64) == "0000000000000001" + "0" * 16
    assert format_id(2**64 - 1) == "f" * 16
    assert format_id(1) == "0000000000000001"


@pytest.mark.parametrize("value", [None, "1", -1, 2**128, True, 1.0])
def test_non_ids_format_as_empty(value: Any) -> None:
    assert format_id(value) == ""


@given(st.integers(min_value=0, max_value=2**128 - 1))
def test_format_id_round_trips(value: int) -> None:
    text = format_id(value)
    assert len(text) == (16 if value < 2**64 else 32)
    assert text == text.lower()
    assert int(text, 16) == value


@pytest.fixture()
def captured(tracer: MockTracer) -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(TraceContextFilter(tracer))
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logger = logging.getLogger("tests.logs.captured")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


def test_documented_format_renders_through_a_handler(
    tracer: MockTracer, captured: io.StringIO
) -> None:
    logger = logging.getLogger("tests.logs.captured")
    logger.info("outside")
    with tracer.start_active_span("op") as scope:
        logging.getLogger("tests.logs.captured.child").info("inside")
    lines = captured.getvalue().splitlines()
    assert "[trace_id= span_id=] outside" in lines[0]
    ctx = scope.span.context
    assert f"[trace_id={ctx.trace_id:016x} span_id={ctx.span_id:016x}] inside" in lines[1]


def test_documented_dict_config_builds_the_filter(tracer: MockTracer) -> None:
    import logging.config

    stream = io.StringIO()
    logging.config.dictConfig(
        {
            "version": 1,
            "incremental": False,
            "disable_existing_loggers": False,
            "filters": {"trace": {"()": "zipkin_tracer.logs.TraceContextFilter", "tracer": tracer}},
            "formatters": {"traced": {"format": "%(trace_id)s %(span_id)s %(message)s"}},
            "handlers": {
                "mem": {
                    "class": "logging.StreamHandler",
                    "stream": stream,
                    "filters": ["trace"],
                    "formatter": "traced",
                }
            },
            "loggers": {"tests.logs.dictconfig": {"handlers": ["mem"], "propagate": False}},
        }
    )
    logger = logging.getLogger("tests.logs.dictconfig")
    try:
        logger.warning("outside")
        with tracer.start_active_span("op") as scope:
            logger.warning("inside")
    finally:
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
    ctx = scope.span.context
    assert stream.getvalue().splitlines() == [
        "  outside",
        f"{ctx.trace_id:016x} {ctx.span_id:016x} inside",
    ]
