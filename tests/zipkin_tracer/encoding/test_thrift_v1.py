"""Thrift v1: golden bytes a real Zipkin accepted, and decoding back."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.spans import T0, finished_span
from tests.support.thrift_vectors import (
    ENDPOINT_B,
    VECTOR_A,
    VECTOR_B_SPAN,
    decode_list,
    vector_b_span,
    vector_b_tracer,
)
from tests.support.tracers import make_tracer
from zipkin_tracer.encoding import thrift_v1
from zipkin_tracer.encoding.thrift_v1 import ThriftV1Encoder, idl_path, load_thrift


def test_idl_is_found_in_the_source_tree() -> None:
    assert idl_path().name == "zipkinCore.thrift" and idl_path().exists()


def test_vector_a_from_the_idl_structs() -> None:
    thrift = load_thrift()
    span = thrift.Span(
        trace_id=1,
        name="x",
        id=2,
        annotations=[],
        binary_annotations=[],
        timestamp=1502787600000000,
        duration=150000,
    )
    encoder = ThriftV1Encoder()
    body = encoder.encode_message([encoder.dump(span)])
    assert body == VECTOR_A
    assert len(body) == 78


def test_vector_b_endpoint() -> None:
    thrift = load_thrift()
    endpoint = thrift.Endpoint(ipv4=-1062706431, port=8080, service_name="frontend")
    assert ThriftV1Encoder().dump(endpoint) == ENDPOINT_B


def test_vector_b_from_a_client_span() -> None:
    tracer = vector_b_tracer()
    encoder = ThriftV1Encoder()
    encoded = encoder.encode_span(vector_b_span(tracer))
    assert len(encoded) == 327
    assert encoded == VECTOR_B_SPAN
    assert encoder.encode_message([encoded]) == b"\x0c\x00\x00\x00\x01" + VECTOR_B_SPAN


def test_binary_annotation_value_has_string_type_byte() -> None:
    tracer = vector_b_tracer()
    encoded = ThriftV1Encoder().encode_span(vector_b_span(tracer))
    # key "http.path", then field 2 of the BinaryAnnotation must be type 0x0b
    index = encoded.index(b"http.path") + len(b"http.path")
    assert encoded[index : index + 3] == b"\x0b\x00\x02"


def test_decodes_back() -> None:
    tracer = vector_b_tracer()
    encoder = ThriftV1Encoder()
    span = vector_b_span(tracer)
    span.logs.append((T0 + 10, {"event": "retry"}))
    (decoded,) = decode_list(encoder.encode_message([encoder.encode_span(span)]))
    assert decoded.trace_id == 0x48485A3953BB6124
    assert decoded.trace_id_high == 0x463AC35C9F6413AD
    assert decoded.id == 0xA2FB4A1D1A96D312 - (1 << 64)
    assert decoded.parent_id == 0x0020000000000001
    assert [(a.value, a.timestamp) for a in decoded.annotations] == [
        ("cs", T0),
        ("retry", T0 + 10),
        ("cr", T0 + 150000),
    ]
    assert all(a.host.service_name == "frontend" for a in decoded.annotations)
    tag, address = decoded.binary_annotations
    assert (tag.key, tag.value, tag.annotation_type) == ("http.path", b"/api", 6)
    assert (address.key, address.value, address.annotation_type) == ("sa", b"\x01", 0)
    assert address.host.service_name == "backend" and address.host.port == 9000
    assert (decoded.timestamp, decoded.duration, decoded.debug) == (T0, 150000, False)


@pytest.mark.parametrize(
    "kind, begin, end, address",
    [("server", "sr", "ss", "ca"), ("producer", "ms", None, "ma"), ("consumer", "mr", None, "ma")],
)
def test_kinds(kind: str, begin: str, end: str, address: str) -> None:
    tracer = make_tracer()
    span = finished_span(tracer, tags={"span.kind": kind, "peer.service": "kafka"})
    (decoded,) = decode_list(
        ThriftV1Encoder().encode_message([ThriftV1Encoder().encode_span(span)])
    )
    values = [a.value for a in decoded.annotations]
    assert values == ([begin, end] if end else [begin])
    assert [(b.key, b.host.service_name) for b in decoded.binary_annotations] == [
        (address, "kafka")
    ]
    assert decoded.timestamp == T0 and decoded.duration == 150000


def test_shared_server_span_omits_timestamp_and_duration() -> None:
    tracer = make_tracer()
    span = finished_span(tracer, tags={"span.kind": "server"}, shared=True, debug=True)
    (decoded,) = decode_list(
        ThriftV1Encoder().encode_message([ThriftV1Encoder().encode_span(span)])
    )
    assert decoded.timestamp is None and decoded.duration is None
    assert [(a.value, a.timestamp) for a in decoded.annotations] == [
        ("sr", T0),
        ("ss", T0 + 150000),
    ]
    assert decoded.debug is True


def test_local_span_without_data_gets_an_empty_lc_and_64_bit_ids() -> None:
    tracer = make_tracer()
    span = finished_span(tracer, trace_id=0x17133D482BA4F605, parent_id=None)
    (decoded,) = decode_list(
        ThriftV1Encoder().encode_message([ThriftV1Encoder().encode_span(span)])
    )
    assert decoded.trace_id == 1662740067609015813 and decoded.trace_id_high is None
    assert decoded.parent_id is None
    assert decoded.annotations == []
    (lc,) = decoded.binary_annotations
    assert (lc.key, lc.value, lc.host.service_name) == ("lc", b"", "frontend")


def test_ports_and_ipv6_and_unencodable_text() -> None:
    tracer = make_tracer(local_ip="2001:db8::c001", local_port=50000)
    span = finished_span(tracer, tags={"bad": "\udc80x", "n": 5})
    (decoded,) = decode_list(
        ThriftV1Encoder().encode_message([ThriftV1Encoder().encode_span(span)])
    )
    host = decoded.binary_annotations[0].host
    assert host.port == -15536 and host.ipv4 == 0
    assert host.ipv6 == bytes.fromhex("20010db8000000000000000000" + "00c001")
    assert {b.key: b.value for b in decoded.binary_annotations} == {"bad": b"?x", "n": b"5"}


def test_message_size_is_exact() -> None:
    tracer = make_tracer()
    encoder = ThriftV1Encoder()
    spans = [encoder.encode_span(finished_span(tracer, tags={"i": i})) for i in range(3)]
    for n in range(4):
        assert encoder.message_size([len(x) for x in spans[:n]]) == len(
            encoder.encode_message(spans[:n])
        )
    assert encoder.encode_message([]) == b"\x0c\x00\x00\x00\x00"
    assert (encoder.content_type, encoder.path) == ("application/x-thrift", "/api/v1/spans")


def test_module_is_cached() -> None:
    assert load_thrift() is load_thrift() is thrift_v1._module


def test_json_tracer_does_not_import_thriftpy2() -> None:
    code = (
        "import sys, zipkin_tracer\n"
        "from zipkin_tracer.testing import InMemoryReporter\n"
        "t = zipkin_tracer.ZipkinTracer('a', encoding='json', reporter=InMemoryReporter())\n"
        "t.start_span('x').finish(); t.encoder.encode_span(t.reporter.spans[0])\n"
        "assert 'thriftpy2' not in sys.modules, 'thriftpy2 loaded'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
