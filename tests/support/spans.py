"""Helpers that build finished spans with exact IDs and times."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from zipkin_tracer import ZipkinTracer
from zipkin_tracer.span import ZipkinSpan, ZipkinSpanContext

T0 = 1502787600000000


def finished_span(
    tracer: ZipkinTracer,
    name: str = "get /api",
    *,
    trace_id: int = 0x463AC35C9F6413AD48485A3953BB6124,
    span_id: int = 0xA2FB4A1D1A96D312,
    parent_id: Optional[int] = 0x0020000000000001,
    tags: Optional[Dict[str, Any]] = None,
    logs: Optional[List[Tuple[int, Dict[str, Any]]]] = None,
    start_us: int = T0,
    duration_us: int = 150000,
    debug: bool = False,
    shared: bool = False,
) -> ZipkinSpan:
    context = ZipkinSpanContext(trace_id, span_id, parent_id, True, debug)
    span = ZipkinSpan(tracer, context, name, None, tags, shared)
    for ts, fields in logs or []:
        span.logs.append((ts, fields))
    span.finished = True
    span.start_us = start_us
    span.duration_us = duration_us
    return span
