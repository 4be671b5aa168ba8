"""Thrift v1 golden vectors (bytes a real Zipkin accepted) and a list decoder."""

from __future__ import annotations

from typing import Any, List

from tests.support.spans import finished_span
from tests.support.tracers import make_tracer
from zipkin_tracer.encoding.thrift_v1 import load_thrift

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


#: The tags of golden vector B: a client span with a remote endpoint.
VECTOR_B_TAGS = {
    "span.kind": "client",
    "http.path": "/api",
    "peer.service": "backend",
    "peer.ipv4": "172.19.0.2",
    "peer.port": 9000,
}


def vector_b_tracer() -> Any:
    return make_tracer(
        service_name="frontend", local_ip="192.168.99.1", local_port=8080, encoding="thrift"
    )


def vector_b_span(tracer: Any) -> Any:
    return finished_span(tracer, tags=dict(VECTOR_B_TAGS))
