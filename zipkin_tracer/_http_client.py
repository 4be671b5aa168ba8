"""The client span of one HTTP exchange, shared by the httpx and aiohttp integrations.

Tags, peer endpoint, suppression and error handling are those of
:mod:`zipkin_tracer.requests`, so a trace reads the same whichever client made
the call. Every function here logs and swallows its own failures: tracing
never breaks a request.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Dict, MutableMapping, Optional

import opentracing
from opentracing import Format, Span, Tracer, tags
from zipkin_tracer._instrumentation import is_tracing_suppressed, record_error
from zipkin_tracer.requests import _finish, _peer_tags

__all__ = ["finish", "record_exception", "record_status", "start"]

_log = logging.getLogger(__name__)

finish = _finish


def record_exception(span: Span, error: BaseException) -> None:
    """Tag ``error`` and log the exception on the client span; never raises."""
    record_error(span, error, _log, "client span")


def start(
    tracer: Optional[Tracer],
    method: str,
    url: str,
    headers: MutableMapping[str, str],
    component: str,
    name: Callable[[], str],
) -> Optional[Span]:
    """A started client span whose context is injected into ``headers``.

    None when the exchange is not to be traced (``b3: 0`` in ``headers``, the
    reporter's own thread) or tracing fails. ``name()`` gives the operation
    name; when it raises, the method is used.
    """
    try:
        if headers.get("b3") == "0" or is_tracing_suppressed():
            return None
        tracer = tracer if tracer is not None else opentracing.global_tracer()
        span_tags: Dict[str, Any] = {
            tags.SPAN_KIND: tags.SPAN_KIND_RPC_CLIENT,
            tags.COMPONENT: component,
            tags.HTTP_METHOD: method,
        }
        span_tags[tags.HTTP_URL] = _peer_tags(span_tags, url)
        try:
            operation = name()
        except Exception:
            _log.debug("operation_name callback failed", exc_info=True)
            operation = method
        span = tracer.start_span(operation_name=operation, tags=span_tags)
    except Exception:
        _log.debug("could not start a client span; sending untraced", exc_info=True)
        return None
    try:
        carrier: Dict[str, str] = {}
        tracer.inject(span.context, Format.HTTP_HEADERS, carrier)
        for key, value in carrier.items():
            headers[key] = value
    except Exception:
        _log.debug("could not inject the span context", exc_info=True)
    return span


def record_status(span: Span, code: int) -> None:
    """Tag the status; 5xx is an error, as for server spans."""
    try:
        span.set_tag(tags.HTTP_STATUS_CODE, code)
        if code >= 500:
            span.set_tag(tags.ERROR, True)
    except Exception:
        _log.debug("could not record the response on the client span", exc_info=True)
