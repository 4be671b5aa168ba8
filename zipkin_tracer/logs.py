"""Log correlation: put the active span's trace and span IDs on every log record.

Attach :class:`TraceContextFilter` to a *handler* (a filter on a logger does not
see records propagated from its child loggers) and use :data:`LOG_FORMAT`, or
any format naming ``%(trace_id)s`` and ``%(span_id)s``::

    handler = logging.StreamHandler()
    handler.addFilter(TraceContextFilter())
    handler.setFormatter(logging.Formatter(LOG_FORMAT))

IDs are lower-case hex, as Zipkin shows and searches them: 16 characters, or
32 for a 128-bit trace ID. With no active span, with the no-op tracer, or with
a span context that has no integer ``trace_id``/``span_id`` attributes, both
fields are empty strings, so a format string never fails and log parsers see
an empty value rather than a placeholder that looks like an ID.
"""

from __future__ import annotations

import logging
from typing import Any, Optional, Tuple

import opentracing

__all__ = ["LOG_FORMAT", "TraceContextFilter", "format_id"]

LOG_FORMAT = (
    "%(asctime)s %(levelname)s [%(name)s] [trace_id=%(trace_id)s span_id=%(span_id)s] %(message)s"
)
"""A ready-made format string for handlers that carry :class:`TraceContextFilter`."""

_MAX_64 = 1 << 64
_MAX_128 = 1 << 128
_EMPTY: Tuple[str, str] = ("", "")


def format_id(value: Any) -> str:
    """Lower-hex form of an ID: 16 digits, or 32 when it needs more than 64 bits.

    Anything that is not a non-negative int below 2**128 gives ``""``: a
    foreign tracer's ID must not break or mislead the log line.
    """
    if type(value) is not int or value < 0 or value >= _MAX_128:
        return ""
    return format(value, "016x") if value < _MAX_64 else format(value, "032x")


class TraceContextFilter(logging.Filter):
    """Adds ``trace_id`` and ``span_id`` of the active span to each record.

    ``tracer`` None means :func:`opentracing.global_tracer`, looked up per
    record so the filter can be installed before the tracer is. The filter
    never drops a record and never raises.
    """

    def __init__(self, tracer: Optional[opentracing.Tracer] = None, name: str = "") -> None:
        super().__init__(name)
        self._tracer = tracer
        # (context, trace_id, span_id) of the last context seen: one span
        # usually logs several lines in a row, so formatting is done once.
        # Keeping a strong reference means `is` cannot match a recycled object.
        self._last: Tuple[Any, str, str] = (None, "", "")

    def filter(self, record: logging.LogRecord) -> bool:
        """Set the two attributes; always keep the record."""
        record.trace_id, record.span_id = self._ids()
        return True

    def _ids(self) -> Tuple[str, str]:
        try:
            tracer = self._tracer if self._tracer is not None else opentracing.global_tracer()
            span = tracer.active_span
            if span is None:
                return _EMPTY
            context = span.context
            last = self._last
            if context is last[0]:
                return last[1], last[2]
            trace_id = format_id(getattr(context, "trace_id", None))
            span_id = format_id(getattr(context, "span_id", None)) if trace_id else ""
            if not span_id:
                trace_id = ""
            self._last = (context, trace_id, span_id)
            return trace_id, span_id
        except Exception:
            # Never let tracing break logging; a debug record here would
            # recurse through this very filter, so stay silent.
            return _EMPTY
