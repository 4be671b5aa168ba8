"""Zipkin v2 JSON: ``POST /api/v2/spans`` with a JSON list of spans."""

from __future__ import annotations

import json
from typing import Any, Dict, Sequence

from zipkin_tracer.encoding.base import Encoder
from zipkin_tracer.ids import format_span_id, format_trace_id
from zipkin_tracer.model import ZipkinModelSpan, to_model

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


class JsonV2Encoder(Encoder):
    """Spans as Zipkin v2 JSON; a message is ``[span,span,...]``."""

    content_type = "application/json"
    path = "/api/v2/spans"

    def encode_span(self, span: Any) -> bytes:
        # ASCII-only output (non-ASCII as \\u escapes), so any str (even a
        # lone surrogate) encodes and byte length is known exactly.
        return _dumps(span_to_dict(span)).encode("ascii")

    def message_size(self, span_sizes: Sequence[int]) -> int:
        count = len(span_sizes)
        return 2 + sum(span_sizes) + (count - 1 if count else 0)

    def encode_message(self, encoded_spans: Sequence[bytes]) -> bytes:
        return b"[" + b",".join(encoded_spans) + b"]"
