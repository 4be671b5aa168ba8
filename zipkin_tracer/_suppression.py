"""The flag that says "do not trace calls made here" (the reporter's own POSTs).

A module of its own, depending on nothing: the reporter sets it, the
transport re-exports it where it has always been documented, and
instrumentation reads it, so none of those rooms imports another for it.
"""

from __future__ import annotations

import contextvars

#: Set on the reporter's worker thread: instrumentation (e.g. of ``requests``)
#: must not trace the reporter's own calls, or every POST would make a span.
TRACING_SUPPRESSED: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "zipkin_tracer_tracing_suppressed", default=False
)


def is_tracing_suppressed() -> bool:
    """True on threads whose outgoing calls must not be traced."""
    return TRACING_SUPPRESSED.get()
