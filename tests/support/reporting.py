"""Shared checks and sender behaviours for reporter tests."""

from __future__ import annotations

import threading
import time
from typing import Any, Dict

from zipkin_tracer.transport.base import SendError


def assert_invariant(m: Dict[str, Any]) -> None:
    """Every reported span is delivered, dropped (counted), queued or in flight."""
    accounted = (
        m["spans_delivered"] + m["spans_dropped_total"] + m["queued_spans"] + m["in_flight_spans"]
    )
    assert m["spans"] == accounted, m


class Gate:
    """A sender behaviour that blocks every send until opened."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.opened = threading.Event()

    def __call__(self, body: bytes) -> None:
        self.entered.set()
        if not self.opened.wait(10):
            raise SendError("timeout", retryable=True)


def park_worker(reporter: Any, gate: Gate, first: Any, second: Any) -> None:
    """Hold ``first`` on the wire and ``second`` packed behind it: the worker then waits.

    With one message of look-ahead the worker keeps taking spans during a
    send; once the next message is packed too it waits for the wire, and
    nothing but the caller touches the queue.
    """
    reporter.report(first)
    assert gate.entered.wait(5)
    reporter.report(second)
    deadline = time.monotonic() + 5
    while reporter.metrics["in_flight_spans"] != 2 or reporter._message.spans:
        assert time.monotonic() < deadline, "the worker never waited for the wire"
        time.sleep(0.001)
