"""``SpanContext`` and ``Span``: the no-op bases that tracers subclass."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Any, Dict, Optional, Type

from . import logs, tags

if TYPE_CHECKING:
    from .tracer import Tracer


class SpanContext:
    """The part of a span that crosses process boundaries (ids, baggage).

    Tracers subclass it; the no-op base carries nothing.
    """

    #: Shared empty baggage. Never mutate it: it is one dict for every context.
    EMPTY_BAGGAGE: Dict[str, str] = {}

    @property
    def baggage(self) -> Dict[str, str]:
        """Baggage items carried by this context; callers must not mutate it."""
        return SpanContext.EMPTY_BAGGAGE


class Span:
    """A timed operation. Every method of the base is a no-op that returns ``self``.

    After :meth:`finish`, only :attr:`context` may still be used.
    A span is a context manager: leaving the ``with`` block finishes it, and an
    exception leaving the block is recorded first (error tag and error log).
    """

    def __init__(self, tracer: Tracer, context: SpanContext) -> None:
        self._tracer = tracer
        self._context = context

    @property
    def context(self) -> SpanContext:
        """The :class:`SpanContext` of this span (valid even after finish)."""
        return self._context

    @property
    def tracer(self) -> Tracer:
        """The tracer that created this span."""
        return self._tracer

    def set_operation_name(self, operation_name: str) -> Span:
        """Rename the span; returns ``self`` for chaining."""
        return self

    def finish(self, finish_time: Optional[float] = None) -> None:
        """End the span; ``finish_time`` is a unix timestamp (default: now)."""

    def set_tag(self, key: str, value: Any) -> Span:
        """Attach a tag (value: str, bool or number); returns ``self``."""
        return self

    def log_kv(self, key_values: Dict[str, Any], timestamp: Optional[float] = None) -> Span:
        """Record a structured log event at ``timestamp`` (default: now); returns ``self``."""
        return self

    def set_baggage_item(self, key: str, value: str) -> Span:
        """Store a baggage item that travels to all future descendants; returns ``self``."""
        return self

    def get_baggage_item(self, key: str) -> Optional[str]:
        """Return the baggage value for ``key``, or None."""
        return None

    def __enter__(self) -> Span:
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc_val: Optional[BaseException],
        exc_tb: Optional[TracebackType],
    ) -> None:
        # Methods are looked up on the instance so per-instance patches are honoured.
        Span._on_error(self, exc_type, exc_val, exc_tb)
        self.finish()

    @staticmethod
    def _on_error(
        span: Optional[Span],
        exc_type: Optional[Type[BaseException]],
        exc_val: Optional[BaseException],
        exc_tb: Optional[TracebackType],
    ) -> None:
        """Mark ``span`` as failed: one ``error`` tag and one error log entry.

        Shared by ``Span.__exit__`` and ``Scope.__exit__``; does nothing without a
        span or an exception.
        """
        if not span or not exc_val:
            return
        span.set_tag(tags.ERROR, True)
        span.log_kv(
            {
                logs.EVENT: tags.ERROR,
                logs.MESSAGE: str(exc_val),
                logs.ERROR_OBJECT: exc_val,
                logs.ERROR_KIND: exc_type,
                logs.STACK: exc_tb,
            }
        )

    # --- deprecated 1.x logging helpers -----------------------------------

    def log_event(self, event: Any, payload: Any = None) -> Span:
        """Deprecated: use :meth:`log_kv`. Logs ``event`` and an optional ``payload``."""
        if payload is None:
            return self.log_kv({logs.EVENT: event})
        return self.log_kv({logs.EVENT: event, "payload": payload})

    def log(self, **kwargs: Any) -> Span:
        """Deprecated: use :meth:`log_kv`.

        Only the ``event``, ``payload`` and ``timestamp`` keywords are honoured;
        others are dropped, as in the 1.x API.
        """
        key_values = {}
        for name in (logs.EVENT, "payload"):
            if name in kwargs:
                key_values[name] = kwargs[name]
        return self.log_kv(key_values, kwargs.get("timestamp"))
