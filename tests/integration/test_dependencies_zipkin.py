"""Services that send no spans, called through zipkin_tracer.requests, appear as dependencies."""

from __future__ import annotations

import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Iterator

import pytest
import requests

from tests.integration.zipkin_api import NOT_TRACED, ZipkinApi
from zipkin_tracer import ZipkinTracer
from zipkin_tracer.logs import format_id
from zipkin_tracer.requests import TracingSession


class Plain(BaseHTTPRequestHandler):
    """A service that sends no spans of its own."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def plain_port() -> Iterator[int]:
    server = HTTPServer(("127.0.0.1", 0), Plain)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_the_host_name_and_a_given_name_both_become_dependency_links(
    zipkin: ZipkinApi, zipkin_url: str, plain_port: int
) -> None:
    caller = f"deps-{uuid.uuid4().hex[:8]}"
    tracer = ZipkinTracer(caller, collector_url=zipkin_url)
    with tracer.start_active_span("job") as scope:
        TracingSession(tracer).get(f"http://localhost:{plain_port}/x", timeout=5)
        TracingSession(tracer, peer_service="Ledger-DB").get(
            f"http://127.0.0.1:{plain_port}/y", timeout=5
        )
    assert tracer.flush(timeout=10.0) is True
    tracer.close(timeout=2.0)
    zipkin.wait_for_trace(format_id(scope.span.context.trace_id), spans=3)

    end_ms = int(time.time() * 1000) + 60_000
    links = requests.get(
        f"{zipkin_url}/api/v2/dependencies",
        params={"endTs": end_ms, "lookback": 3_600_000},
        headers=NOT_TRACED,
        timeout=10,
    ).json()
    children = {link["child"] for link in links if link["parent"] == caller}
    assert children == {"localhost", "ledger-db"}  # Zipkin lowercases service names
