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
"""

from __future__ import annotations

import ipaddress
import struct
import threading
from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple

from zipkin_tracer.encoding.base import Encoder
from zipkin_tracer.ids import MASK_64, to_signed64
from zipkin_tracer.model import CLIENT, CONSUMER, PRODUCER, SERVER, Endpoint, to_model

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


class ThriftV1Encoder(Encoder):
    """Spans as Zipkin v1 Thrift; a message is the 5-byte list header + spans."""

    content_type = "application/x-thrift"
    path = "/api/v1/spans"

    def __init__(self) -> None:
        self._thrift: Any = None
        self._dump: Any = None
        self._local: Tuple[Optional[Endpoint], Any] = (None, None)
        self._ensure()  # fail fast if thriftpy2 or the IDL is missing

    def _ensure(self) -> Any:
        if self._thrift is None:
            self._dump = _serializer()
            self._thrift = load_thrift()
        return self._thrift

    def to_thrift(self, span: Any) -> Any:
        """The thriftpy2 ``Span`` struct of one finished span."""
        thrift = self._ensure()
        model = to_model(span)
        endpoint, local = self._local
        if model.local_endpoint is not endpoint:  # the same on every span of a tracer
            local = _thrift_endpoint(thrift, model.local_endpoint)
            self._local = (model.local_endpoint, local)
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
        return self.dump(self.to_thrift(span))

    def message_size(self, span_sizes: Sequence[int]) -> int:
        return LIST_HEADER_SIZE + sum(span_sizes)

    def encode_message(self, encoded_spans: Sequence[bytes]) -> bytes:
        return _LIST_HEADER.pack(_STRUCT, len(encoded_spans)) + b"".join(encoded_spans)
