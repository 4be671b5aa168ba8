"""The encoder contract shared by the reporter and the concrete encodings.

The reporter batches spans by size without knowing the wire format, so an
encoder exposes the exact cost of the list framing as well as the bytes of
one span (the split zipkin-reporter-java makes between encoder and sender).
"""

from __future__ import annotations

import abc
from typing import Any, Sequence


class Encoder(abc.ABC):
    """Turns finished spans into the bytes of one collector message."""

    #: HTTP ``Content-Type`` of an encoded message.
    content_type: str
    #: Collector path that accepts this encoding, e.g. ``/api/v2/spans``.
    path: str

    @abc.abstractmethod
    def encode_span(self, span: Any) -> bytes:
        """Encode one finished span.

        Usually on the reporter's worker thread, but also on application
        threads while the worker is behind (see ``AsyncReporter.report``), so
        it must be safe to call from several threads at once.
        """

    @abc.abstractmethod
    def message_size(self, span_sizes: Sequence[int]) -> int:
        """Exact size of the message holding spans of these encoded sizes."""

    @abc.abstractmethod
    def encode_message(self, encoded_spans: Sequence[bytes]) -> bytes:
        """Frame already-encoded spans as one list message."""
