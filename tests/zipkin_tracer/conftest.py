"""Fixtures for the tracer's unit tests: an in-memory tracer, no network."""

from __future__ import annotations

import pytest

from tests.support.tracers import make_tracer
from zipkin_tracer import ZipkinTracer
from zipkin_tracer.testing import InMemoryReporter


@pytest.fixture
def reporter() -> InMemoryReporter:
    return InMemoryReporter()


@pytest.fixture
def tracer(reporter: InMemoryReporter) -> ZipkinTracer:
    return make_tracer(reporter=reporter)
