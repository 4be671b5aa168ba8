"""Zipkin v1 Thrift: ``POST /api/v1/spans`` with a bare TBinaryProtocol list<Span>.

The IDL (``thrift/zipkinCore.thrift``) is loaded with thriftpy2 on first use
only, so a tracer that encodes JSON never imports thriftpy2.

Mapping to v1 (what Zipkin's V1SpanConverter reads back as intended):
CLIENT → ``cs``/``cr`` + ``sa``; SERVER → ``sr``/``ss`` + ``ca``; PRODUCER →
``ms`` + ``ma``; CONSUMER → ``mr`` + ``ma``; all annotations and tags carry
the local endpoint as host; addresses are BOOL binary annotations with value
``b"\\x01"`` and the remote endpoint as host; every tag is a STRING. A
shared (joined) server span omits Span.timestamp/duration, which is how v1
says "shared". A span with no annotations and no tags gets an empty ``lc``
tag so it keeps its local endpoint.

Two writers produce the same bytes. The reference is thriftpy2 with the IDL:
:meth:`ThriftV1Encoder.to_thrift` builds the IDL's ``Span`` struct and
:meth:`ThriftV1Encoder.dump` serialises it with TBinaryProtocol. The default
(``ThriftV1Encoder(fast=True)``) is :func:`write_span`, a direct
TBinaryProtocol writer for this one struct layout (field headers as byte
literals, integers with :mod:`struct`); it writes the fields thriftpy2
writes, in the order thriftpy2 writes them (by field id, ``None`` skipped,
``debug`` always), and takes each ``Endpoint``'s bytes from thriftpy2
itself. Tests prove the two byte-identical (golden vectors and a property
test); ``fast=False`` selects the reference writer.
"""

from __future__ import annotations

import ipaddress
import struct
import threading
from pathlib import Path
from typing import Any, Callable, Collection, Dict, List, Optional, Sequence, Tuple

from zipkin_tracer.encoding.base import Encoder
from zipkin_tracer.ids import MASK_64, to_signed64
from zipkin_tracer.model import (
    CLIENT,
    CONSUMER,
    PRODUCER,
    SERVER,
    Endpoint,
    ZipkinModelSpan,
    fields,
    to_model,
)

__all__ = ["ThriftV1Encoder", "idl_path", "load_thrift"]

_LIST_HEADER = struct.Struct(">bi")
_STRUCT = 12
LIST_HEADER_SIZE = 5

_module: Any = None
_lock = threading.Lock()

STRING = 6
BOOL = 0
_TRUE_BYTE = b"\x01"
_ADDRESS_KEY = {CLIENT: "sa", SERVER: "ca", PRODUCER: "ma", CONSUMER: "ma"}


def idl_path() -> Path:
    """The IDL next to this module (installed wheel), else in the source tree."""
    packaged = Path(__file__).with_name("zipkinCore.thrift")
    if packaged.exists():
        return packaged
    return Path(__file__).resolve().parents[2] / "thrift" / "zipkinCore.thrift"


def load_thrift() -> Any:
    """The thriftpy2 module for zipkinCore.thrift, loaded once."""
    global _module
    if _module is None:
        with _lock:
            if _module is None:
                import thriftpy2

                _module = thriftpy2.load(str(idl_path()), module_name="zipkinCore_thrift")
    return _module


def _serializer() -> Any:
    try:
        from thriftpy2.protocol import TCyBinaryProtocolFactory as factory
    except ImportError:  # pragma: no cover - pure-Python thriftpy2
        from thriftpy2.protocol import TBinaryProtocolFactory as factory
    from thriftpy2.utils import serialize

    proto = factory()

    def dump(obj: Any) -> bytes:
        return bytes(serialize(obj, proto))

    return dump


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "replace")


def _thrift_endpoint(thrift: Any, endpoint: Endpoint) -> Any:
    ipv4 = 0
    if endpoint.ipv4:
        ipv4 = struct.unpack(">i", ipaddress.IPv4Address(endpoint.ipv4).packed)[0]
    port = endpoint.port or 0
    if port > 32767:
        port -= 65536
    ipv6: Optional[bytes] = None
    if endpoint.ipv6:
        ipv6 = ipaddress.IPv6Address(endpoint.ipv6).packed
    return thrift.Endpoint(
        ipv4=ipv4,
        port=port,
        service_name=_utf8(endpoint.service_name or ""),
        ipv6=ipv6,
    )


# -- the direct writer -------------------------------------------------------
# TBinaryProtocol field header = type byte + big-endian i16 field id.
_I64 = struct.Struct(">q").pack
_U64 = struct.Struct(">Q").pack  # == ">q" of to_signed64(value & MASK_64)
_I32 = struct.Struct(">i").pack
_SPAN_TRACE_ID = b"\x0a\x00\x01"  # i64 trace_id = 1
_SPAN_NAME = b"\x0b\x00\x03"  # string name = 3
_SPAN_ID = b"\x0a\x00\x04"  # i64 id = 4
_SPAN_PARENT_ID = b"\x0a\x00\x05"  # i64 parent_id = 5
_SPAN_ANNOTATIONS = b"\x0f\x00\x06\x0c"  # list<struct> annotations = 6
_SPAN_BINARY = b"\x0f\x00\x08\x0c"  # list<struct> binary_annotations = 8
_SPAN_DEBUG = (b"\x02\x00\x09\x00", b"\x02\x00\x09\x01")  # bool debug = 9
_SPAN_TIMESTAMP = b"\x0a\x00\x0a"  # i64 timestamp = 10
_SPAN_DURATION = b"\x0a\x00\x0b"  # i64 duration = 11
_SPAN_TRACE_ID_HIGH = b"\x0a\x00\x0c"  # i64 trace_id_high = 12
_ANN_TIMESTAMP = b"\x0a\x00\x01"  # Annotation: i64 timestamp = 1
_ANN_VALUE = b"\x0b\x00\x02"  # string value = 2
_ANN_HOST = b"\x0c\x00\x03"  # Endpoint host = 3
_BIN_KEY = b"\x0b\x00\x01"  # BinaryAnnotation: string key = 1
_BIN_VALUE = b"\x0b\x00\x02"  # binary value = 2
_BIN_TYPE = b"\x08\x00\x03"  # AnnotationType (i32) annotation_type = 3
_BIN_HOST = b"\x0c\x00\x04"  # Endpoint host = 4
_STOP = b"\x00"

_EndpointKey = Tuple[Any, Any, Any, Any]


class _HostSuffixes:
    """Bytes that close an Annotation / a STRING BinaryAnnotation with one host."""

    __slots__ = ("annotation", "tag")

    def __init__(self, endpoint_bytes: bytes) -> None:
        self.annotation = _ANN_HOST + endpoint_bytes + _STOP
        self.tag = _BIN_TYPE + _I32(STRING) + _BIN_HOST + endpoint_bytes + _STOP


def write_span(
    model: ZipkinModelSpan,
    endpoint_bytes: Callable[[Endpoint], bytes],
    local: _HostSuffixes,
) -> bytes:
    """The TBinaryProtocol ``Span`` struct of ``model``: the bytes of
    ``dump(to_thrift(...))``, written directly.

    ``local`` holds the pre-encoded local endpoint; ``endpoint_bytes``
    serialises any other endpoint (thriftpy2 does it: the remote one is rare).
    """
    remote = model.remote_endpoint
    return _write_span(
        model.trace_id,
        model.parent_id,
        model.id,
        model.kind,
        model.name,
        model.timestamp,
        model.duration,
        model.annotations,
        model.tags.items(),
        None if remote is None or model.kind is None else endpoint_bytes(remote),
        model.debug,
        model.shared,
        local,
    )


#: Tag key → the BinaryAnnotation's bytes up to the value's length (keys repeat).
_TAG_PREFIXES: Dict[str, bytes] = {}


def _tag_prefix(key: str) -> bytes:
    data = _utf8(key)
    prefix = _BIN_KEY + _I32(len(data)) + data + _BIN_VALUE
    if key.__class__ is str:  # a subclass may hash or compare differently
        if len(_TAG_PREFIXES) >= 4096:
            _TAG_PREFIXES.clear()
        _TAG_PREFIXES[key] = prefix
    return prefix


_BEGIN_END = {
    CLIENT: (b"cs", b"cr"),
    SERVER: (b"sr", b"ss"),
    PRODUCER: (b"ms", None),
    CONSUMER: (b"mr", None),
}
_NO_BEGIN_END = (None, None)


def _write_span(
    trace_id: int,
    parent_id: Optional[int],
    span_id: int,
    kind: Optional[str],
    name: str,
    timestamp: int,
    duration: int,
    annotations: List[Tuple[int, str]],
    tags: Collection[Tuple[str, str]],
    remote: Optional[bytes],
    debug: bool,
    shared: bool,
    local: _HostSuffixes,
) -> bytes:
    """The Span struct from its parts (``remote``: the address's Endpoint bytes)."""
    name_data = name.encode("utf-8", "replace")  # _utf8(name), inlined
    out = [
        _SPAN_TRACE_ID,
        _U64(trace_id & MASK_64),
        _SPAN_NAME,
        _I32(len(name_data)),
        name_data,
        _SPAN_ID,
        _U64(span_id & MASK_64),
    ]
    if parent_id:
        out += (_SPAN_PARENT_ID, _U64(parent_id & MASK_64))
    # annotations: begin (by kind), one per log, end (by kind)
    begin, end = _BEGIN_END.get(kind, _NO_BEGIN_END) if kind is not None else _NO_BEGIN_END
    count = len(annotations) + (begin is not None) + (end is not None)
    out += (_SPAN_ANNOTATIONS, _I32(count))
    host = local.annotation
    if begin is not None:
        out += (_ANN_TIMESTAMP, _I64(timestamp), _ANN_VALUE, _I32(2), begin, host)
    for ts, value in annotations:
        data = value.encode("utf-8", "replace")  # _utf8(value), inlined
        out += (_ANN_TIMESTAMP, _I64(ts), _ANN_VALUE, _I32(len(data)), data, host)
    if end is not None:
        out += (_ANN_TIMESTAMP, _I64(timestamp + duration), _ANN_VALUE, _I32(2), end, host)
    # binary annotations: one STRING per tag, the address, else an empty "lc"
    has_remote = remote is not None and kind is not None
    lc = not count and not tags and not has_remote
    out += (_SPAN_BINARY, _I32(len(tags) + has_remote + lc))
    suffix = local.tag
    prefixes = _TAG_PREFIXES
    for key, value in tags:
        prefix = prefixes.get(key)
        if prefix is None:
            prefix = _tag_prefix(key)
        data = value.encode("utf-8", "replace")  # _utf8(value), inlined
        out += (prefix, _I32(len(data)), data, suffix)
    if has_remote:
        key_data = _utf8(_ADDRESS_KEY[kind])  # type: ignore[index]
        out += (
            _BIN_KEY,
            _I32(len(key_data)),
            key_data,
            _BIN_VALUE,
            _I32(1),
            _TRUE_BYTE,
            _BIN_TYPE,
            _I32(BOOL),
            _BIN_HOST,
            remote,  # type: ignore[arg-type]
            _STOP,
        )
    if lc:
        out += (_BIN_KEY, _I32(2), b"lc", _BIN_VALUE, _I32(0), suffix)
    out.append(_SPAN_DEBUG[1 if debug else 0])
    if not shared:
        out += (_SPAN_TIMESTAMP, _I64(timestamp), _SPAN_DURATION, _I64(duration))
    high = trace_id >> 64
    if high:
        out += (_SPAN_TRACE_ID_HIGH, _U64(high & MASK_64))
    out.append(_STOP)
    return b"".join(out)


class ThriftV1Encoder(Encoder):
    """Spans as Zipkin v1 Thrift; a message is the 5-byte list header + spans.

    ``fast=True`` (the default) writes spans with :func:`write_span`;
    ``fast=False`` with thriftpy2 (:meth:`to_thrift` + :meth:`dump`). The
    bytes are the same.
    """

    content_type = "application/x-thrift"
    path = "/api/v1/spans"

    def __init__(self, fast: bool = True) -> None:
        self.fast = fast
        self._thrift: Any = None
        self._dump: Any = None
        self._hosts: Dict[_EndpointKey, _HostSuffixes] = {}
        self._ensure()  # fail fast if thriftpy2 or the IDL is missing

    def endpoint_bytes(self, endpoint: Endpoint) -> bytes:
        """The TBinaryProtocol ``Endpoint`` struct, serialised by thriftpy2."""
        return self.dump(_thrift_endpoint(self._ensure(), endpoint))

    def _local(self, endpoint: Endpoint) -> _HostSuffixes:
        key = (endpoint.service_name, endpoint.ipv4, endpoint.ipv6, endpoint.port)
        hosts = self._hosts
        suffixes = hosts.get(key)
        if suffixes is None:
            if len(hosts) > 64:  # endpoints are per tracer: a handful at most
                hosts.clear()
            suffixes = hosts[key] = _HostSuffixes(self.endpoint_bytes(endpoint))
        return suffixes

    def _ensure(self) -> Any:
        if self._thrift is None:
            self._dump = _serializer()
            self._thrift = load_thrift()
        return self._thrift

    def to_thrift(self, span: Any) -> Any:
        """The thriftpy2 ``Span`` struct of one finished span."""
        thrift = self._ensure()
        model = to_model(span)
        local = _thrift_endpoint(thrift, model.local_endpoint)
        annotations: List[Any] = []
        binary: List[Any] = []
        begin = end = None
        if model.kind == CLIENT:
            begin, end = "cs", "cr"
        elif model.kind == SERVER:
            begin, end = "sr", "ss"
        elif model.kind == PRODUCER:
            begin = "ms"
        elif model.kind == CONSUMER:
            begin = "mr"
        if begin is not None:
            annotations.append(
                thrift.Annotation(timestamp=model.timestamp, value=begin, host=local)
            )
        for ts, value in model.annotations:
            annotations.append(thrift.Annotation(timestamp=ts, value=_utf8(value), host=local))
        if end is not None:
            annotations.append(
                thrift.Annotation(timestamp=model.timestamp + model.duration, value=end, host=local)
            )
        for key, value in model.tags.items():
            binary.append(
                thrift.BinaryAnnotation(
                    key=_utf8(key), value=_utf8(value), annotation_type=STRING, host=local
                )
            )
        if model.kind is not None and model.remote_endpoint is not None:
            binary.append(
                thrift.BinaryAnnotation(
                    key=_ADDRESS_KEY[model.kind],
                    value=_TRUE_BYTE,
                    annotation_type=BOOL,
                    host=_thrift_endpoint(thrift, model.remote_endpoint),
                )
            )
        if not annotations and not binary:
            binary.append(
                thrift.BinaryAnnotation(key="lc", value=b"", annotation_type=STRING, host=local)
            )
        high = model.trace_id >> 64
        return thrift.Span(
            trace_id=to_signed64(model.trace_id & MASK_64),
            name=_utf8(model.name),
            id=to_signed64(model.id),
            parent_id=to_signed64(model.parent_id) if model.parent_id else None,
            annotations=annotations,
            binary_annotations=binary,
            debug=bool(model.debug),
            timestamp=None if model.shared else model.timestamp,
            duration=None if model.shared else model.duration,
            trace_id_high=to_signed64(high) if high else None,
        )

    def dump(self, thrift_object: Any) -> bytes:
        """TBinaryProtocol bytes of any struct of the IDL."""
        self._ensure()
        return self._dump(thrift_object)  # type: ignore[no-any-return, unused-ignore]

    def encode_span(self, span: Any) -> bytes:
        if not self.fast:
            return self.dump(self.to_thrift(span))
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
            annotations,
            tags.items(),
            None if remote is None or kind is None else self.endpoint_bytes(remote),
            debug,
            shared,
            self._local(local),
        )

    def message_size(self, span_sizes: Sequence[int]) -> int:
        return LIST_HEADER_SIZE + sum(span_sizes)

    def encode_message(self, encoded_spans: Sequence[bytes]) -> bytes:
        return _LIST_HEADER.pack(_STRUCT, len(encoded_spans)) + b"".join(encoded_spans)
