"""Session-wide fixtures: the real Zipkin collector integration tests talk to."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Iterator

import pytest

# basictracer's generated protobuf module predates protobuf 4's C runtime.
os.environ.setdefault("PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION", "python")

# tests/ecosystem needs the contrib libraries its tox env installs (`make ecosystem`).
collect_ignore = [] if os.environ.get("ECOSYSTEM_TESTS") else ["ecosystem"]

_SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "zipkin_server.py"
_spec = importlib.util.spec_from_file_location("zipkin_server", _SCRIPT)
assert _spec is not None and _spec.loader is not None
zipkin_server = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(zipkin_server)


def _unavailable(reason: str) -> None:
    """In CI a missing collector fails the test; locally it skips with a hint."""
    if os.environ.get("CI"):
        pytest.fail(f"no Zipkin collector for integration tests: {reason}", pytrace=False)
    pytest.skip(
        f"no Zipkin collector ({reason}). Set ZIPKIN_URL, run `make zipkin`, or install "
        "Java 17 and Maven so the tests can start one."
    )


@pytest.fixture(scope="session")
def zipkin_url() -> Iterator[str]:
    """Base URL of a healthy Zipkin: $ZIPKIN_URL, one already running, or one we start."""
    try:
        url = zipkin_server.ensure_url()
    except zipkin_server.ZipkinUnavailable as error:
        _unavailable(str(error))
    if url is not None:
        yield url
        return
    try:
        process = zipkin_server.start()
    except zipkin_server.ZipkinUnavailable as error:
        _unavailable(str(error))
    try:
        yield zipkin_server.local_url()
    finally:
        zipkin_server.stop_process(process.pid)
