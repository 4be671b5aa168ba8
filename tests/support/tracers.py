"""A tracer for unit tests: a fixed local endpoint, spans kept in memory."""

from __future__ import annotations

from typing import Any

from zipkin_tracer import ZipkinTracer
from zipkin_tracer.testing import InMemoryReporter


def make_tracer(**options: Any) -> ZipkinTracer:
    options.setdefault("service_name", "frontend")
    options.setdefault("local_ip", "192.168.99.1")
    options.setdefault("reporter", InMemoryReporter())
    return ZipkinTracer(**options)
