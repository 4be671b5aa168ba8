"""The no-op Span and SpanContext, including the context-manager error handling."""

from __future__ import annotations

import sys
from unittest import mock

import pytest

from opentracing import Span, SpanContext, Tracer, logs, tags
from opentracing.ext import tags as ext_tags


def _span() -> Span:
    return Tracer()._noop_span


def test_span_context_baggage_is_shared_empty_dict() -> None:
    ctx = SpanContext()
    assert ctx.baggage == {}
    assert ctx.baggage is SpanContext.EMPTY_BAGGAGE
    assert SpanContext().baggage is ctx.baggage


def test_span_properties() -> None:
    tracer = Tracer()
    ctx = SpanContext()
    span = Span(tracer=tracer, context=ctx)
    assert span.tracer is tracer
    assert span.context is ctx


def test_methods_chain_and_return_self() -> None:
    span = _span()
    assert span.set_operation_name("x") is span
    assert span.set_tag("k", 1) is span
    assert span.log_kv({"a": 1}) is span
    assert span.log_kv({"a": 1}, timestamp=1.0) is span
    assert span.set_baggage_item("k", "v") is span
    assert span.get_baggage_item("k") is None
    assert span.log_event("e") is span
    assert span.log(event="e") is span
    assert span.finish() is None
    assert span.finish(finish_time=2.0) is None


def test_log_event_calls_log_kv() -> None:
    span = _span()
    with mock.patch.object(span, "log_kv") as log_kv:
        span.log_event("ev")
        span.log_event("ev", payload=7)
    assert log_kv.call_args_list == [
        mock.call({"event": "ev"}),
        mock.call({"event": "ev", "payload": 7}),
    ]


def test_log_keeps_only_event_payload_and_timestamp() -> None:
    span = _span()
    with mock.patch.object(span, "log_kv") as log_kv:
        span.log(event="ev", payload={"p": 1}, timestamp=5.0, other="dropped")
        span.log()
    assert log_kv.call_args_list == [
        mock.call({"event": "ev", "payload": {"p": 1}}, 5.0),
        mock.call({}, None),
    ]


def test_context_manager_finishes() -> None:
    span = _span()
    with mock.patch.object(span, "finish") as finish, mock.patch.object(span, "set_tag") as tag:
        with span as entered:
            assert entered is span
    finish.assert_called_once_with()
    tag.assert_not_called()


def test_context_manager_records_error() -> None:
    span = _span()
    with (
        mock.patch.object(span, "finish") as finish,
        mock.patch.object(span, "set_tag") as set_tag,
        mock.patch.object(span, "log_kv") as log_kv,
        mock.patch.object(span, "log_event") as log_event,
    ):
        message = "the message"
        with pytest.raises(ValueError):
            with span:
                raise ValueError(message)
    finish.assert_called_once_with()
    set_tag.assert_called_once_with("error", True)
    log_event.assert_not_called()
    assert log_kv.call_count == 1
    fields = log_kv.call_args[0][0]
    assert set(fields) == {"event", "message", "error.object", "error.kind", "stack"}
    assert fields[logs.EVENT] is tags.ERROR
    assert fields[logs.MESSAGE] is message
    assert isinstance(fields[logs.ERROR_OBJECT], ValueError)
    assert fields[logs.ERROR_KIND] is ValueError
    assert fields[logs.STACK] is fields[logs.ERROR_OBJECT].__traceback__


def test_on_error_ignores_missing_span_or_exception() -> None:
    span = _span()
    with mock.patch.object(span, "set_tag") as set_tag:
        Span._on_error(span, None, None, None)
        Span._on_error(None, ValueError, ValueError("x"), None)
    set_tag.assert_not_called()


def test_on_error_is_static() -> None:
    assert isinstance(Span.__dict__["_on_error"], staticmethod)
    mock_span = mock.MagicMock(spec=Span)
    try:
        raise KeyError("k")
    except KeyError:
        exc_type, exc, tb = sys.exc_info()
    Span._on_error(mock_span, exc_type, exc, tb)
    mock_span.set_tag.assert_called_once_with(ext_tags.ERROR, True)
