"""Samplers: decide whether a new trace is recorded and reported.

A sampler only runs for a trace that has no decision yet: a root span, or a
span continuing an extracted context that deferred the decision. A decision
that arrives with an extracted context (``X-B3-Sampled``, ``b3``,
``traceparent``'s sampled flag, debug) is obeyed as it is, unless a
:class:`ParentBasedSampler` is told to overrule a caller's decision.
"""

from __future__ import annotations

import abc
import logging
import math
import threading
import time
from typing import Any, Callable, Optional

from zipkin_tracer.ids import MASK_64

__all__ = [
    "ConstSampler",
    "OTEL_SAMPLERS",
    "ParentBasedSampler",
    "ProbabilisticSampler",
    "RateLimitingSampler",
    "Sampler",
    "otel_sampler",
]

logger = logging.getLogger(__name__)

#: The tag that forces (> 0: sampled and debug) or stops (<= 0) recording.
SAMPLING_PRIORITY = "sampling.priority"


def priority_decision(value: Any) -> Optional[bool]:
    """A ``sampling.priority`` value as a decision: True (> 0), False (<= 0),
    or None for a value that is not a number (ignored, logged at DEBUG)."""
    try:
        return int(value) > 0
    except (TypeError, ValueError, OverflowError):
        logger.debug("ignored sampling.priority %r", value)
        return None


class Sampler(abc.ABC):
    """Decides, once per trace, whether spans are recorded."""

    @abc.abstractmethod
    def is_sampled(self, trace_id: int, operation_name: str) -> bool:
        """True to record the trace that starts with this span."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (none by default)."""


class ConstSampler(Sampler):
    """Always (``decision=True``, the default) or never sample."""

    __slots__ = ("decision",)

    def __init__(self, decision: bool = True) -> None:
        self.decision = bool(decision)

    def is_sampled(self, trace_id: int, operation_name: str) -> bool:
        return self.decision

    def __repr__(self) -> str:
        return f"ConstSampler({self.decision})"


class ProbabilisticSampler(Sampler):
    """Samples a fraction ``rate`` (0.0 to 1.0) of traces.

    The decision is a pure function of the trace ID's lower 64 bits, so every
    service using the same rate takes the same decision for the same trace.
    """

    __slots__ = ("rate", "_boundary")

    def __init__(self, rate: float) -> None:
        try:
            rate = float(rate)
        except (TypeError, ValueError):
            raise ValueError(
                f"ProbabilisticSampler rate must be a number between 0 and 1, got {rate!r}"
            )
        if not 0.0 <= rate <= 1.0 or math.isnan(rate):
            raise ValueError(
                f"ProbabilisticSampler rate must be a number between 0 and 1, got {rate!r}"
            )
        self.rate = rate
        self._boundary = int(rate * (1 << 64))

    def is_sampled(self, trace_id: int, operation_name: str) -> bool:
        return (trace_id & MASK_64) < self._boundary

    def __repr__(self) -> str:
        return f"ProbabilisticSampler({self.rate})"


class RateLimitingSampler(Sampler):
    """Samples at most ``max_traces_per_second`` new traces per second.

    A token bucket: it holds up to ``max(1, rate)`` tokens and refills at
    ``rate`` tokens per second; each sampled trace takes one token. A full
    bucket at start lets the first trace through at once.
    """

    def __init__(
        self,
        max_traces_per_second: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        try:
            rate = float(max_traces_per_second)
        except (TypeError, ValueError):
            raise ValueError(
                "RateLimitingSampler max_traces_per_second must be a number >= 0, "
                f"got {max_traces_per_second!r}"
            )
        if not rate >= 0.0 or math.isinf(rate):
            raise ValueError(
                "RateLimitingSampler max_traces_per_second must be a finite number >= 0, "
                f"got {max_traces_per_second!r}"
            )
        self.max_traces_per_second = rate
        self._capacity = max(1.0, rate)
        self._balance = self._capacity if rate > 0 else 0.0
        self._clock = clock
        self._last = clock()
        self._lock = threading.Lock()

    def is_sampled(self, trace_id: int, operation_name: str) -> bool:
        if self.max_traces_per_second <= 0.0:
            return False
        with self._lock:
            now = self._clock()
            elapsed = now - self._last
            self._last = now
            if elapsed > 0:
                self._balance = min(
                    self._capacity, self._balance + elapsed * self.max_traces_per_second
                )
            if self._balance >= 1.0:
                self._balance -= 1.0
                return True
            return False

    def __repr__(self) -> str:
        return f"RateLimitingSampler({self.max_traces_per_second})"


class ParentBasedSampler(Sampler):
    """Honours a remote parent's decision; samples a root with ``root``.

    OpenTelemetry's parent-based sampler. A caller's decision (a sampled or
    not-sampled flag) is kept unless ``remote_parent_sampled`` /
    ``remote_parent_not_sampled`` is given: that sampler then decides
    instead, e.g. a ``RateLimitingSampler`` to cap what untrusted callers
    can force on this service. A local parent's decision always stands (one
    trace is never half-recorded inside a process), and so does B3 debug.
    A caller that sends IDs but defers the decision gets ``root``'s.
    """

    def __init__(
        self,
        root: Sampler,
        remote_parent_sampled: Optional[Sampler] = None,
        remote_parent_not_sampled: Optional[Sampler] = None,
    ) -> None:
        for label, sampler in (
            ("root", root),
            ("remote_parent_sampled", remote_parent_sampled),
            ("remote_parent_not_sampled", remote_parent_not_sampled),
        ):
            if sampler is not None and not isinstance(sampler, Sampler):
                raise ValueError(f"ParentBasedSampler {label} must be a Sampler, got {sampler!r}")
        if root is None:
            raise ValueError("ParentBasedSampler needs a root sampler, e.g. ConstSampler(True)")
        self.root = root
        self.remote_parent_sampled = remote_parent_sampled
        self.remote_parent_not_sampled = remote_parent_not_sampled
        #: what the tracer calls with a remote parent's decision; None = keep it as it is
        self.remote_parent_decision: Optional[Callable[[bool, int, str], bool]] = (
            None
            if remote_parent_sampled is None and remote_parent_not_sampled is None
            else self._overrule
        )

    def is_sampled(self, trace_id: int, operation_name: str) -> bool:
        return self.root.is_sampled(trace_id, operation_name)

    def _overrule(self, sampled: bool, trace_id: int, operation_name: str) -> bool:
        judge = self.remote_parent_sampled if sampled else self.remote_parent_not_sampled
        return sampled if judge is None else judge.is_sampled(trace_id, operation_name)

    def close(self) -> None:
        for sampler in (self.root, self.remote_parent_sampled, self.remote_parent_not_sampled):
            if sampler is not None:
                sampler.close()

    def __repr__(self) -> str:
        extra = "".join(
            f", {label}={sampler!r}"
            for label, sampler in (
                ("remote_parent_sampled", self.remote_parent_sampled),
                ("remote_parent_not_sampled", self.remote_parent_not_sampled),
            )
            if sampler is not None
        )
        return f"ParentBasedSampler(root={self.root!r}{extra})"


#: ``OTEL_TRACES_SAMPLER`` values we implement.
OTEL_SAMPLERS = (
    "always_on",
    "always_off",
    "traceidratio",
    "parentbased_always_on",
    "parentbased_always_off",
    "parentbased_traceidratio",
)


def otel_sampler(name: str, arg: Any) -> Sampler:
    """The sampler an ``OTEL_TRACES_SAMPLER`` name means, with its ``_ARG`` (a ratio).

    OpenTelemetry's plain ``always_on`` / ``always_off`` / ``traceidratio``
    ignore a caller's decision; they do here too (for remote callers), by
    judging both kinds of remote parent with the same sampler. Raises
    ``ValueError`` for an unknown name or a ratio outside 0-1.
    """
    if name not in OTEL_SAMPLERS:
        raise ValueError(f"must be one of {', '.join(OTEL_SAMPLERS)}")
    base = name[len("parentbased_") :] if name.startswith("parentbased_") else name
    chosen: Sampler
    if base == "traceidratio":
        chosen = ProbabilisticSampler(1.0 if arg is None else arg)
    else:
        chosen = ConstSampler(base == "always_on")
    if name.startswith("parentbased_"):
        return ParentBasedSampler(chosen)
    return ParentBasedSampler(chosen, chosen, chosen)
