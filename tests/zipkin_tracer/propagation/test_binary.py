from __future__ import annotations

import pytest

from opentracing import Format, InvalidCarrierException, SpanContextCorruptedException
from tests.support.tracers import make_tracer
from zipkin_tracer import ZipkinSpanContext


def test_binary_round_trip_appends_to_the_bytearray() -> None:
    tracer = make_tracer()
    context = ZipkinSpanContext(5, 6, 7, True, False, {"k": "v"})
    carrier = bytearray()
    tracer.inject(context, Format.BINARY, carrier)
    assert carrier == bytearray(
        b'{"b3":"0000000000000005-0000000000000006-1-0000000000000007","ot-baggage-k":"v"}'
    )
    assert tracer.extract(Format.BINARY, carrier) == context
    assert tracer.extract(Format.BINARY, bytes(carrier)) == context
    assert tracer.extract(Format.BINARY, memoryview(bytes(carrier))) == context


def test_empty_binary_is_no_context_and_bad_b3_inside_is_ignored() -> None:
    tracer = make_tracer()
    assert tracer.extract(Format.BINARY, bytearray()) is None
    assert tracer.extract(Format.BINARY, bytearray(b'{"b3":"junk"}')) is None


@pytest.mark.parametrize("payload", [b"\xff\xfe", b"not json", b"[1,2]", b'"b3"', b"[" * 100000])
def test_corrupt_binary_raises_span_context_corrupted(payload: bytes) -> None:
    with pytest.raises(SpanContextCorruptedException):
        make_tracer().extract(Format.BINARY, bytearray(payload))


def test_binary_carrier_types() -> None:
    tracer = make_tracer()
    with pytest.raises(InvalidCarrierException):
        tracer.inject(ZipkinSpanContext(1, 2), Format.BINARY, b"")
    with pytest.raises(InvalidCarrierException):
        tracer.extract(Format.BINARY, "text")
