"""Contrib OpenTracing libraries on our API, against a real Zipkin.

Collected only with ``ECOSYSTEM_TESTS`` set (the ``ecosystem`` tox env, which
installs the libraries of ``requirements.txt``); ``make ecosystem`` runs it.
"""

from __future__ import annotations

from typing import Iterator, List

import pytest

from tests.integration.zipkin_api import ZipkinApi
from zipkin_tracer import ZipkinTracer


def pytest_collection_modifyitems(items: list) -> None:
    for item in items:
        if "tests/ecosystem/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def zipkin(zipkin_url: str) -> ZipkinApi:
    return ZipkinApi(zipkin_url)


class Tracers:
    """One ZipkinTracer per service, all reporting to the real Zipkin."""

    def __init__(self, collector_url: str) -> None:
        self._url = collector_url
        self._made: List[ZipkinTracer] = []

    def __call__(self, service_name: str) -> ZipkinTracer:
        tracer = ZipkinTracer(service_name=service_name, collector_url=self._url)
        self._made.append(tracer)
        return tracer

    def flush(self) -> None:
        for tracer in self._made:
            assert tracer.flush(timeout=10.0) is True, tracer

    def close(self) -> None:
        for tracer in self._made:
            tracer.close(timeout=5.0)


@pytest.fixture(scope="module")
def tracers(zipkin_url: str) -> Iterator[Tracers]:
    made = Tracers(zipkin_url)
    try:
        yield made
    finally:
        made.close()
