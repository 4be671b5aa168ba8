"""Zipkin v2 JSON: ``POST /api/v2/spans`` with a JSON list of spans."""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii
from typing import Any, Callable, Dict, Sequence, Tuple

from zipkin_tracer.encoding.base import Encoder
from zipkin_tracer.ids import format_span_id, format_trace_id
from zipkin_tracer.model import Endpoint, SpanFields, ZipkinModelSpan, fields, to_model

_dumps = json.JSONEncoder(ensure_ascii=True, separators=(",", ":")).encode
#: What ``_dumps`` does to a ``str`` (the C function json itself uses).
_quote: Callable[[str], str] = encode_basestring_ascii


def model_to_dict(span: ZipkinModelSpan) -> Dict[str, Any]:
    """The v2 JSON object of one span, fields in Zipkin's own order."""
    out: Dict[str, Any] = {"traceId": format_trace_id(span.trace_id)}
    if span.parent_id:
        out["parentId"] = format_span_id(span.parent_id)
    out["id"] = format_span_id(span.id)
    if span.kind:
        out["kind"] = span.kind
    if span.name:
        out["name"] = span.name
    if span.timestamp:
        out["timestamp"] = span.timestamp
    if span.duration:
        out["duration"] = span.duration
    local = span.local_endpoint.to_json()
    if local:
        out["localEndpoint"] = local
    if span.remote_endpoint is not None:
        remote = span.remote_endpoint.to_json()
        if remote:
            out["remoteEndpoint"] = remote
    if span.annotations:
        out["annotations"] = [{"timestamp": ts, "value": value} for ts, value in span.annotations]
    if span.tags:
        out["tags"] = span.tags
    if span.debug:
        out["debug"] = True
    if span.shared:
        out["shared"] = True
    return out


def _endpoint_json(endpoint: Endpoint) -> str:
    return _dumps(endpoint.to_json())


_EndpointKey = Tuple[Any, Any, Any, Any]


def model_to_json(span: ZipkinModelSpan, local_cache: Dict[_EndpointKey, str]) -> str:
    """``_dumps(model_to_dict(span))``, written directly (same text, a few times faster)."""
    return _fields_json(
        (
            span.trace_id,
            span.id,
            span.parent_id,
            span.name,
            span.kind,
            span.timestamp,
            span.duration,
            span.local_endpoint,
            span.remote_endpoint,
            span.annotations,
            span.tags,
            span.debug,
            span.shared,
        ),
        local_cache,
    )


def _fields_json(mapped: SpanFields, local_cache: Dict[_EndpointKey, str]) -> str:
    """The JSON text of one mapped span (:func:`zipkin_tracer.model.fields`).

    Constant fragments are literals, the local endpoint's JSON is looked up in
    ``local_cache``, and only user text goes through json's own string
    encoder. A time that is not a plain int takes the generic path, so the
    output is always exactly what the dict form gives.
    """
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
    ) = mapped
    if timestamp.__class__ is not int or duration.__class__ is not int:
        return _dumps(model_to_dict(ZipkinModelSpan(*mapped)))
    # One ``append`` per field: this runs once per span on the worker.
    quote = _quote
    out = [f'{{"traceId":"{format_trace_id(trace_id)}']
    append = out.append
    if parent_id:
        append(f'","parentId":"{parent_id:016x}')
    append(f'","id":"{span_id:016x}"')
    if kind:
        append(f',"kind":{quote(kind)}')
    if name:
        append(f',"name":{quote(name)}')
    if timestamp:
        append(f',"timestamp":{timestamp}')
    if duration:
        append(f',"duration":{duration}')
    local_json = _local_json(local, local_cache)
    if local_json != "{}":
        append(f',"localEndpoint":{local_json}')
    if remote is not None:
        remote_json = _endpoint_json(remote)
        if remote_json != "{}":
            append(f',"remoteEndpoint":{remote_json}')
    sep = ',"annotations":['
    for ts, value in annotations:
        if ts.__class__ is not int:
            return _dumps(model_to_dict(ZipkinModelSpan(*mapped)))
        append(f'{sep}{{"timestamp":{ts},"value":{quote(value)}}}')
        sep = ","
    if sep == ",":
        append("]")
    sep = ',"tags":{'
    for key, value in tags.items():  # str → str; subclasses quote alike
        append(f"{sep}{quote(key)}:{quote(value)}")
        sep = ","
    if sep == ",":
        append("}")
    if debug:
        append(',"debug":true')
    if shared:
        append(',"shared":true')
    append("}")
    return "".join(out)


def _local_json(local: Endpoint, local_cache: Dict[_EndpointKey, str]) -> str:
    key = (local.service_name, local.ipv4, local.ipv6, local.port)
    local_json = local_cache.get(key)
    if local_json is None:
        if len(local_cache) > 64:  # endpoints are per tracer: a handful at most
            local_cache.clear()
        local_json = local_cache[key] = _endpoint_json(local)
    return local_json


def span_to_dict(span: Any) -> Dict[str, Any]:
    """The v2 JSON object of one finished ZipkinSpan."""
    return model_to_dict(to_model(span))


class JsonV2Encoder(Encoder):
    """Spans as Zipkin v2 JSON; a message is ``[span,span,...]``."""

    content_type = "application/json"
    path = "/api/v2/spans"

    def __init__(self) -> None:
        self._local_cache: Dict[_EndpointKey, str] = {}

    def encode_span(self, span: Any) -> bytes:
        # ASCII-only output (non-ASCII as \\u escapes), so any str (even a
        # lone surrogate) encodes and byte length is known exactly.
        return _fields_json(fields(span), self._local_cache).encode("ascii")

    def message_size(self, span_sizes: Sequence[int]) -> int:
        count = len(span_sizes)
        return 2 + sum(span_sizes) + (count - 1 if count else 0)

    def encode_message(self, encoded_spans: Sequence[bytes]) -> bytes:
        return b"[" + b",".join(encoded_spans) + b"]"
