"""The sender contract: deliver one encoded message to a collector.

A sender knows the transport (HTTP today, Kafka later) and classifies every
failure as retryable or not; batching, retries and accounting belong to the
reporter. Only the reporter's worker calls :meth:`Sender.send`.
"""

from __future__ import annotations

import abc
from typing import Optional

from zipkin_tracer._suppression import TRACING_SUPPRESSED, is_tracing_suppressed  # noqa: F401


class SendError(Exception):
    """A message was not accepted.

    ``cause`` is a short label for metrics and logs (``http_503``, ``timeout``,
    ``connection_error``); ``retryable`` says whether the same message may
    succeed later; ``retry_after`` is the collector's hint in seconds.
    """

    def __init__(
        self,
        cause: str,
        *,
        retryable: bool,
        status: Optional[int] = None,
        retry_after: Optional[float] = None,
        detail: str = "",
    ) -> None:
        super().__init__(f"{cause}: {detail}" if detail else cause)
        self.cause = cause
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after


class MessageTooLarge(SendError):
    """The collector refused the message for its size (HTTP 413): split it."""

    def __init__(self, status: Optional[int] = 413) -> None:
        super().__init__("message_too_large", retryable=False, status=status)


class Sender(abc.ABC):
    """Delivers encoded messages; not thread-safe except for :meth:`close`."""

    #: Where messages go, safe to log (no credentials).
    endpoint: str = ""

    @abc.abstractmethod
    def send(self, body: bytes, timeout: Optional[float] = None) -> None:
        """Deliver one message or raise :class:`SendError`.

        ``timeout`` caps the whole attempt (a flush or close deadline may be
        shorter than the sender's own timeout).
        """

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections; the sender may be used again afterwards."""

    def after_fork_in_child(self) -> None:  # noqa: B027 - optional hook
        """Forget connections inherited from the parent without touching them."""
