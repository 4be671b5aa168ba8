"""The reporter contract between a finished span and its delivery."""

from __future__ import annotations

import abc
from typing import Any, Dict, Optional


class SpanReporter(abc.ABC):
    """Receives finished, sampled spans on the application thread.

    ``report`` must return at once and never raise: whatever costs (encoding,
    I/O, retries) belongs to the implementation's own thread.
    """

    #: True when ``report`` is known to catch everything itself: the tracer
    #: then calls it without a guard of its own (one call frame less per span).
    report_never_raises = False

    @abc.abstractmethod
    def report(self, span: Any) -> None:
        """Accept one finished span; never blocks, never raises."""

    @abc.abstractmethod
    def flush(self, timeout: Optional[float] = None) -> bool:
        """Deliver what was reported before the call; True when all of it was."""

    @abc.abstractmethod
    def close(self, timeout: Optional[float] = None) -> bool:
        """Flush, then stop accepting spans; idempotent."""

    @property
    @abc.abstractmethod
    def metrics(self) -> Dict[str, Any]:
        """A snapshot of the delivery counters."""
