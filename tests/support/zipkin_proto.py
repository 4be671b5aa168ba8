"""Python classes generated from ``proto/zipkin.proto`` by protoc (grpcio-tools).

The reference the proto3 writer is checked against: the official ``protobuf``
runtime serialising the schema's own messages.
"""

from __future__ import annotations

import functools
import importlib
import ipaddress
import sys
import tempfile
from pathlib import Path
from typing import Any

from zipkin_tracer.model import ZipkinModelSpan

PROTO_DIR = Path(__file__).resolve().parents[2] / "proto"


@functools.cache
def zipkin_pb2() -> Any:
    """The generated module, compiled once per process into a temporary directory."""
    from grpc_tools import protoc

    out = Path(tempfile.mkdtemp(prefix="zipkin_pb2_"))
    status = protoc.main(
        ["protoc", f"-I{PROTO_DIR}", f"--python_out={out}", str(PROTO_DIR / "zipkin.proto")]
    )
    if status != 0:
        raise RuntimeError(f"protoc failed on zipkin.proto (status {status})")
    sys.path.insert(0, str(out))
    try:
        return importlib.import_module("zipkin_pb2")
    finally:
        sys.path.remove(str(out))


def _text(value: str) -> str:
    """What the writer makes of text that is not valid Unicode (documented fallback)."""
    return value.encode("utf-8", "replace").decode("utf-8")


def _micros(value: Any) -> int:
    number = int(value)
    return number if 0 <= number < 2**64 else 0


def _endpoint(message: Any, endpoint: Any) -> None:
    if endpoint.service_name:
        message.service_name = _text(endpoint.service_name)
    if endpoint.ipv4:
        message.ipv4 = ipaddress.IPv4Address(endpoint.ipv4).packed
    if endpoint.ipv6:
        message.ipv6 = ipaddress.IPv6Address(endpoint.ipv6).packed
    if endpoint.port:
        message.port = endpoint.port


def to_proto(model: ZipkinModelSpan) -> Any:
    """The schema's ``Span`` for a mapped span, built with protobuf's API."""
    pb = zipkin_pb2()
    span = pb.Span()
    width = 16 if model.trace_id >> 64 else 8
    span.trace_id = model.trace_id.to_bytes(width, "big")
    if model.parent_id:
        span.parent_id = model.parent_id.to_bytes(8, "big")
    span.id = model.id.to_bytes(8, "big")
    if model.kind:
        span.kind = pb.Span.Kind.Value(model.kind)
    span.name = _text(model.name)
    span.timestamp = _micros(model.timestamp)
    span.duration = _micros(model.duration)
    for field, endpoint in (
        (span.local_endpoint, model.local_endpoint),
        (span.remote_endpoint, model.remote_endpoint),
    ):
        if endpoint is not None and not endpoint.is_empty():
            _endpoint(field, endpoint)
    for ts, value in model.annotations:
        span.annotations.add(timestamp=_micros(ts), value=_text(value))
    for key, value in model.tags.items():
        span.tags[_text(key)] = _text(value)
    span.debug = bool(model.debug)
    span.shared = bool(model.shared)
    return span


def serialize(*models: ZipkinModelSpan) -> bytes:
    """protobuf's deterministic bytes of a ``ListOfSpans`` holding these spans."""
    message = zipkin_pb2().ListOfSpans(spans=[to_proto(model) for model in models])
    return bytes(message.SerializeToString(deterministic=True))
