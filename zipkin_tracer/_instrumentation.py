"""What the server and client instrumentation share (internal).

Built on the OpenTracing API only, like the instrumentation itself.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Dict, Optional, TypeVar

from opentracing import Format, Span, SpanContext, Tracer, tags
from zipkin_tracer._suppression import TRACING_SUPPRESSED, is_tracing_suppressed

__all__ = [
    "TRACING_SUPPRESSED",
    "is_tracing_suppressed",
    "named",
    "record_error",
    "span_started",
    "start_server_span",
]

Request = TypeVar("Request")


def named(
    operation_name: Callable[[Request], str],
    request: Request,
    default: Callable[[Request], str],
    log: logging.Logger,
) -> str:
    """The user's ``operation_name(request)``, or ``default(request)`` if it fails."""
    try:
        return operation_name(request)
    except Exception:
        log.debug("operation_name callback failed", exc_info=True)
        return default(request)


def start_server_span(
    tracer: Tracer, name: str, headers: Any, span_tags: Dict[str, Any], log: logging.Logger
) -> Span:
    """A server span continuing the caller's trace from its HTTP ``headers``.

    A missing or unreadable context (SpanContextCorruptedException or any
    other error) starts a new trace: a bad header never fails the request.
    Never a child of whatever span happens to be active.
    """
    parent: Optional[SpanContext]
    try:
        parent = tracer.extract(Format.HTTP_HEADERS, headers)
    except Exception:
        log.debug("could not extract a span context; starting a new trace", exc_info=True)
        parent = None
    return tracer.start_span(
        operation_name=name, child_of=parent, tags=span_tags, ignore_active_span=True
    )


def span_started(
    callback: Optional[Callable[[Span, Request], None]],
    span: Span,
    request: Request,
    log: logging.Logger,
) -> None:
    """Run the user's ``start_span_cb(span, request)``, if any; its failure is only logged."""
    if callback is None:
        return
    try:
        callback(span, request)
    except Exception:
        log.debug("start_span_cb failed", exc_info=True)


def record_error(span: Span, error: BaseException, log: logging.Logger, what: str) -> None:
    """Tag ``error`` and log the exception on ``span``; never raises.

    ``log`` and ``what`` ("server span", "client span") name the caller in
    the debug message when the span itself fails.
    """
    try:
        span.set_tag(tags.ERROR, True)
        span.log_kv(
            {
                "event": tags.ERROR,
                "error.kind": type(error).__name__,
                # The text once: the error tag and the annotation read it from here.
                "error.object": error,
            }
        )
    except Exception:
        log.debug("could not record an error on the %s", what, exc_info=True)
