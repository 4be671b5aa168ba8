"""Zipkin v2 JSON: ``POST /api/v2/spans`` with a JSON list of spans."""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii as _quote
from typing import Any, Dict, Optional, Sequence, Tuple

from zipkin_tracer.encoding.base import Encoder
from zipkin_tracer.ids import format_span_id, format_trace_id
from zipkin_tracer.model import Endpoint, ZipkinModelSpan, to_model

_dumps = json.JSONEncoder(ensure_ascii=True, separators=(",", ":")).encode


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


def span_to_dict(span: Any) -> Dict[str, Any]:
    """The v2 JSON object of one finished ZipkinSpan."""
    return model_to_dict(to_model(span))


def model_to_json(span: ZipkinModelSpan, local_json: Optional[str] = None) -> str:
    """``model_to_dict`` serialised, byte for byte, without building the dict.

    The worker's hot path: strings go through the C-accelerated quoting
    function that ``json.dumps`` itself uses; ``local_json`` is the local
    endpoint already encoded (it is the same on every span of a tracer).
    """
    parts = ['{"traceId":"', format_trace_id(span.trace_id)]
    if span.parent_id:
        parts += ['","parentId":"', format_span_id(span.parent_id)]
    parts += ['","id":"', format_span_id(span.id), '"']
    if span.kind:
        parts += [',"kind":"', span.kind, '"']
    if span.name:
        parts += [',"name":', _quote(span.name)]
    if span.timestamp:
        parts += [',"timestamp":', str(span.timestamp)]
    if span.duration:
        parts += [',"duration":', str(span.duration)]
    if local_json is None:
        local_json = _endpoint_json(span.local_endpoint)
    if local_json:
        parts += [',"localEndpoint":', local_json]
    if span.remote_endpoint is not None:
        remote = _endpoint_json(span.remote_endpoint)
        if remote:
            parts += [',"remoteEndpoint":', remote]
    if span.annotations:
        parts.append(',"annotations":[')
        parts.append(
            ",".join(
                f'{{"timestamp":{ts},"value":{_quote(value)}}}' for ts, value in span.annotations
            )
        )
        parts.append("]")
    if span.tags:
        parts.append(',"tags":{')
        parts.append(",".join(f"{_quote(k)}:{_quote(v)}" for k, v in span.tags.items()))
        parts.append("}")
    if span.debug:
        parts.append(',"debug":true')
    if span.shared:
        parts.append(',"shared":true')
    parts.append("}")
    return "".join(parts)


def _endpoint_json(endpoint: Endpoint) -> str:
    fields = endpoint.to_json()
    return _dumps(fields) if fields else ""


class JsonV2Encoder(Encoder):
    """Spans as Zipkin v2 JSON; a message is ``[span,span,...]``."""

    content_type = "application/json"
    path = "/api/v2/spans"

    def __init__(self) -> None:
        self._local: Tuple[Optional[Endpoint], str] = (None, "")

    def encode_span(self, span: Any) -> bytes:
        # ASCII-only output (non-ASCII as \\u escapes), so any str (even a
        # lone surrogate) encodes and byte length is known exactly.
        model = to_model(span)
        endpoint, local_json = self._local
        if model.local_endpoint is not endpoint:
            local_json = _endpoint_json(model.local_endpoint)
            self._local = (model.local_endpoint, local_json)
        return model_to_json(model, local_json).encode("ascii")

    def message_size(self, span_sizes: Sequence[int]) -> int:
        count = len(span_sizes)
        return 2 + sum(span_sizes) + (count - 1 if count else 0)

    def encode_message(self, encoded_spans: Sequence[bytes]) -> bytes:
        return b"[" + b",".join(encoded_spans) + b"]"
