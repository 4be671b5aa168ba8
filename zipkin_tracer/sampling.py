"""Samplers: decide whether a new trace is recorded and reported.

A sampler only runs for a trace that has no decision yet: a root span, or a
span continuing an extracted context that deferred the decision. A decision
that arrives with an extracted context (``X-B3-Sampled``, ``b3``, debug) is
obeyed as it is.
"""

from __future__ import annotations

import abc
import logging
import math
import threading
import time
from typing import Any, Callable, Optional

from zipkin_tracer.ids import MASK_64

__all__ = ["ConstSampler", "ProbabilisticSampler", "RateLimitingSampler", "Sampler"]

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
