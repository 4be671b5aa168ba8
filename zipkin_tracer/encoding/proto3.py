"""Zipkin v2 proto3: ``POST /api/v2/spans`` with ``application/x-protobuf``.

The message is the schema's ``ListOfSpans`` (``proto/zipkin.proto``): field 1
repeated, one length-delimited ``Span`` each. Because a repeated field is
just its elements one after another, an encoded span is stored *with* its
field key and length, and a message is the plain concatenation: the framing
costs nothing, and ``message_size`` is a sum.

The writer is direct (no protobuf runtime). It writes what protobuf's own
serialiser writes for the same ``Span`` with deterministic output: fields in
number order, proto3 defaults (zero, empty) left out, map entries (tags)
sorted by key, each with both its key and value. Tests prove the bytes
identical to the ``protobuf`` package's for arbitrary spans. Where protobuf
would refuse the input, the writer falls back instead of failing: text that
is not valid Unicode (a lone surrogate) is written with ``?`` in its place,
and a time that is not an integer in 0..2**64-1 microseconds is truncated
to one (a negative time is left out).
"""

from __future__ import annotations

import ipaddress
import struct
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from zipkin_tracer.encoding.base import Encoder
from zipkin_tracer.ids import MASK_64
from zipkin_tracer.model import (
    CLIENT,
    CONSUMER,
    PRODUCER,
    SERVER,
    Endpoint,
    ZipkinModelSpan,
    fields,
)

__all__ = ["Proto3Encoder", "endpoint_bytes", "varint", "write_span"]

#: Single-byte varints, the length of nearly every field.
_SMALL = [bytes((n,)) for n in range(128)]
_U64 = struct.Struct("<Q").pack  # fixed64, little-endian
_BE64 = struct.Struct(">Q").pack  # an id's 8 bytes, big-endian as in the schema

# Field keys: (field number << 3) | wire type (0 varint, 1 fixed64, 2 length-delimited).
_LIST_SPAN = b"\x0a"  # ListOfSpans.spans = 1
_TRACE_ID_8 = b"\x0a\x08"  # Span.trace_id = 1, 8 bytes
_TRACE_ID_16 = b"\x0a\x10"  # ... or 16 bytes
_PARENT_ID = b"\x12\x08"  # parent_id = 2
_ID = b"\x1a\x08"  # id = 3
_KIND = {CLIENT: b"\x20\x01", SERVER: b"\x20\x02", PRODUCER: b"\x20\x03", CONSUMER: b"\x20\x04"}
_NAME = b"\x2a"  # name = 5
_TIMESTAMP = b"\x31"  # fixed64 timestamp = 6
_DURATION = b"\x38"  # uint64 duration = 7
_LOCAL = b"\x42"  # Endpoint local_endpoint = 8
_REMOTE = b"\x4a"  # Endpoint remote_endpoint = 9
_ANNOTATION = b"\x52"  # repeated Annotation annotations = 10
_TAG = b"\x5a"  # map<string, string> tags = 11 (entries: key = 1, value = 2)
_DEBUG = b"\x60\x01"  # bool debug = 12
_SHARED = b"\x68\x01"  # bool shared = 13
_ANN_TIMESTAMP = b"\x09"  # Annotation: fixed64 timestamp = 1
_ANN_VALUE = b"\x12"  # string value = 2
_ENTRY_KEY = b"\x0a"
_ENTRY_VALUE = b"\x12"
_EP_SERVICE = b"\x0a"  # Endpoint: string service_name = 1
_EP_IPV4 = b"\x12\x04"  # bytes ipv4 = 2
_EP_IPV6 = b"\x1a\x10"  # bytes ipv6 = 3
_EP_PORT = b"\x20"  # int32 port = 4


def varint(value: int) -> bytes:
    """A non-negative integer as a base-128 varint."""
    if value < 0x80:
        return _SMALL[value]
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _text(value: str) -> bytes:
    return value.encode("utf-8", "replace")


def _micros(value: Any) -> int:
    """A time as protobuf's unsigned 64 bits, or 0 (left out) when it cannot be one."""
    if value.__class__ is not int:
        try:
            value = int(value)
        except (TypeError, ValueError, OverflowError):
            return 0
    return value if 0 <= value <= MASK_64 else 0


def endpoint_bytes(endpoint: Endpoint) -> bytes:
    """The ``Endpoint`` message's fields (no key or length of its own)."""
    out: List[bytes] = []
    if endpoint.service_name:
        data = _text(endpoint.service_name)
        out += (_EP_SERVICE, varint(len(data)), data)
    if endpoint.ipv4:
        out += (_EP_IPV4, ipaddress.IPv4Address(endpoint.ipv4).packed)
    if endpoint.ipv6:
        out += (_EP_IPV6, ipaddress.IPv6Address(endpoint.ipv6).packed)
    if endpoint.port:
        out += (_EP_PORT, varint(endpoint.port))  # 1..65535 (the model checks)
    return b"".join(out)


def _endpoint_field(key: bytes, endpoint: Optional[Endpoint]) -> bytes:
    """The whole ``local_endpoint``/``remote_endpoint`` field; empty when the endpoint is."""
    if endpoint is None:
        return b""
    body = endpoint_bytes(endpoint)
    return key + varint(len(body)) + body if body else b""


def write_span(model: ZipkinModelSpan) -> bytes:
    """One ``ListOfSpans.spans`` element (key, length, ``Span``) for a mapped span."""
    return _write_span(
        model.trace_id,
        model.parent_id,
        model.id,
        model.kind,
        model.name,
        model.timestamp,
        model.duration,
        _endpoint_field(_LOCAL, model.local_endpoint),
        _endpoint_field(_REMOTE, model.remote_endpoint),
        model.annotations,
        model.tags.items(),
        model.debug,
        model.shared,
    )


def _write_span(
    trace_id: int,
    parent_id: Optional[int],
    span_id: int,
    kind: Optional[str],
    name: str,
    timestamp: Any,
    duration: Any,
    local_field: bytes,
    remote_field: bytes,
    annotations: Iterable[Tuple[Any, str]],
    tags: Iterable[Tuple[str, str]],
    debug: bool,
    shared: bool,
) -> bytes:
    """The span from its parts (``*_field``: an endpoint field, already written)."""
    small = _SMALL
    high = trace_id >> 64
    if high:
        out = [_TRACE_ID_16, _BE64(high & MASK_64), _BE64(trace_id & MASK_64)]
    else:
        out = [_TRACE_ID_8, _BE64(trace_id)]
    if parent_id:
        out += (_PARENT_ID, _BE64(parent_id & MASK_64))
    out += (_ID, _BE64(span_id & MASK_64))
    if kind is not None:
        out.append(_KIND[kind])
    if name:
        data = name.encode("utf-8", "replace")
        size = len(data)
        out += (_NAME, small[size] if size < 0x80 else varint(size), data)
    if timestamp.__class__ is not int or not 0 <= timestamp <= MASK_64:
        timestamp = _micros(timestamp)
    if timestamp:
        out += (_TIMESTAMP, _U64(timestamp))
    if duration.__class__ is not int or not 0 <= duration <= MASK_64:
        duration = _micros(duration)
    if duration:
        out += (_DURATION, varint(duration))
    if local_field:
        out.append(local_field)
    if remote_field:
        out.append(remote_field)
    for ts, value in annotations:
        if ts.__class__ is not int or not 0 <= ts <= MASK_64:
            ts = _micros(ts)
        data = value.encode("utf-8", "replace")
        size = len(data)
        head = small[size] if size < 0x80 else varint(size)
        body_size = (9 if ts else 0) + (1 + len(head) + size if size else 0)
        out += (_ANNOTATION, small[body_size] if body_size < 0x80 else varint(body_size))
        if ts:
            out += (_ANN_TIMESTAMP, _U64(ts))
        if size:
            out += (_ANN_VALUE, head, data)
    if tags:
        _write_tags(out, tags)
    if debug:
        out.append(_DEBUG)
    if shared:
        out.append(_SHARED)
    span = b"".join(out)
    size = len(span)
    return b"".join((_LIST_SPAN, small[size] if size < 0x80 else varint(size), span))


#: Tag key → the bytes in front of its value, by the value's encoded size
#: (tag field key, entry length, entry key field, value field key and length),
#: filled in as sizes occur: keys and short sizes repeat from span to span.
_TAG_HEADS: Dict[str, List[Optional[bytes]]] = {}
#: Values up to this many bytes take a cached head; longer ones are written out.
_HEADED_SIZES = 64


def _tag_heads(key: str) -> Optional[List[Optional[bytes]]]:
    """A new head table for ``key``; None for a key that is not a plain,
    encodable ``str`` (those take :func:`_write_odd_tags`)."""
    if key.__class__ is not str:
        return None
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        return None
    if len(_TAG_HEADS) >= 4096:
        _TAG_HEADS.clear()
    heads: List[Optional[bytes]] = [None] * (_HEADED_SIZES + 1)
    _TAG_HEADS[key] = heads
    return heads


def _tag_head(key: str, size: int) -> bytes:
    """Everything of ``key``'s map entry before a value of ``size`` bytes."""
    data = key.encode("utf-8")
    entry = _ENTRY_KEY + varint(len(data)) + data + _ENTRY_VALUE + varint(size)
    return _TAG + varint(len(entry) + size) + entry


def _write_tags(out: List[bytes], tags: Iterable[Tuple[str, str]]) -> None:
    """Map entries sorted by key, as protobuf's deterministic output has them.

    For plain text keys, ``str`` order is code point order, which is the
    UTF-8 byte order protobuf sorts by; keys are unique, so values are never
    compared. An entry always carries both fields, even empty.
    """
    all_heads = _TAG_HEADS
    written: List[bytes] = []
    for key, value in sorted(tags):
        heads = all_heads.get(key)
        if heads is None:
            heads = _tag_heads(key)
            if heads is None:
                _write_odd_tags(out, tags)
                return
        data = value.encode("utf-8", "replace")
        size = len(data)
        if size <= _HEADED_SIZES:
            head = heads[size]
            if head is None:
                head = heads[size] = _tag_head(key, size)
        else:
            head = _tag_head(key, size)
        written += (head, data)
    out += written


def _write_odd_tags(out: List[bytes], tags: Iterable[Tuple[str, str]]) -> None:
    """Tags with a key that is not valid text: sorted by the bytes written, and
    keys that only differ in unencodable text collapse, the last one winning,
    as in a map."""
    entries = {key.encode("utf-8", "replace"): value for key, value in tags}
    for key_data in sorted(entries):
        value_data = entries[key_data].encode("utf-8", "replace")
        body = b"".join(
            (
                _ENTRY_KEY,
                varint(len(key_data)),
                key_data,
                _ENTRY_VALUE,
                varint(len(value_data)),
                value_data,
            )
        )
        out += (_TAG, varint(len(body)), body)


_EndpointKey = Tuple[Any, Any, Any, Any]


class Proto3Encoder(Encoder):
    """Spans as Zipkin v2 proto3; a message is the spans' bytes one after another."""

    content_type = "application/x-protobuf"
    path = "/api/v2/spans"

    def __init__(self) -> None:
        self._local_cache: Dict[_EndpointKey, bytes] = {}

    def _local(self, local: Endpoint) -> bytes:
        key = (local.service_name, local.ipv4, local.ipv6, local.port)
        field = self._local_cache.get(key)
        if field is None:
            if len(self._local_cache) > 64:  # endpoints are per tracer: a handful at most
                self._local_cache.clear()
            field = self._local_cache[key] = _endpoint_field(_LOCAL, local)
        return field

    def encode_span(self, span: Any) -> bytes:
        (
            trace_id,
            span_id,
            parent_id,
            name,
            kind,
            timestamp,
            duration,
            local,
            remote,
            annotations,
            tags,
            debug,
            shared,
        ) = fields(span)
        return _write_span(
            trace_id,
            parent_id,
            span_id,
            kind,
            name,
            timestamp,
            duration,
            self._local(local),
            _endpoint_field(_REMOTE, remote),
            annotations,
            tags.items(),
            debug,
            shared,
        )

    def message_size(self, span_sizes: Sequence[int]) -> int:
        return sum(span_sizes)

    def encode_message(self, encoded_spans: Sequence[bytes]) -> bytes:
        return b"".join(encoded_spans)
