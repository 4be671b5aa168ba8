from __future__ import annotations

from typing import Iterator, List

import pytest

from tests.support.fake_collector import Blackhole, FakeCollector
from zipkin_tracer.reporting.reporter import AsyncReporter


@pytest.fixture
def collector() -> Iterator[FakeCollector]:
    server = FakeCollector()
    yield server
    server.stop()


@pytest.fixture
def blackhole() -> Iterator[Blackhole]:
    hole = Blackhole()
    yield hole
    hole.close()


@pytest.fixture
def reporters() -> Iterator[List[AsyncReporter]]:
    """Reporters a test creates; closed quickly afterwards so no worker outlives it."""
    made: List[AsyncReporter] = []
    yield made
    for reporter in made:
        reporter.close(0.2)
