"""httpx client spans: transports, install(), tags, errors, suppression."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, Iterator, List

import httpx
import pytest

from zipkin_tracer import ZipkinTracer
from zipkin_tracer import httpx as traced_httpx
from zipkin_tracer.testing import InMemoryReporter
from zipkin_tracer.transport.base import TRACING_SUPPRESSED


class Upstream:
    """A MockTransport handler: answers ``status`` and keeps the headers it got."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.seen: List[httpx.Headers] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request.headers)
        if request.url.path == "/redirect":
            return httpx.Response(302, headers={"location": "/final"})
        if request.url.path == "/down":
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(self.status, text="ok")


@pytest.fixture
def upstream() -> Upstream:
    return Upstream()


@pytest.fixture
def installed(tracer: ZipkinTracer) -> Iterator[None]:
    traced_httpx.install(tracer)
    try:
        yield
    finally:
        traced_httpx.uninstall()


def client_spans(reporter: InMemoryReporter) -> List[Dict[str, Any]]:
    return [s for s in reporter.json_spans() if s.get("kind") == "CLIENT"]


def test_sync_transport_records_a_client_span_and_injects_b3(
    tracer: ZipkinTracer, reporter: InMemoryReporter, upstream: Upstream
) -> None:
    transport = traced_httpx.TracingTransport(httpx.MockTransport(upstream), tracer)
    with httpx.Client(transport=transport) as client:
        with tracer.start_active_span("parent") as scope:
            assert client.get("http://user:secret@api.test:8080/items?q=1").status_code == 200
            parent_id = format(scope.span.context.span_id, "016x")

    (span,) = client_spans(reporter)
    assert span["name"] == "GET"
    assert span["parentId"] == parent_id
    assert span["tags"] == {
        "component": "httpx",
        "http.method": "GET",
        "http.url": "http://api.test:8080/items?q=1",
        "http.status_code": "200",
        "peer.hostname": "api.test",
    }
    assert span["remoteEndpoint"] == {"port": 8080}
    assert upstream.seen[0]["x-b3-spanid"] == span["id"]
    assert upstream.seen[0]["x-b3-traceid"] == span["traceId"]


def test_async_transport_and_concurrent_parents(
    tracer: ZipkinTracer, reporter: InMemoryReporter, upstream: Upstream
) -> None:
    transport = traced_httpx.AsyncTracingTransport(httpx.MockTransport(upstream), tracer)

    async def one(client: httpx.AsyncClient, index: int) -> None:
        with tracer.start_active_span(f"request-{index}"):
            await asyncio.sleep(0)
            await client.get(f"http://10.0.0.9/{index}")

    async def main() -> None:
        async with httpx.AsyncClient(transport=transport) as client:
            await asyncio.gather(*(one(client, i) for i in range(10)))

    asyncio.run(main())
    spans = reporter.json_spans()
    names = {s["id"]: s["name"] for s in spans}
    clients = client_spans(reporter)
    assert len(clients) == 10
    for span in clients:
        index = span["tags"]["http.url"].rsplit("/", 1)[1]
        assert names[span["parentId"]] == f"request-{index}"
        assert span["remoteEndpoint"] == {"ipv4": "10.0.0.9", "port": 80}


def test_server_error_and_connection_error(
    tracer: ZipkinTracer, reporter: InMemoryReporter
) -> None:
    transport = traced_httpx.TracingTransport(httpx.MockTransport(Upstream(503)), tracer)
    with httpx.Client(transport=transport) as client:
        assert client.get("http://api.test/").status_code == 503
        with pytest.raises(httpx.ConnectError):
            client.get("http://api.test/down")

    failed, refused = client_spans(reporter)
    assert failed["tags"]["error"] == "true"
    assert failed["tags"]["http.status_code"] == "503"
    assert refused["tags"]["error"] == "ConnectError: connection refused"
    assert "http.status_code" not in refused["tags"]
    assert "error.kind=ConnectError" in refused["annotations"][0]["value"]


def test_async_connection_error_is_recorded(
    tracer: ZipkinTracer, reporter: InMemoryReporter
) -> None:
    transport = traced_httpx.AsyncTracingTransport(httpx.MockTransport(Upstream()), tracer)

    async def main() -> None:
        async with httpx.AsyncClient(transport=transport) as client:
            with pytest.raises(httpx.ConnectError):
                await client.get("http://api.test/down")

    asyncio.run(main())
    assert client_spans(reporter)[0]["tags"]["error"] == "ConnectError: connection refused"


def test_not_traced_when_told_or_on_the_reporter_thread(
    tracer: ZipkinTracer, reporter: InMemoryReporter, upstream: Upstream
) -> None:
    transport = traced_httpx.TracingTransport(httpx.MockTransport(upstream), tracer)
    with httpx.Client(transport=transport) as client:
        client.get("http://api.test/", headers={"b3": "0"})
        token = TRACING_SUPPRESSED.set(True)
        try:
            client.get("http://api.test/")
        finally:
            TRACING_SUPPRESSED.reset(token)
    assert reporter.spans == []
    assert all("x-b3-traceid" not in headers for headers in upstream.seen)


def test_install_traces_every_client_and_each_redirect_hop(
    installed: None, reporter: InMemoryReporter, upstream: Upstream
) -> None:
    with httpx.Client(transport=httpx.MockTransport(upstream), follow_redirects=True) as client:
        assert client.get("http://api.test/redirect").status_code == 200

    first, second = client_spans(reporter)
    assert (first["tags"]["http.status_code"], second["tags"]["http.status_code"]) == ("302", "200")
    assert second["tags"]["http.url"] == "http://api.test/final"
    assert [headers["x-b3-spanid"] for headers in upstream.seen] == [first["id"], second["id"]]


def test_install_traces_async_clients(
    installed: None, reporter: InMemoryReporter, upstream: Upstream
) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(upstream)) as client:
            await client.get("http://api.test/a")

    asyncio.run(main())
    assert len(client_spans(reporter)) == 1


def test_install_and_a_tracing_transport_trace_once(
    installed: None, tracer: ZipkinTracer, reporter: InMemoryReporter, upstream: Upstream
) -> None:
    transport = traced_httpx.TracingTransport(httpx.MockTransport(upstream), tracer)
    with httpx.Client(transport=transport) as client:
        client.get("http://api.test/")
    assert len(client_spans(reporter)) == 1


def test_uninstall_restores_the_clients(
    tracer: ZipkinTracer, reporter: InMemoryReporter, upstream: Upstream
) -> None:
    original = httpx.Client._send_single_request
    traced_httpx.install(tracer)
    traced_httpx.install(tracer)  # idempotent
    traced_httpx.uninstall()
    traced_httpx.uninstall()  # harmless
    assert httpx.Client._send_single_request is original
    with httpx.Client(transport=httpx.MockTransport(upstream)) as client:
        client.get("http://api.test/")
    assert reporter.spans == []


def test_failing_operation_name_falls_back_to_the_method(
    tracer: ZipkinTracer, reporter: InMemoryReporter, upstream: Upstream
) -> None:
    def bad(request: httpx.Request) -> str:
        raise RuntimeError("callback bug")

    transport = traced_httpx.TracingTransport(
        httpx.MockTransport(upstream), tracer, operation_name=bad
    )
    with httpx.Client(transport=transport) as client:
        assert client.post("http://api.test/", content=b"x").status_code == 200
    assert client_spans(reporter)[0]["name"] == "POST"


def test_install_refuses_an_httpx_without_the_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(httpx.AsyncClient, "_send_single_request")
    with pytest.raises(RuntimeError, match="use TracingTransport"):
        traced_httpx.install()
    assert httpx.Client._send_single_request is not traced_httpx._patched_sync
