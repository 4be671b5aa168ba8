"""Encoders: finished spans → collector messages (Thrift v1, JSON v2, proto3).

The concrete encoders are imported from their modules (``json_v2``,
``thrift_v1``, ``proto3``) so that importing this package never loads thriftpy2.
"""

from __future__ import annotations

from zipkin_tracer.encoding.base import Encoder


def encoder_for(encoding: str) -> Encoder:
    """The encoder for a configured encoding name ("json", "thrift" or "proto3")."""
    if encoding == "json":
        from zipkin_tracer.encoding.json_v2 import JsonV2Encoder

        return JsonV2Encoder()
    if encoding == "thrift":
        from zipkin_tracer.encoding.thrift_v1 import ThriftV1Encoder

        return ThriftV1Encoder()
    if encoding == "proto3":
        from zipkin_tracer.encoding.proto3 import Proto3Encoder

        return Proto3Encoder()
    raise ValueError(f"encoding must be one of json, thrift, proto3; got {encoding!r}")


__all__ = ["Encoder", "encoder_for"]
