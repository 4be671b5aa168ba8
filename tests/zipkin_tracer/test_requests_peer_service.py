"""The remote service name of requests' client spans: set, derived from the host, or none."""

from __future__ import annotations

from typing import Optional

import pytest
import requests
import responses

from opentracing import tags
from opentracing.mocktracer import MockTracer
from zipkin_tracer import ZipkinTracer
from zipkin_tracer.requests import TracingSession, default_peer_service, install, uninstall
from zipkin_tracer.testing import InMemoryReporter
from zipkin_tracer.wsgi import TracingMiddleware


def peer_service_of(url: str, **options: object) -> Optional[str]:
    tracer = MockTracer()
    with responses.RequestsMock() as mocked:
        mocked.get(url)
        TracingSession(tracer, **options).get(url)  # type: ignore[arg-type]
    (span,) = tracer.finished_spans()
    return span.tags.get(tags.PEER_SERVICE)


def test_the_host_name_is_the_default_remote_service() -> None:
    assert peer_service_of("https://payments.internal:8443/charge") == "payments.internal"


@pytest.mark.parametrize("url", ["http://10.1.2.3:8080/x", "http://[::1]:8080/x"])
def test_an_ip_address_names_no_service(url: str) -> None:
    assert peer_service_of(url) is None


def test_a_string_names_every_call_of_the_session() -> None:
    assert peer_service_of("http://10.1.2.3/x", peer_service="pricing") == "pricing"


def test_a_callable_decides_per_request() -> None:
    def by_path(request: requests.PreparedRequest) -> Optional[str]:
        return "search" if "/search" in (request.url or "") else None

    assert peer_service_of("http://gw.internal/search?q=1", peer_service=by_path) == "search"
    assert peer_service_of("http://gw.internal/other", peer_service=by_path) is None


def test_none_turns_it_off() -> None:
    assert peer_service_of("http://payments.internal/x", peer_service=None) is None


def test_a_failing_callable_leaves_the_name_out_and_the_request_alone() -> None:
    def broken(request: requests.PreparedRequest) -> Optional[str]:
        raise RuntimeError("bug")

    assert peer_service_of("http://payments.internal/x", peer_service=broken) is None


def test_install_takes_the_same_option() -> None:
    tracer = MockTracer()
    install(tracer, peer_service="ledger")
    try:
        with responses.RequestsMock() as mocked:
            mocked.get("http://10.0.0.9/x")
            requests.get("http://10.0.0.9/x")
    finally:
        uninstall()
    assert tracer.finished_spans()[0].tags[tags.PEER_SERVICE] == "ledger"


def test_zipkin_gets_it_as_the_remote_endpoint_of_the_client_span_only() -> None:
    reporter = InMemoryReporter()
    tracer = ZipkinTracer("shop", reporter=reporter)
    with responses.RequestsMock() as mocked:
        mocked.get("http://payments.internal/x")
        TracingSession(tracer).get("http://payments.internal/x")
    (client,) = reporter.json_spans()
    assert client["kind"] == "CLIENT"
    assert client["remoteEndpoint"]["serviceName"] == "payments.internal"
    assert "peer.service" not in client.get("tags", {})


def test_server_spans_get_no_remote_service_name() -> None:
    reporter = InMemoryReporter()
    tracer = ZipkinTracer("shop", reporter=reporter)

    def app(environ: dict, start_response: object) -> list:
        start_response("200 OK", [])  # type: ignore[operator]
        return [b""]

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/",
        "SERVER_NAME": "shop.internal",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "REMOTE_ADDR": "10.0.0.1",
    }
    body = TracingMiddleware(app, tracer)(environ, lambda status, headers: None)
    body.close()  # type: ignore[attr-defined]
    (server,) = reporter.json_spans()
    assert server["kind"] == "SERVER"
    assert "serviceName" not in server.get("remoteEndpoint", {})


def test_default_peer_service_is_public_for_composition() -> None:
    request = requests.Request("GET", "http://Inventory.Internal/x").prepare()
    assert default_peer_service(request) == "inventory.internal"
