"""ZipkinSpan and UnsampledSpan: what the application thread records.

A span only *records* (raw tags, raw log dicts, integer microsecond times);
turning that into Zipkin's model happens later, on the reporter's worker,
in :mod:`zipkin_tracer.model`. An unsampled span records nothing at all but
still carries a context that propagates.
"""

from __future__ import annotations

import logging
import numbers
import time
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Set, Tuple

from opentracing import Span
from zipkin_tracer.context import ZipkinSpanContext
from zipkin_tracer.sampling import SAMPLING_PRIORITY, priority_decision

if TYPE_CHECKING:
    from zipkin_tracer.tracer import ZipkinTracer

logger = logging.getLogger(__name__)

_monotonic_ns = time.monotonic_ns
_time_ns = time.time_ns

__all__ = ["SAMPLING_PRIORITY", "UnsampledSpan", "ZipkinSpan", "ZipkinSpanContext"]

_warned_times: Set[str] = set()


def epoch_us(what: str, seconds: Any) -> Optional[int]:
    """``seconds`` since the epoch as integer µs; None when it is not a finite real number.

    ``start_time`` and ``finish_time`` share this: NaN, infinities, strings,
    bools and other non-numbers fall back to the clock (the first of each
    logged at WARNING), instead of raising into the application. A finite time
    too large for Zipkin is kept here and dropped at encoding, counted
    ``encode_failed``.
    """
    cls = seconds.__class__
    if (
        cls is float
        or cls is int
        or (isinstance(seconds, numbers.Real) and not isinstance(seconds, bool))
    ):
        try:
            return int(seconds * 1_000_000)
        except (ValueError, OverflowError, TypeError):  # NaN, ±inf, odd Real types
            pass
    log = logger.debug if what in _warned_times else logger.warning
    _warned_times.add(what)
    log(
        "ignored %s=%r: not a finite number of seconds since the epoch; using the clock",
        what,
        seconds,
    )
    return None


class ZipkinSpan(Span):
    """A span that records for Zipkin; finish hands it, frozen, to the reporter.

    Recorded state (read by :mod:`zipkin_tracer.model` after finish):
    ``operation_name``, ``start_us`` (epoch µs), ``duration_us`` (≥ 1),
    ``tags`` (raw values as given), ``logs`` (``(epoch µs, dict)`` pairs),
    ``shared`` (a server span that joined its client's span ID),
    ``kind_at_start``.
    """

    __slots__ = (
        "_tracer",
        "_context",
        "operation_name",
        "start_us",
        "_start_mono",
        "_wall_start",
        "duration_us",
        "tags",
        "logs",
        "shared",
        "finished",
    )
    _tracer: ZipkinTracer
    _context: ZipkinSpanContext

    def __init__(
        self,
        tracer: ZipkinTracer,
        context: ZipkinSpanContext,
        operation_name: str,
        start_time: Optional[float] = None,
        tags: Optional[Mapping[str, Any]] = None,
        shared: bool = False,
    ) -> None:
        self._tracer = tracer
        self._context = context
        self.operation_name = operation_name
        self._start_mono = _monotonic_ns()
        start_us = None if start_time is None else epoch_us("start_time", start_time)
        if start_us is None:
            self.start_us = _time_ns() // 1000
            self._wall_start = False
        else:
            self.start_us = start_us
            self._wall_start = True
        self.duration_us = 0
        self.tags: Dict[str, Any] = {}
        if tags and context.sampled:
            try:  # inline, not a helper: no extra call for every tagged span
                self.tags = dict(tags)
            except (TypeError, ValueError):
                raise TypeError(
                    f"tags must be a mapping of tag names to values, got {type(tags).__name__}"
                ) from None
        self.logs: List[Tuple[int, Dict[str, Any]]] = []
        self.shared = shared
        self.finished = False

    # -- opentracing.Span -------------------------------------------------

    @property
    def context(self) -> ZipkinSpanContext:
        return self._context

    @property
    def tracer(self) -> ZipkinTracer:
        return self._tracer

    @property
    def sampled(self) -> bool:
        return bool(self._context.sampled)

    def set_operation_name(self, operation_name: str) -> ZipkinSpan:
        if not self.finished:
            self.operation_name = operation_name
        return self

    def set_tag(self, key: str, value: Any) -> ZipkinSpan:
        if key == SAMPLING_PRIORITY:
            self._set_sampling_priority(value)
            return self
        if self._context.sampled and not self.finished:
            self.tags[key] = value
        return self

    def log_kv(self, key_values: Dict[str, Any], timestamp: Optional[float] = None) -> ZipkinSpan:
        if not self._context.sampled or self.finished:
            return self
        try:
            if timestamp is None:
                ts = self.start_us + (_monotonic_ns() - self._start_mono) // 1000
            else:
                ts = int(timestamp * 1_000_000)
            self.logs.append((ts, dict(key_values)))
        except Exception:  # a bad timestamp or a non-mapping: never raise into the app
            logger.debug("ignored log_kv(%r, %r)", key_values, timestamp, exc_info=True)
        return self

    def set_baggage_item(self, key: str, value: str) -> ZipkinSpan:
        self._context = self._context.with_baggage_item(key, value)
        return self

    def get_baggage_item(self, key: str) -> Optional[str]:
        return self._context.baggage.get(key)

    def finish(self, finish_time: Optional[float] = None) -> None:
        if self.finished:
            return
        self.finished = True
        finish_us = None if finish_time is None else epoch_us("finish_time", finish_time)
        if finish_us is not None:
            duration = finish_us - self.start_us
        elif self._wall_start:
            duration = _time_ns() // 1000 - self.start_us
        else:
            duration = (_monotonic_ns() - self._start_mono) // 1000
        self.duration_us = duration if duration > 0 else 1
        if self._context.sampled:
            self._tracer._report(self)

    # -- helpers ----------------------------------------------------------

    def _set_sampling_priority(self, value: Any) -> None:
        """``sampling.priority`` > 0 forces sampled + debug; 0 stops recording."""
        if self.finished:
            return
        decision = priority_decision(value)
        if decision is None:
            return
        if decision:
            if not self._context.sampled or not self._context.debug:
                self._context = self._context.with_sampling(True, True)
        else:
            if self._context.sampled:
                self.tags.clear()
                self.logs.clear()
                self._context = self._context.with_sampling(False, False)

    @property
    def finish_us(self) -> int:
        return self.start_us + self.duration_us

    def __repr__(self) -> str:
        return (
            f"ZipkinSpan({self.operation_name!r}, {self._context!r}"
            f"{', finished' if self.finished else ''})"
        )


class UnsampledSpan(ZipkinSpan):
    """A span of an unsampled trace: it carries its context (which propagates,
    with real IDs) and records nothing, as cheaply as possible.

    The tracer makes one for an unsampled span with no explicit start time
    that is not a joined server span (the common case). Only the monotonic
    start is kept: ``tags`` and ``logs`` read as empty and ``start_us``
    is derived from it. ``sampling.priority`` > 0 turns it into a recording
    :class:`ZipkinSpan` (same object) that is reported on finish, as a
    sampled span would be.
    """

    __slots__ = ()

    def __init__(  # no super().__init__(): nothing else to record
        self, tracer: ZipkinTracer, context: ZipkinSpanContext, operation_name: str
    ) -> None:
        self._tracer = tracer
        self._context = context
        self.operation_name = operation_name
        self._start_mono = _monotonic_ns()
        self.finished = False

    @property
    def tags(self) -> Dict[str, Any]:  # type: ignore[override]
        return {}

    @property
    def logs(self) -> List[Tuple[int, Dict[str, Any]]]:  # type: ignore[override]
        return []

    @property
    def start_us(self) -> int:  # type: ignore[override]
        return (_time_ns() - (_monotonic_ns() - self._start_mono)) // 1000

    @property
    def duration_us(self) -> int:  # type: ignore[override]
        return 0

    @property
    def shared(self) -> bool:  # type: ignore[override]
        return False

    def set_tag(self, key: str, value: Any) -> ZipkinSpan:
        if key == SAMPLING_PRIORITY:
            self._set_sampling_priority(value)
        return self

    def log_kv(self, key_values: Dict[str, Any], timestamp: Optional[float] = None) -> ZipkinSpan:
        return self

    def finish(self, finish_time: Optional[float] = None) -> None:
        self.finished = True

    def _set_sampling_priority(self, value: Any) -> None:
        if self.finished:
            return
        if priority_decision(value):
            start_us = self.start_us
            self.__class__ = ZipkinSpan  # type: ignore[assignment]
            span: ZipkinSpan = self  # from here on a recording span
            span.start_us = start_us
            span._wall_start = False
            span.duration_us = 0
            span.tags = {}
            span.logs = []
            span.shared = False
            span._context = span._context.with_sampling(True, True)
