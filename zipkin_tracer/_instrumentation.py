"""What the WSGI and ``requests`` instrumentation share (internal).

Built on the OpenTracing API only, like the instrumentation itself.
"""

from __future__ import annotations

import logging

from opentracing import Span, tags
from zipkin_tracer._suppression import TRACING_SUPPRESSED, is_tracing_suppressed

__all__ = ["TRACING_SUPPRESSED", "is_tracing_suppressed", "record_error"]


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
