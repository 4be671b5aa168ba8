from __future__ import annotations

import io
import logging
from typing import List

from zipkin_tracer.reporting.log_limiter import LogLimiter, safe_log


def test_first_then_one_summary_per_interval() -> None:
    now: List[float] = [0.0]
    logger = logging.getLogger("test.limiter")
    records: List[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    handler = Collect()
    logger.addHandler(handler)
    try:
        limiter = LogLimiter(logger, interval=60, clock=lambda: now[0])
        for i in range(100_000):
            now[0] = i * 0.0001  # 100 000 events in 10 s
            limiter.warn("down", "collector %s down", "http://c")
        assert records == ["collector http://c down (similar messages are rate-limited)"]
        now[0] = 61
        limiter.warn("down", "collector %s down", "http://c")
        limiter.warn("other", "other %d", 1)
        assert records[1] == "collector http://c down (99999 more like this in the last 60s)"
        assert records[2].startswith("other 1")
    finally:
        logger.removeHandler(handler)


def test_safe_log_survives_a_closed_stream() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("test.closed")
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    stream.close()
    try:
        safe_log(logger, logging.WARNING, "stream is gone")
    finally:
        logger.removeHandler(handler)
