"""Thrift v1: golden bytes a real Zipkin accepted (zipkin-mapping §1.4), and decoding back."""

from __future__ import annotations

import subprocess
import sys
from typing import Any, List

import pytest

from tests.zipkin_tracer.conftest import make_tracer
from tests.zipkin_tracer.spans import T0, finished_span
from zipkin_tracer.encoding import thrift_v1
from zipkin_tracer.encoding.thrift_v1 import ThriftV1Encoder, idl_path, load_thrift

VECTOR_A = bytes.fromhex(
    "0c00000001 0a0001 0000000000000001 0b0003 00000001 78 0a0004 0000000000000002"
    " 0f0006 0c 00000000 0f0008 0c 00000000 020009 00 0a000a 000556c701122400"
    " 0a000b 00000000000249f0 00".replace(" ", "")
)
VECTOR_B_SPAN = bytes.fromhex(
    "0a000148485a3953bb61240b000300000008676574202f6170690a0004a2fb4a1d1a96d3120a000500200000"
    "000000010f00060c000000020a0001000556c7011224000b00020000000263730c0003080001c0a863010600"
    "021f900b00030000000866726f6e74656e6400000a0001000556c701146df00b00020000000263720c000308"
    "0001c0a863010600021f900b00030000000866726f6e74656e6400000f00080c000000020b00010000000968"
    "7474702e706174680b0002000000042f617069080003000000060c0004080001c0a863010600021f900b0003"
    "0000000866726f6e74656e6400000b00010000000273610b00020000000101080003000000000c0004080001"
    "ac13000206000223280b0003000000076261636b656e640000020009000a000a000556c7011224000a000b00"
    "000000000249f00a000c463ac35c9f6413ad00"
)
ENDPOINT_B = bytes.fromhex(
    "080001c0a863010600021f900b0003000000086672 6f6e74656e6400".replace(" ", "")
)


def decode_list(data: bytes) -> List[Any]:
    """Read a /api/v1/spans body: the 5-byte list header, then the spans."""
    from thriftpy2.protocol.binary import TBinaryProtocol  # pure Python: decodes binary as bytes
    from thriftpy2.transport import TMemoryBuffer

    thrift = load_thrift()
    assert data[0] == 12
    count = int.from_bytes(data[1:5], "big", signed=True)
    buffer = TMemoryBuffer(data[5:])
    proto = TBinaryProtocol(buffer)
    spans = []
    for _ in range(count):
        span = thrift.Span()
        span.read(proto)
        spans.append(span)
    assert buffer.read(1) == b""  # nothing left over
    return spans


def vector_b_tracer() -> Any:
    return make_tracer(
        service_name="frontend", local_ip="192.168.99.1", local_port=8080, encoding="thrift"
    )


def vector_b_span(tracer: Any) -> Any:
    return finished_span(
        tracer,
        tags={
            "span.kind": "client",
            "http.path": "/api",
            "peer.service": "backend",
            "peer.ipv4": "172.19.0.2",
            "peer.port": 9000,
        },
    )


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
