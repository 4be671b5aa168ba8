"""MockTracer propagators: text (TEXT_MAP, HTTP_HEADERS) and binary."""

from __future__ import annotations

import struct

import pytest

from opentracing import Format, InvalidCarrierException, SpanContextCorruptedException
from opentracing.mocktracer import MockTracer


@pytest.mark.parametrize("fmt", [Format.TEXT_MAP, Format.HTTP_HEADERS])
def test_text_round_trip(fmt: str) -> None:
    tracer = MockTracer()
    span = tracer.start_span("op").set_baggage_item("user", "fry")
    carrier = {"unrelated": "entry"}
    tracer.inject(span.context, fmt, carrier)
    assert carrier["ot-tracer-traceid"] == format(span.context.trace_id, "x")
    assert carrier["ot-tracer-spanid"] == format(span.context.span_id, "x")
    assert carrier["ot-baggage-user"] == "fry"
    ctx = tracer.extract(fmt, carrier)
    assert ctx is not None
    assert (ctx.trace_id, ctx.span_id) == (span.context.trace_id, span.context.span_id)  # type: ignore[attr-defined]
    assert ctx.baggage == {"user": "fry"}


def test_text_extract_ignores_key_case() -> None:
    tracer = MockTracer()
    ctx = tracer.extract(Format.HTTP_HEADERS, {"OT-Tracer-TraceId": "a", "Ot-Tracer-Spanid": "b"})
    assert (ctx.trace_id, ctx.span_id) == (10, 11)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "carrier",
    [{}, {"ot-tracer-traceid": "1"}, {"ot-tracer-traceid": "1", "ot-tracer-spanid": "zz"}],
)
def test_text_extract_corrupted(carrier: dict) -> None:
    with pytest.raises(SpanContextCorruptedException):
        MockTracer().extract(Format.TEXT_MAP, carrier)


def test_text_invalid_carrier() -> None:
    tracer = MockTracer()
    span = tracer.start_span("op")
    with pytest.raises(InvalidCarrierException):
        tracer.inject(span.context, Format.TEXT_MAP, "not a dict")
    with pytest.raises(InvalidCarrierException):
        tracer.extract(Format.TEXT_MAP, "not a dict")


def test_binary_round_trip_appends() -> None:
    tracer = MockTracer()
    span = tracer.start_span("op").set_baggage_item("k", "v")
    carrier = bytearray()
    tracer.inject(span.context, Format.BINARY, carrier)
    size = len(carrier)
    assert size > 0
    tracer.inject(span.context, Format.BINARY, carrier)
    assert len(carrier) == 2 * size  # inject appends
    ctx = tracer.extract(Format.BINARY, carrier)
    assert ctx is not None
    assert (ctx.trace_id, ctx.span_id) == (span.context.trace_id, span.context.span_id)  # type: ignore[attr-defined]
    assert ctx.baggage == {"k": "v"}


@pytest.mark.parametrize("carrier", [b"", bytes(4), {}, None])
def test_binary_requires_a_bytearray(carrier: object) -> None:
    tracer = MockTracer()
    span = tracer.start_span("op")
    with pytest.raises(InvalidCarrierException):
        tracer.inject(span.context, Format.BINARY, carrier)
    with pytest.raises(InvalidCarrierException):
        tracer.extract(Format.BINARY, carrier)


def _frame(payload: bytes) -> bytearray:
    return bytearray(struct.pack(">I", len(payload)) + payload)


def test_frame_helper_round_trips() -> None:
    ctx = MockTracer().extract(
        Format.BINARY, _frame(b'{"trace_id": 1, "span_id": 2, "baggage": {}}')
    )
    assert (ctx.trace_id, ctx.span_id) == (1, 2)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "carrier",
    [
        bytearray(),
        bytearray(b"\x00\x00"),
        bytearray(b"\x00\x00\x00\x10{}"),
        bytearray(b"\x00\x00\x00\x02{}"),
        bytearray(b"\x00\x00\x00\x04\xff\xfe\xfd\xfc"),
        _frame(b'{"trace_id": "1", "span_id": 2, "baggage": {}}'),
        _frame(b'{"trace_id": 1, "span_id": 2, "baggage": 3}'),
        _frame(b'{"trace_id": 1, "baggage": {}}'),
        _frame(b"[1, 2]"),
    ],
)
def test_binary_corrupted(carrier: bytearray) -> None:
    with pytest.raises(SpanContextCorruptedException):
        MockTracer().extract(Format.BINARY, carrier)


def test_text_propagator_constants_keep_upstream_names() -> None:
    from opentracing.mocktracer import text_propagator

    assert text_propagator.prefix_tracer_state == "ot-tracer-"
    assert text_propagator.prefix_baggage == "ot-baggage-"
    assert text_propagator.field_name_trace_id == "ot-tracer-traceid"
    assert text_propagator.field_name_span_id == "ot-tracer-spanid"
    assert text_propagator.field_count == 2
