"""Packing encoded spans into messages of at most ``message_max_bytes``.

``Message`` is the next message: it keeps an upper bound of its encoded size
so that, far from the limit, a span is added without asking the encoder for
the exact size; near it, the exact size decides. A span that does not fit
starts the next message; a span too large to travel even alone is dropped
(counted ``too_large``). ``PackingMixin`` is the worker's loop over a taken
chunk, with the common case of ``Message.add`` inlined (it runs once per
span).
"""

from __future__ import annotations

import time
from typing import List, Tuple

from zipkin_tracer.encoding.base import Encoder
from zipkin_tracer.reporting.metrics import ENCODE_FAILED, TOO_LARGE
from zipkin_tracer.reporting.signal_safe import reraise_signal
from zipkin_tracer.reporting.state import ReporterState

#: Upper bound assumed for the framing one more span adds to a message (JSON
#: adds 1 byte, Thrift 0, proto3 a few). Only used to skip the exact size
#: computation far from the limit; the encoded body is checked exactly.
FRAMING_SLACK = 64


class Message:
    """The next message: encoded spans, their sequence numbers and a size bound."""

    def __init__(self, encoder: Encoder, max_bytes: int) -> None:
        self._encoder = encoder
        self._max_bytes = max_bytes
        self.seqs: List[int] = []
        self.spans: List[bytes] = []
        self.sizes: List[int] = []
        self.bound = 0  # >= the exact message size
        self.started = 0.0

    def fits(self, size: int) -> bool:
        if not self.sizes:
            return True
        if self.bound + size + FRAMING_SLACK <= self._max_bytes:
            return True
        exact = self._encoder.message_size(self.sizes + [size])
        if exact <= self._max_bytes:
            self.bound = exact - size  # add() puts ``size`` back
            return True
        return False

    def add(self, seq: int, data: bytes, size: int) -> None:
        if not self.sizes:
            self.started = time.monotonic()
            self.bound = self._encoder.message_size([size]) - size
        self.seqs.append(seq)
        self.spans.append(data)
        self.sizes.append(size)
        self.bound += size + FRAMING_SLACK

    def take(self) -> Tuple[List[int], List[bytes]]:
        seqs, spans = self.seqs, self.spans
        self.seqs, self.spans, self.sizes, self.bound = [], [], [], 0
        return seqs, spans


class PackingMixin(ReporterState):
    """The worker side of ``AsyncReporter`` that encodes a chunk and packs it."""

    def _add_chunk(self) -> None:
        """``_add`` for every span left in the chunk, with the common case inlined.

        ``_pos`` stays exact after every span (``_publish_locked`` and
        ``_abandon_in_flight`` read it).
        """
        chunk = self._chunk
        encode = self._encoder.encode_span
        message = self._message
        seqs, spans, sizes = message.seqs, message.spans, message.sizes
        # Far below the limit, a span fits without the exact size (see Message.fits).
        roomy = self._max_bytes - FRAMING_SLACK
        pos = self._pos
        end = len(chunk)
        while pos < end:
            seq, span = chunk[pos]
            if span.__class__ is bytes:  # encoded by report() (see there)
                data = span
            else:
                try:
                    data = encode(span)
                except Exception as error:  # a bad span must not stop the worker
                    reraise_signal(error)
                    self._encode_failed(seq, error)
                    pos = self._pos
                    continue
            size = len(data)
            if size > self._max_span_bytes:
                self._max_span_bytes = size
            if seqs and message.bound + size <= roomy:  # Message.add(), inlined
                seqs.append(seq)
                spans.append(data)
                sizes.append(size)
                message.bound += size + FRAMING_SLACK
                self._encoded_bytes += size
                self._pos = pos + 1
            else:
                self._add_encoded(seq, data, size)
                seqs, spans, sizes = message.seqs, message.spans, message.sizes
            pos = self._pos

    def _encode_failed(self, seq: int, error: Exception) -> None:
        self._pos += 1
        self._drop_span(seq, ENCODE_FAILED)
        self._log.warn(
            "encode_failed",
            "Zipkin reporter could not encode a span (%s); it was dropped",
            type(error).__name__,
        )

    def _add_encoded(self, seq: int, data: bytes, size: int) -> None:
        if size > self._max_span_bytes:
            self._max_span_bytes = size
        try:
            alone = self._encoder.message_size([size])
        except Exception as error:
            reraise_signal(error)
            self._encode_failed(seq, error)
            return
        self._encoded_bytes += size
        if alone > self._max_bytes:
            self._pos += 1
            self._drop_span(seq, TOO_LARGE)
            self._log.warn(
                "too_large",
                "Zipkin reporter dropped a span of %d bytes: larger than message_max_bytes=%d",
                size,
                self._max_bytes,
            )
            return
        if not self._message.fits(size):
            self._send_message()
        self._message.add(seq, data, size)
        self._pos += 1
