"""ZipkinSpanContext: the propagated part of a span (IDs, sampling, baggage).

Its own module so that propagation depends on the context only, never on
the span or the tracer.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Dict, Optional, Tuple, cast

from opentracing import SpanContext
from zipkin_tracer.ids import format_span_id, format_trace_id

#: The baggage of every context that has none: one read-only mapping, so a
#: write into ``span.context.baggage`` raises instead of reaching every span.
EMPTY_BAGGAGE: Dict[str, str] = cast(Dict[str, str], MappingProxyType({}))


class ZipkinSpanContext(SpanContext):
    """The propagated state of a span: IDs, sampling decision, baggage.

    ``sampled`` is tri-state: True (record), False (don't), None (deferred:
    only on extracted contexts). ``trace_id == 0`` marks a context extracted
    without IDs (a bare sampling decision or baggage); a span started from it
    begins a new trace that keeps the decision and the baggage.
    ``remote`` is True for contexts that came from ``extract``. ``w3c`` is
    the W3C state that travels with the trace (``tracestate``, the random
    flag; see zipkin_tracer.propagation.tracecontext), or None.
    Contexts are immutable: ``set_baggage_item`` makes a new one. ``baggage``
    is a read-only view (:data:`EMPTY_BAGGAGE` when there is none): a write
    raises ``TypeError`` instead of leaking into the parent and the siblings
    that share the mapping.
    """

    __slots__ = (
        "trace_id",
        "span_id",
        "parent_id",
        "sampled",
        "debug",
        "_baggage",
        "remote",
        "w3c",
    )

    def __init__(
        self,
        trace_id: int,
        span_id: int,
        parent_id: Optional[int] = None,
        sampled: Optional[bool] = True,
        debug: bool = False,
        baggage: Optional[Dict[str, str]] = None,
        remote: bool = False,
        w3c: Any = None,
    ) -> None:
        self.trace_id = trace_id
        self.span_id = span_id
        self.parent_id = parent_id
        self.sampled = sampled
        self.debug = debug
        # read-only: children share their parent's mapping (see set_baggage_item)
        self._baggage = (
            cast(Dict[str, str], MappingProxyType(baggage)) if baggage else EMPTY_BAGGAGE
        )
        self.remote = remote
        self.w3c = w3c

    @property
    def baggage(self) -> Dict[str, str]:
        return self._baggage

    @property
    def has_ids(self) -> bool:
        return self.trace_id != 0

    @property
    def trace_id_hex(self) -> str:
        return format_trace_id(self.trace_id)

    @property
    def span_id_hex(self) -> str:
        return format_span_id(self.span_id)

    def with_baggage_item(self, key: str, value: Optional[str]) -> ZipkinSpanContext:
        baggage = dict(self._baggage)
        if value is None:
            baggage.pop(key, None)
        else:
            baggage[key] = value
        return ZipkinSpanContext(
            self.trace_id,
            self.span_id,
            self.parent_id,
            self.sampled,
            self.debug,
            baggage,
            self.remote,
            self.w3c,
        )

    def with_sampling(self, sampled: bool, debug: bool) -> ZipkinSpanContext:
        return ZipkinSpanContext(
            self.trace_id,
            self.span_id,
            self.parent_id,
            sampled,
            debug,
            self._baggage,
            self.remote,
            self.w3c,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ZipkinSpanContext):
            return NotImplemented
        return (
            self.trace_id == other.trace_id
            and self.span_id == other.span_id
            and self.parent_id == other.parent_id
            and self.sampled == other.sampled
            and self.debug == other.debug
            and dict(self._baggage) == dict(other._baggage)
        )

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> Tuple[Any, ...]:
        """Pickle and deep-copy by value (the read-only empty baggage cannot be)."""
        baggage = dict(self._baggage) if self._baggage else None
        return (
            ZipkinSpanContext,
            (
                self.trace_id,
                self.span_id,
                self.parent_id,
                self.sampled,
                self.debug,
                baggage,
                self.remote,
                self.w3c,
            ),
        )

    def __repr__(self) -> str:
        ids = (
            f"{self.trace_id_hex}:{self.span_id_hex}:"
            f"{'' if self.parent_id is None else format_span_id(self.parent_id)}"
            if self.trace_id
            else "no-ids"
        )
        return (
            f"ZipkinSpanContext({ids}, sampled={self.sampled}, debug={self.debug}, "
            f"baggage={dict(self._baggage)!r}{', remote' if self.remote else ''})"
        )
