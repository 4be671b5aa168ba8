"""An application that configured no logging still sees the tracer's problems on stderr.

Python's ``logging.lastResort`` prints WARNING records that find no handler;
the package adds none (not even a NullHandler), so that is exactly the case
"the application configured nothing".
"""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.support.ports import dead_port
from tests.support.traced_script import one, run_traced


@pytest.fixture
def dead_url() -> Iterator[str]:
    with dead_port() as port:
        yield f"http://127.0.0.1:{port}"


def test_without_logging_configuration_each_first_failure_is_one_stderr_line(
    dead_url: str,
) -> None:
    stdout, stderr = run_traced(dead_url, "none")
    assert stdout == []
    assert one(stderr, "no service name given").endswith("spans are reported as 'unknown_service'")
    failed = one(stderr, f"Zipkin collector {dead_url}/api/v2/spans failed (connection_error")
    assert "check: is Zipkin running" in failed
    assert "(similar messages are rate-limited)" in failed
    one(stderr, "Zipkin reporter queue is full (max_queue_size=2)")
    assert not [line for line in stderr if "Traceback" in line]


def test_a_service_name_silences_that_line(dead_url: str) -> None:
    _, stderr = run_traced(dead_url, "none", "{'service_name': 'named'}")
    assert not [line for line in stderr if "service name" in line]


def test_an_application_that_configured_logging_gets_them_through_its_handlers_only(
    dead_url: str,
) -> None:
    stdout, stderr = run_traced(dead_url, "configured")
    assert stderr == []
    one(stdout, "APP WARNING zipkin_tracer.config: no service name given")
    one(stdout, "APP WARNING zipkin_tracer.reporting.reporter: Zipkin collector")
