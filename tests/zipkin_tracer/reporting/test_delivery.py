"""Backoff between delivery attempts (the retry loop itself is exercised through
AsyncReporter in test_reporter.py and test_faults.py)."""

from __future__ import annotations

import pytest

from zipkin_tracer.reporting.delivery import Backoff


def test_backoff_is_fully_jittered_capped_and_reset() -> None:
    draws = iter([1.0, 1.0, 1.0, 0.5, 0.0])
    backoff = Backoff(0.1, 0.3, rand=lambda: next(draws))
    assert backoff.delay() == 0
    backoff.failed(None)
    assert backoff.delay() == pytest.approx(0.1)
    backoff.failed(None)
    assert backoff.delay() == pytest.approx(0.2)
    backoff.failed(None)
    assert backoff.delay() == pytest.approx(0.3)  # capped
    assert backoff.delay() == pytest.approx(0.15)  # drawn again per attempt
    backoff.failed(60.0)
    assert backoff.delay() == pytest.approx(0.3)  # Retry-After, capped
    backoff.succeeded()
    assert backoff.delay() == 0
