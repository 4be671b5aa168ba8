"""Fixtures for the tracer's unit tests: an in-memory tracer, no network."""

from __future__ import annotations

from typing import Any

import pytest

from zipkin_tracer import ZipkinTracer
from zipkin_tracer.testing import InMemoryReporter


def make_tracer(**options: Any) -> ZipkinTracer:
    options.setdefault("service_name", "frontend")
    options.setdefault("local_ip", "192.168.99.1")
    options.setdefault("reporter", InMemoryReporter())
    return ZipkinTracer(**options)


@pytest.fixture
def reporter() -> InMemoryReporter:
    return InMemoryReporter()


@pytest.fixture
def tracer(reporter: InMemoryReporter) -> ZipkinTracer:
    return make_tracer(reporter=reporter)
