"""Everything under tests/integration talks to a real Zipkin server."""

from __future__ import annotations

import pytest

from tests.integration.zipkin_api import ZipkinApi


def pytest_collection_modifyitems(items: list) -> None:
    for item in items:
        if "tests/integration/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def zipkin(zipkin_url: str) -> ZipkinApi:
    return ZipkinApi(zipkin_url)
