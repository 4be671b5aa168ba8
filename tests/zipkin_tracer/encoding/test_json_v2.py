"""JSON v2 encoding: field names, order, framing and exact sizes."""

from __future__ import annotations

import json

from tests.zipkin_tracer.conftest import make_tracer
from tests.zipkin_tracer.spans import T0, finished_span
from zipkin_tracer.encoding.json_v2 import JsonV2Encoder


def test_client_span_matches_what_zipkin_reads_back_for_vector_b() -> None:
    tracer = make_tracer(service_name="Frontend", local_ip="192.168.99.1", local_port=8080)
    span = finished_span(
        tracer,
        tags={
            "span.kind": "client",
            "http.path": "/api",
            "peer.service": "backend",
            "peer.ipv4": "172.19.0.2",
            "peer.port": 9000,
        },
    )
    encoded = JsonV2Encoder().encode_span(span)
    assert encoded == (
        b'{"traceId":"463ac35c9f6413ad48485a3953bb6124","parentId":"0020000000000001",'
        b'"id":"a2fb4a1d1a96d312","kind":"CLIENT","name":"get /api","timestamp":1502787600000000,'
        b'"duration":150000,"localEndpoint":{"serviceName":"frontend","ipv4":"192.168.99.1",'
        b'"port":8080},"remoteEndpoint":{"serviceName":"backend","ipv4":"172.19.0.2",'
        b'"port":9000},"tags":{"http.path":"/api"}}'
    )


def test_optional_fields() -> None:
    tracer = make_tracer()
    span = finished_span(
        tracer,
        trace_id=1,
        parent_id=None,
        tags={"span.kind": "server", "ok": True},
        logs=[(T0 + 5, {"event": "x"})],
        debug=True,
        shared=True,
    )
    decoded = json.loads(JsonV2Encoder().encode_span(span))
    assert decoded["traceId"] == "0000000000000001"
    assert "parentId" not in decoded
    assert decoded["annotations"] == [{"timestamp": T0 + 5, "value": "x"}]
    assert decoded["tags"] == {"ok": "true"}
    assert decoded["debug"] is True and decoded["shared"] is True


def test_non_ascii_is_escaped_and_round_trips() -> None:
    tracer = make_tracer()
    span = finished_span(tracer, name="grüße", tags={"k": "\u200b\udc80"})
    encoded = JsonV2Encoder().encode_span(span)
    assert encoded.isascii()
    assert json.loads(encoded)["name"] == "grüße"


def test_framing_and_exact_size() -> None:
    tracer = make_tracer()
    encoder = JsonV2Encoder()
    spans = [encoder.encode_span(finished_span(tracer, tags={"i": i})) for i in range(3)]
    for n in range(4):
        message = encoder.encode_message(spans[:n])
        assert encoder.message_size([len(x) for x in spans[:n]]) == len(message)
        assert len(json.loads(message)) == n
    assert (encoder.content_type, encoder.path) == ("application/json", "/api/v2/spans")
