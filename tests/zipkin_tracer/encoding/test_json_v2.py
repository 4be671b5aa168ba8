"""JSON v2 encoding: field names, order, framing and exact sizes."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Tuple

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.spans import T0, finished_span
from tests.support.thrift_vectors import VECTOR_B_TAGS
from tests.support.tracers import make_tracer
from zipkin_tracer.encoding.json_v2 import JsonV2Encoder, span_to_dict


def test_client_span_matches_what_zipkin_reads_back_for_vector_b() -> None:
    tracer = make_tracer(service_name="Frontend", local_ip="192.168.99.1", local_port=8080)
    span = finished_span(tracer, tags=dict(VECTOR_B_TAGS))
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


_text = st.text(max_size=12)
_values = st.one_of(_text, st.booleans(), st.integers(), st.floats(allow_nan=False), st.none())


@settings(max_examples=300, deadline=None)
@given(
    name=_text,
    kind=st.sampled_from([None, "client", "server", "producer", "consumer", "other"]),
    tags=st.dictionaries(_text, _values, max_size=4),
    peer=st.fixed_dictionaries(
        {},
        optional={
            "peer.service": _text,
            "peer.ipv4": st.sampled_from(["10.0.0.1", "not an ip", 167772161]),
            "peer.ipv6": st.sampled_from(["::1", "2001:db8::7"]),
            "peer.port": st.integers(-5, 70000),
        },
    ),
    logs=st.lists(st.dictionaries(_text, _values, max_size=3), max_size=3),
    parent=st.sampled_from([None, 0x0020000000000001]),
    flags=st.tuples(st.booleans(), st.booleans()),
    service=st.sampled_from(["frontend", "Ünïcode", ""]),
)
def test_fast_path_is_byte_identical_to_json_dumps(
    name: str,
    kind: Any,
    tags: Dict[str, Any],
    peer: Dict[str, Any],
    logs: List[Dict[str, Any]],
    parent: Any,
    flags: Tuple[bool, bool],
    service: str,
) -> None:
    """encode_span builds the JSON by hand; it must equal json.dumps of the v2 dict."""
    tracer = make_tracer(service_name=service or "unknown")
    all_tags = {**tags, **peer}
    if kind is not None:
        all_tags["span.kind"] = kind
    span = finished_span(
        tracer,
        name,
        parent_id=parent,
        tags=all_tags,
        logs=[(T0 + i, fields) for i, fields in enumerate(logs)],
        debug=flags[0],
        shared=flags[1],
    )
    expected = json.dumps(span_to_dict(span), separators=(",", ":")).encode("ascii")

    assert JsonV2Encoder().encode_span(span) == expected
