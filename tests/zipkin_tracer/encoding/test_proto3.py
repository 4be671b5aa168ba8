"""proto3: the direct writer gives exactly protobuf's bytes for the schema's messages.

The reference is ``proto/zipkin.proto`` compiled by protoc and serialised by
the ``protobuf`` runtime (deterministic, i.e. map entries sorted by key).
"""

from __future__ import annotations

from typing import Any, Dict, List

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.span_strategies import endpoints, spans
from tests.support.spans import T0, finished_span
from tests.support.tracers import make_tracer
from tests.support.zipkin_proto import serialize, zipkin_pb2
from zipkin_tracer.encoding import encoder_for
from zipkin_tracer.encoding.proto3 import Proto3Encoder, varint, write_span
from zipkin_tracer.model import to_model


def _vector_b_span() -> Any:
    tracer = make_tracer(service_name="Frontend", local_ip="192.168.99.1", local_port=8080)
    return finished_span(
        tracer,
        tags={
            "span.kind": "client",
            "http.path": "/api",
            "peer.service": "backend",
            "peer.ipv4": "172.19.0.2",
            "peer.port": 9000,
        },
        logs=[(T0 + 1, {"event": "wire.send"})],
    )


def test_client_span_decodes_with_the_schema() -> None:
    encoded = Proto3Encoder().encode_span(_vector_b_span())
    decoded = zipkin_pb2().ListOfSpans.FromString(encoded)
    (span,) = decoded.spans
    assert span.trace_id.hex() == "463ac35c9f6413ad48485a3953bb6124"
    assert span.parent_id.hex() == "0020000000000001"
    assert span.id.hex() == "a2fb4a1d1a96d312"
    assert span.kind == zipkin_pb2().Span.CLIENT
    assert span.name == "get /api"
    assert (span.timestamp, span.duration) == (T0, 150000)
    assert span.local_endpoint.service_name == "frontend"
    assert span.local_endpoint.ipv4 == bytes([192, 168, 99, 1])
    assert span.local_endpoint.port == 8080
    assert span.remote_endpoint.service_name == "backend"
    assert span.remote_endpoint.ipv4 == bytes([172, 19, 0, 2])
    assert span.remote_endpoint.port == 9000
    assert [(a.timestamp, a.value) for a in span.annotations] == [(T0 + 1, "wire.send")]
    assert dict(span.tags) == {"http.path": "/api"}
    assert not span.debug and not span.shared


def test_client_span_golden_bytes() -> None:
    """The bytes spelled out, so a change of both writer and reference shows."""
    tracer = make_tracer(service_name="a", local_ip="10.0.0.1")
    span = finished_span(
        tracer, "x", trace_id=1, span_id=2, parent_id=None, start_us=3, duration_us=4
    )
    body = (
        b"\x0a\x08" + (1).to_bytes(8, "big")
        + b"\x1a\x08" + (2).to_bytes(8, "big")
        + b"\x2a\x01x"
        + b"\x31" + (3).to_bytes(8, "little")
        + b"\x38\x04"
        + b"\x42\x09\x0a\x01a\x12\x04\x0a\x00\x00\x01"
    )  # fmt: skip
    assert Proto3Encoder().encode_span(span) == b"\x0a" + bytes([len(body)]) + body


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spans(), endpoints, st.integers(1, 40))
def test_writer_is_protobuf(span: Dict[str, Any], endpoint: Any, limit: int) -> None:
    tracer = make_tracer(max_tag_value_length=limit, encoding="proto3", **endpoint)
    finished = finished_span(tracer, **span)
    model = to_model(finished)
    expected = serialize(model)
    assert Proto3Encoder().encode_span(finished) == expected
    assert write_span(model) == expected


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(spans(), min_size=0, max_size=5), endpoints)
def test_message_is_protobufs_list_and_its_size_exact(
    drawn: List[Dict[str, Any]], endpoint: Any
) -> None:
    tracer = make_tracer(encoding="proto3", **endpoint)
    finished = [finished_span(tracer, **span) for span in drawn]
    encoder = Proto3Encoder()
    encoded = [encoder.encode_span(span) for span in finished]
    message = encoder.encode_message(encoded)
    assert message == serialize(*(to_model(span) for span in finished))
    assert encoder.message_size([len(data) for data in encoded]) == len(message)


def test_big_spans_use_multibyte_lengths() -> None:
    tracer = make_tracer(max_tag_value_length=100000)
    span = finished_span(tracer, "n" * 300, tags={"big": "v" * 70000})
    encoded = Proto3Encoder().encode_span(span)
    assert encoded == serialize(to_model(span))
    assert len(encoded) > 70300


def test_unencodable_text_and_odd_times_fall_back_as_documented() -> None:
    tracer = make_tracer()
    span = finished_span(
        tracer,
        "a\ud800",
        tags={"k\udfff": "1", "k?": "2"},  # both keys are written "k?": the last wins
        logs=[(1.5, {"event": "e"}), (-5, {"event": "f"})],  # type: ignore[list-item]
        start_us=2.9,  # type: ignore[arg-type]
    )
    decoded = zipkin_pb2().ListOfSpans.FromString(Proto3Encoder().encode_span(span)).spans[0]
    assert decoded.name == "a?"
    assert dict(decoded.tags) == {"k?": "2"}
    assert [(a.timestamp, a.value) for a in decoded.annotations] == [(1, "e"), (0, "f")]
    assert decoded.timestamp == 2


def test_varint() -> None:
    assert [varint(n) for n in (0, 1, 127, 128, 300, 2**64 - 1)] == [
        b"\x00",
        b"\x01",
        b"\x7f",
        b"\x80\x01",
        b"\xac\x02",
        b"\xff" * 9 + b"\x01",
    ]


def test_encoder_for_and_media_type() -> None:
    encoder = encoder_for("proto3")
    assert isinstance(encoder, Proto3Encoder)
    assert (encoder.content_type, encoder.path) == ("application/x-protobuf", "/api/v2/spans")
    assert encoder.encode_message([]) == b"" and encoder.message_size([]) == 0
