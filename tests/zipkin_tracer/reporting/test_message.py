"""Message packing with tiny sizes: fill to the limit, overflow into the next
message, an oversized span alone, order kept."""

from __future__ import annotations

import random
from typing import List, Sequence

import pytest

from tests.support.fakes import DictJsonEncoder, RecordingSender, span, span_ids
from zipkin_tracer.reporting.message import FRAMING_SLACK, Message
from zipkin_tracer.reporting.reporter import AsyncReporter


class CountingEncoder(DictJsonEncoder):
    """JSON framing (``[a,b]``: 2 bytes plus 1 per extra span) that counts exact-size questions."""

    def __init__(self) -> None:
        self.size_calls = 0

    def message_size(self, span_sizes: Sequence[int]) -> int:
        self.size_calls += 1
        return super().message_size(span_sizes)


def pack(message: Message, sizes: Sequence[int]) -> List[List[int]]:
    """What the worker does: a span that does not fit closes the message and opens the next."""
    messages: List[List[int]] = []
    for seq, size in enumerate(sizes):
        if not message.fits(size):
            messages.append(message.take()[0])
        message.add(seq, b"x" * size, size)
    if message.seqs:
        messages.append(message.take()[0])
    return messages


def test_an_empty_message_takes_any_first_span() -> None:
    message = Message(CountingEncoder(), 10)
    assert message.fits(1000)  # the packer drops a span that cannot travel alone, not fits()


def test_fills_exactly_to_the_limit() -> None:
    message = Message(CountingEncoder(), 10)  # [aa,bb,cc] is 10 bytes
    for seq in range(3):
        assert message.fits(2)
        message.add(seq, b"xx", 2)
    assert not message.fits(1)  # 12 bytes
    assert message.bound >= DictJsonEncoder().message_size(message.sizes) == 10


def test_one_byte_over_the_limit_does_not_fit() -> None:
    message = Message(CountingEncoder(), 9)
    message.add(0, b"xx", 2)
    message.add(1, b"xx", 2)  # [aa,bb] is 7 bytes
    assert message.fits(1)  # 9
    assert not message.fits(2)  # 10


def test_a_span_that_does_not_fit_starts_the_next_message() -> None:
    assert pack(Message(CountingEncoder(), 10), [2, 2, 2, 3, 1]) == [[0, 1, 2], [3, 4]]


def test_an_oversized_span_travels_alone() -> None:
    assert pack(Message(CountingEncoder(), 10), [2, 20, 2]) == [[0], [1], [2]]


def test_take_hands_over_spans_in_order_and_empties_the_message() -> None:
    message = Message(CountingEncoder(), 100)
    for seq, data in enumerate([b"a", b"bb", b"ccc"]):
        message.add(seq, data, len(data))
    assert message.take() == ([0, 1, 2], [b"a", b"bb", b"ccc"])
    assert (message.seqs, message.spans, message.sizes, message.bound) == ([], [], [], 0)
    message.add(7, b"d", 1)
    assert message.take() == ([7], [b"d"])


def test_far_from_the_limit_no_exact_size_is_computed() -> None:
    encoder = CountingEncoder()
    message = Message(encoder, 100_000)
    message.add(0, b"x" * 100, 100)
    asked = encoder.size_calls  # the first span sizes the framing once
    for seq in range(1, 50):
        assert message.fits(100)
        message.add(seq, b"x" * 100, 100)
    assert encoder.size_calls == asked


@pytest.mark.parametrize("seed", range(20))
def test_packed_messages_are_within_the_limit_and_tight(seed: int) -> None:
    """Random sizes around the slack: every message fits, and every overflow was real."""
    rand = random.Random(seed)
    limit = rand.randint(FRAMING_SLACK, 4 * FRAMING_SLACK)
    sizes = [rand.randint(1, FRAMING_SLACK) for _ in range(200)]
    encoder = CountingEncoder()
    messages = pack(Message(encoder, limit), sizes)
    assert [seq for seqs in messages for seq in seqs] == list(range(len(sizes)))
    for index, seqs in enumerate(messages):
        packed = [sizes[seq] for seq in seqs]
        if len(packed) > 1:
            assert encoder.message_size(packed) <= limit
        if index + 1 < len(messages):
            following = sizes[messages[index + 1][0]]
            assert encoder.message_size(packed + [following]) > limit


def test_the_reporter_drops_only_the_span_too_large_to_travel_alone() -> None:
    sender = RecordingSender()
    reporter = AsyncReporter(DictJsonEncoder(), sender, message_max_bytes=600, close_at_exit=False)
    try:
        for index in range(6):
            reporter.report(span(index, pad=1000 if index == 3 else 100))
        assert not reporter.flush(5)  # one span was dropped
        metrics = reporter.metrics
    finally:
        reporter.close()
    delivered = [span_id for body in sender.bodies for span_id in span_ids(body)]
    assert delivered == [span(index)["id"] for index in (0, 1, 2, 4, 5)]
    assert len(sender.bodies) >= 2  # 5 spans of ~230 bytes need more than one 600-byte message
    assert metrics["spans_dropped"] == {"too_large": 1}
