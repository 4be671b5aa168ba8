"""A finished span in Zipkin's terms (runs on the reporter's worker thread).

The one mapping, shared by both encoders (:func:`fields`):

* ``span.kind`` client/server/producer/consumer → ``kind`` (any other value
  stays a tag); ``peer.service``/``peer.ipv4``/``peer.ipv6``/``peer.port``
  → the remote endpoint (not tags); ``peer.hostname`` stays a tag and, when
  it is an IP literal, also fills the remote address;
* ``error``: False, None, 0, "" or "false" is dropped (Zipkin flags any
  ``error`` tag); a
  true one becomes the most informative logged error text, with its kind
  (``RuntimeError: inventory on fire``), or "true"; any other value is kept as text;
* ``sampling.priority`` is never a tag;
* every other tag becomes a string (bools lowercase), truncated to
  ``max_tag_value_length`` characters;
* each ``log_kv`` call becomes one annotation: the ``event`` value alone,
  else ``k=v`` pairs joined by spaces in insertion order (an exception class
  shows as its name, a traceback as its formatted frames); an empty log is
  not an annotation.
"""

from __future__ import annotations

import ipaddress
import logging
from traceback import format_tb
from types import TracebackType
from typing import Any, Dict, List, Optional, Protocol, Tuple

from opentracing import tags as ot_tags

logger = logging.getLogger(__name__)

CLIENT = "CLIENT"
SERVER = "SERVER"
PRODUCER = "PRODUCER"
CONSUMER = "CONSUMER"
KINDS = {
    ot_tags.SPAN_KIND_RPC_CLIENT: CLIENT,
    ot_tags.SPAN_KIND_RPC_SERVER: SERVER,
    ot_tags.SPAN_KIND_PRODUCER: PRODUCER,
    ot_tags.SPAN_KIND_CONSUMER: CONSUMER,
}
_PEER_KEYS = frozenset(
    (ot_tags.PEER_SERVICE, ot_tags.PEER_HOST_IPV4, ot_tags.PEER_HOST_IPV6, ot_tags.PEER_PORT)
)
#: Tag keys that are not simply copied as text (one set lookup per tag).
_SPECIAL_KEYS = frozenset(("span.kind", "sampling.priority", "error", "peer.hostname")) | _PEER_KEYS
_UNPRINTABLE = "<unprintable>"


class Endpoint:
    """A Zipkin endpoint: service name (lowercase), IPv4/IPv6 text, port."""

    __slots__ = ("service_name", "ipv4", "ipv6", "port")

    def __init__(
        self,
        service_name: Optional[str] = None,
        ipv4: Optional[str] = None,
        ipv6: Optional[str] = None,
        port: Optional[int] = None,
    ) -> None:
        self.service_name = service_name.lower() if service_name else None
        self.ipv4 = ipv4
        self.ipv6 = ipv6
        self.port = port if port else None

    @classmethod
    def local(cls, service_name: str, ip: Optional[str], port: Optional[int] = None) -> Endpoint:
        ipv4, ipv6 = _split_ip(ip)
        return cls(service_name, ipv4, ipv6, port)

    def is_empty(self) -> bool:
        return not (self.service_name or self.ipv4 or self.ipv6 or self.port)

    def to_json(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {}
        if self.service_name:
            out["serviceName"] = self.service_name
        if self.ipv4:
            out["ipv4"] = self.ipv4
        if self.ipv6:
            out["ipv6"] = self.ipv6
        if self.port:
            out["port"] = self.port
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Endpoint):
            return NotImplemented
        return (self.service_name, self.ipv4, self.ipv6, self.port) == (
            other.service_name,
            other.ipv4,
            other.ipv6,
            other.port,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Endpoint({self.to_json()!r})"


class ZipkinModelSpan:
    """One span as Zipkin v2 sees it; the encoders only serialise this."""

    __slots__ = (
        "trace_id",
        "id",
        "parent_id",
        "name",
        "kind",
        "timestamp",
        "duration",
        "local_endpoint",
        "remote_endpoint",
        "annotations",
        "tags",
        "debug",
        "shared",
    )

    def __init__(
        self,
        trace_id: int,
        id: int,
        parent_id: Optional[int],
        name: str,
        kind: Optional[str],
        timestamp: int,
        duration: int,
        local_endpoint: Endpoint,
        remote_endpoint: Optional[Endpoint],
        annotations: List[Tuple[int, str]],
        tags: Dict[str, str],
        debug: bool,
        shared: bool,
    ) -> None:
        self.trace_id = trace_id
        self.id = id
        self.parent_id = parent_id
        self.name = name
        self.kind = kind
        self.timestamp = timestamp
        self.duration = duration
        self.local_endpoint = local_endpoint
        self.remote_endpoint = remote_endpoint
        self.annotations = annotations
        self.tags = tags
        self.debug = debug
        self.shared = shared


def _split_ip(ip: Optional[str]) -> Tuple[Optional[str], Optional[str]]:
    if not ip:
        return None, None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None, None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped), None
        return None, str(address)
    return str(address), None


def to_text(value: Any, limit: int) -> str:
    """A tag or annotation value as Zipkin text: bools lowercase, never raises."""
    if isinstance(value, str):
        text = value
    elif value is True:
        text = "true"
    elif value is False:
        text = "false"
    elif isinstance(value, type):  # error.kind logged as the exception class
        text = value.__name__
    elif isinstance(value, TracebackType):  # stack logged as a traceback object
        text = "".join(format_tb(value))
    else:
        try:
            text = str(value)
        except Exception:
            try:
                text = object.__repr__(value)
            except Exception:
                text = _UNPRINTABLE
    if len(text) > limit:
        text = text[:limit]
    return text


def _annotation_value(fields: Dict[str, Any], limit: int) -> str:
    if len(fields) == 1 and "event" in fields:
        return to_text(fields["event"], limit)
    parts = []
    for key, value in fields.items():
        if key.__class__ is not str or len(key) > limit:
            key = to_text(key, limit)
        if value.__class__ is not str or len(value) > limit:
            value = to_text(value, limit)
        parts.append(f"{key}={value}")
    text = " ".join(parts)
    return text[:limit] if len(text) > limit else text


def _ipv4(value: Any) -> Optional[str]:
    try:
        if isinstance(value, int) and not isinstance(value, bool):
            return str(ipaddress.IPv4Address(value & 0xFFFFFFFF))
        if isinstance(value, str):
            return str(ipaddress.IPv4Address(value.strip()))
    except ValueError:
        pass
    return None


def _ipv6(value: Any) -> Optional[str]:
    try:
        if isinstance(value, str):
            return str(ipaddress.IPv6Address(value.strip()))
    except ValueError:
        pass
    return None


def _port(value: Any) -> Optional[int]:
    try:
        port = int(value)
    except (TypeError, ValueError):
        return None
    return port if 0 < port <= 65535 else None


def _is_false(value: Any) -> bool:
    """``error`` values that mean "no error": False, None, 0, "" and "false"."""
    try:
        if isinstance(value, str):
            return value.strip().lower() in ("", "false")
        return value is None or value is False or (isinstance(value, (int, float)) and value == 0)
    except Exception:
        return False


def _error_message(logs: List[Tuple[int, Dict[str, Any]]], limit: int) -> str:
    """The ``error`` tag for ``error=True``: the most informative of the error logs.

    Instrumentation logs an error in pieces (grpcio-opentracing logs the exception
    class first and the message later), so every error log is read. A log's text is
    its ``message``, else its ``error.object`` text (an RPC error's ``details()``);
    its kind is the RPC status code, else ``error.kind``, else the exception class.
    The longest text wins, prefixed with its kind (``RuntimeError: inventory on fire``)
    unless the kind would take more than half of ``limit``.
    """
    best_kind, best_text, first_kind = "", "", ""
    for _, fields in logs:
        is_error = fields.get("event") == "error" or "error.object" in fields
        if not (is_error or "error.kind" in fields):
            continue
        error = fields.get("error.object")
        kind = text = ""
        if isinstance(error, BaseException):
            try:  # grpc.RpcError is also a grpc.Call: code() and details()
                details = error.details()  # type: ignore[attr-defined]
                if isinstance(details, str) and details:
                    text = details
                    kind = to_text(error.code(), limit)  # type: ignore[attr-defined]
            except Exception:
                pass
        message = fields.get("message")
        if not text and message:
            text = to_text(message, limit)
        if not text and error is not None and not isinstance(error, type):
            text = to_text(error, limit)
        if not kind and fields.get("error.kind"):
            kind = to_text(fields["error.kind"], limit)
        if not kind and error is not None:
            kind = error.__name__ if isinstance(error, type) else type(error).__name__
        first_kind = first_kind or kind
        if len(text) > len(best_text):
            best_kind, best_text = kind, text
    if not best_text:
        return first_kind or "true"
    # The kind prefixes the text unless it would fill more than half the room.
    if best_kind and not best_text.startswith(best_kind) and len(best_kind) + 2 <= limit // 2:
        best_text = f"{best_kind}: {best_text}"
    return best_text[:limit]


#: Zipkin times are int64 microseconds (Thrift i64, a Java long in JSON).
MIN_US = -(2**63)
MAX_US = 2**63 - 1

#: One recorded span in Zipkin's terms, as a plain tuple (what :func:`fields`
#: returns; :class:`ZipkinModelSpan`'s fields in the same order). A tuple
#: costs the encoders nothing; building a model object costs them 0.37 µs.
SpanFields = Tuple[
    int,  # trace_id
    int,  # id
    Optional[int],  # parent_id
    str,  # name
    Optional[str],  # kind
    int,  # timestamp
    int,  # duration
    Endpoint,  # local_endpoint
    Optional[Endpoint],  # remote_endpoint
    List[Tuple[int, str]],  # annotations
    Dict[str, str],  # tags
    bool,  # debug
    bool,  # shared
]


class _RecordingTracer(Protocol):
    @property
    def max_tag_value_length(self) -> int: ...

    @property
    def local_endpoint(self) -> Endpoint: ...


class _RecordedContext(Protocol):
    @property
    def trace_id(self) -> int: ...

    @property
    def span_id(self) -> int: ...

    @property
    def parent_id(self) -> Optional[int]: ...

    @property
    def debug(self) -> bool: ...


class RecordedSpan(Protocol):
    """What the model reads of a finished span (``ZipkinSpan`` is one).

    The tracer and context are read through the span's own slots: this runs
    once per span on the worker, and ``span.context`` would be a call.
    """

    @property
    def _tracer(self) -> _RecordingTracer: ...

    @property
    def _context(self) -> _RecordedContext: ...

    @property
    def operation_name(self) -> Any: ...

    @property
    def start_us(self) -> int: ...

    @property
    def duration_us(self) -> int: ...

    @property
    def tags(self) -> Dict[Any, Any]: ...

    @property
    def logs(self) -> List[Tuple[Any, Dict[Any, Any]]]: ...

    @property
    def shared(self) -> bool: ...


def _out_of_range(what: str, value: Any) -> ValueError:
    return ValueError(f"{what} {value!r} is outside int64 microseconds: the span is dropped")


def fields(span: RecordedSpan) -> SpanFields:
    """Map a finished span to Zipkin terms; the only code that reads one.

    Never raises on odd tag values. Raises ``ValueError`` for a time that
    Zipkin cannot store (outside int64 microseconds, e.g. ``time.time_ns()``
    given as seconds): the reporter drops that span alone as
    ``encode_failed``, in every encoding.
    """
    tracer = span._tracer
    limit = tracer.max_tag_value_length
    kind: Optional[str] = None
    tags: Dict[str, str] = {}
    peer: Optional[Dict[str, Any]] = None
    hostname = False
    for key, value in span.tags.items():
        if key.__class__ is not str and not isinstance(key, str):
            key = to_text(key, limit)
        if key in _SPECIAL_KEYS:
            if key == "span.kind":
                mapped = KINDS.get(value) if isinstance(value, str) else None
                if mapped is not None:
                    kind = mapped
                    continue
            elif key in _PEER_KEYS:
                if peer is None:
                    peer = {}
                peer[key] = value
                continue
            elif key == "sampling.priority":
                continue
            elif key == "error":
                if _is_false(value):
                    continue
                if value is True:
                    tags[key] = _error_message(span.logs, limit)
                    continue
            else:  # peer.hostname: a tag, and maybe the remote address
                hostname = True
        cls = value.__class__
        if cls is str:  # the common cases, inlined: to_text of a str or a bool
            tags[key] = value if len(value) <= limit else value[:limit]
        elif cls is bool:
            text = "true" if value else "false"
            tags[key] = text if len(text) <= limit else text[:limit]
        else:
            tags[key] = to_text(value, limit)

    remote: Optional[Endpoint] = None
    if peer is not None or hostname:
        remote = _remote_endpoint(peer or {}, tags, limit)

    timestamp = span.start_us
    duration = span.duration_us
    if not (MIN_US <= timestamp and timestamp + duration <= MAX_US):
        raise _out_of_range("start or finish time", (timestamp, duration))
    annotations: List[Tuple[int, str]] = []
    for ts, log in span.logs:
        if log:
            if not MIN_US <= ts <= MAX_US:
                raise _out_of_range("log time", ts)
            annotations.append((ts, _annotation_value(log, limit)))
    name = span.operation_name
    if name.__class__ is not str and not isinstance(name, str):
        name = to_text(name, limit)
    context = span._context
    return (
        context.trace_id,
        context.span_id,
        context.parent_id,
        name,
        kind,
        timestamp,
        duration,
        tracer.local_endpoint,
        remote,
        annotations,
        tags,
        context.debug,
        span.shared and kind == SERVER,
    )


def _remote_endpoint(peer: Dict[str, Any], tags: Dict[str, str], limit: int) -> Optional[Endpoint]:
    """The remote endpoint of ``peer.*`` tags; unusable values are kept as tags."""
    service = peer.get(ot_tags.PEER_SERVICE)
    ipv4 = _ipv4(peer.get(ot_tags.PEER_HOST_IPV4))
    ipv6 = _ipv6(peer.get(ot_tags.PEER_HOST_IPV6))
    if ipv4 is None and ipv6 is None and ot_tags.PEER_HOSTNAME in tags:
        ipv4, ipv6 = _split_ip(tags[ot_tags.PEER_HOSTNAME].strip())
    for key in (ot_tags.PEER_HOST_IPV4, ot_tags.PEER_HOST_IPV6):
        if key in peer and (ipv4 if key == ot_tags.PEER_HOST_IPV4 else ipv6) is None:
            tags[key] = to_text(peer[key], limit)
    port = _port(peer.get(ot_tags.PEER_PORT)) if ot_tags.PEER_PORT in peer else None
    if ot_tags.PEER_PORT in peer and port is None:
        tags[ot_tags.PEER_PORT] = to_text(peer[ot_tags.PEER_PORT], limit)
    candidate = Endpoint(to_text(service, limit) if service is not None else None, ipv4, ipv6, port)
    return None if candidate.is_empty() else candidate


def to_model(span: RecordedSpan) -> ZipkinModelSpan:
    """:func:`fields` as an object, for code that reads fields by name."""
    return ZipkinModelSpan(*fields(span))
