"""Shared checks and sender behaviours for reporter tests."""

from __future__ import annotations

import threading
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
