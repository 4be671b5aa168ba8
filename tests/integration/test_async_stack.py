"""The async stack against the real Zipkin, under 50 concurrent requests.

test client (requests) → gateway (FastAPI under uvicorn, httpx.AsyncClient)
→ inventory (aiohttp.web, aiohttp client) → stock (Django ASGI under uvicorn),
each a real process. Every trace is read back from Zipkin: names, kinds,
parents, shared spans, status tags, and no span of one request in another's
trace or under another request's server span.
"""

from __future__ import annotations

import random
import socket
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, Iterator, List, Tuple

import pytest
import requests
from requests.adapters import HTTPAdapter

from demo.cluster import ServiceProcess
from tests.integration.zipkin_api import ZipkinApi
from zipkin_tracer import ZipkinTracer
from zipkin_tracer.requests import TracingSession

CONCURRENT = 50
# root, its client; gateway server, lookup, client; inventory server, client; stock server, query
SPANS_PER_TRACE = 9


def start(name: str, zipkin_url: str, downstream: str = "") -> ServiceProcess:
    command = [sys.executable, "-m", "tests.integration.async_apps", name]
    if downstream:
        command += ["--downstream", downstream]
    return ServiceProcess(name, zipkin_url, command=command)


@pytest.fixture(scope="module")
def chain(zipkin_url: str) -> Iterator[List[ServiceProcess]]:
    services: List[ServiceProcess] = []
    try:
        services.append(start("stock", zipkin_url))
        services.append(start("inventory", zipkin_url, services[-1].url))
        services.append(start("gateway", zipkin_url, services[-1].url))
        yield services
    finally:
        for service in reversed(services):
            service.terminate()
        for service in reversed(services):
            service.stop()


def call_all(zipkin_url: str, gateway: str, items: List[int]) -> Dict[int, Tuple[str, int]]:
    """One trace per item, all at once; item → (trace ID, gateway status)."""
    tracer = ZipkinTracer(service_name="test-client", collector_url=zipkin_url)
    session = TracingSession(tracer)
    session.mount("http://", HTTPAdapter(pool_maxsize=CONCURRENT))

    def one(item: int) -> Tuple[int, Tuple[str, int]]:
        with tracer.start_active_span(f"request {item}") as scope:
            response = session.get(f"{gateway}/items/{item}", timeout=60)
            return item, (format(scope.span.context.trace_id, "016x"), response.status_code)

    try:
        with ThreadPoolExecutor(CONCURRENT) as pool:
            results = dict(pool.map(one, items))
        assert tracer.flush(timeout=10.0)
    finally:
        session.close()
        tracer.close(timeout=5.0)
    return results


def tree(spans: List[Dict[str, Any]]) -> Dict[Tuple[str, str, str], Dict[str, Any]]:
    """(service, kind, name) → span; each appears once per trace (Zipkin lower-cases names)."""
    keyed: Dict[Tuple[str, str, str], Dict[str, Any]] = {}
    for span in spans:
        key = (span["localEndpoint"]["serviceName"], span.get("kind", "LOCAL"), span["name"])
        assert key not in keyed, f"two spans {key} in one trace: cross-talk"
        keyed[key] = span
    return keyed


def check_trace(
    spans: List[Dict[str, Any]], item: int
) -> Dict[Tuple[str, str, str], Dict[str, Any]]:
    assert len(spans) == SPANS_PER_TRACE, [s["name"] for s in spans]
    t = tree(spans)
    root = t[("test-client", "LOCAL", f"request {item}")]
    client = t[("test-client", "CLIENT", "get")]
    gw = t[("gateway", "SERVER", "get /items/{item_id}")]
    lookup = t[("gateway", "LOCAL", "lookup")]
    gw_out = t[("gateway", "CLIENT", "get")]
    inv = t[("inventory", "SERVER", "get /items/{item_id}")]
    inv_out = t[("inventory", "CLIENT", "get")]
    stock = t[("stock", "SERVER", "get /items/<int:item_id>")]
    query = t[("stock", "LOCAL", "query")]

    assert "parentId" not in root
    assert client["parentId"] == root["id"]
    # Each server shares its caller's span ID (B3 join), so both halves are one span in the UI.
    for caller, server in ((client, gw), (gw_out, inv), (inv_out, stock)):
        assert server["id"] == caller["id"] and server.get("shared") is True
        assert server["parentId"] == caller["parentId"]
    assert lookup["parentId"] == gw["id"] and lookup["tags"]["item"] == str(item)
    assert gw_out["parentId"] == gw["id"]
    assert inv_out["parentId"] == inv["id"]
    assert query["parentId"] == stock["id"] and query["tags"]["item"] == str(item)
    for span in (client, gw, gw_out, inv, inv_out, stock):
        assert span["tags"]["http.url"].endswith(f"/items/{item}"), span
        assert span["tags"]["http.method"] == "GET"
    assert gw["tags"]["http.route"] == "/items/{item_id}"
    assert stock["tags"]["http.route"] == "/items/<int:item_id>"
    assert gw["tags"]["component"] == "asgi" and stock["tags"]["component"] == "asgi"
    assert gw_out["tags"]["component"] == "httpx"
    assert inv["tags"]["component"] == inv_out["tags"]["component"] == "aiohttp"
    return t


def test_fifty_concurrent_requests_make_fifty_separate_correct_traces(
    chain: List[ServiceProcess], zipkin_url: str, zipkin: ZipkinApi
) -> None:
    gateway = chain[-1]
    items = list(range(1, CONCURRENT + 1))
    results = call_all(zipkin_url, gateway.url, items)
    assert {status for _, status in results.values()} == {200}
    assert len({trace_id for trace_id, _ in results.values()}) == CONCURRENT
    for service in chain:
        assert service.flush(), service.name

    for item, (trace_id, _) in results.items():
        t = check_trace(zipkin.wait_for_trace(trace_id, SPANS_PER_TRACE), item)
        for span in t.values():
            span_tags = span.get("tags", {})
            assert span_tags.get("http.status_code", "200") == "200", span
            assert "error" not in span_tags, span


def test_a_failure_at_the_end_of_the_chain_is_an_error_at_every_hop(
    chain: List[ServiceProcess], zipkin_url: str, zipkin: ZipkinApi
) -> None:
    gateway = chain[-1]
    ((trace_id, status),) = call_all(zipkin_url, gateway.url, [0]).values()
    assert status == 502
    for service in chain:
        assert service.flush(), service.name

    t = check_trace(zipkin.wait_for_trace(trace_id, SPANS_PER_TRACE), 0)
    query = t[("stock", "LOCAL", "query")]
    assert query["tags"]["error"] == "LookupError: item 0 is out of stock"
    statuses = {
        key: (span["tags"].get("http.status_code"), "error" in span["tags"])
        for key, span in t.items()
        if span.get("kind") in ("SERVER", "CLIENT")
    }
    assert statuses == {
        ("test-client", "CLIENT", "get"): ("502", True),
        ("gateway", "SERVER", "get /items/{item_id}"): ("502", True),
        ("gateway", "CLIENT", "get"): ("502", True),
        ("inventory", "SERVER", "get /items/{item_id}"): ("502", True),
        ("inventory", "CLIENT", "get"): ("500", True),
        ("stock", "SERVER", "get /items/<int:item_id>"): ("500", True),
    }


def server_spans_of(
    gateway: ServiceProcess, zipkin: ZipkinApi, trace_id: str
) -> List[Dict[str, Any]]:
    """The trace once its server span is stored; bounded (Zipkin stores asynchronously)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert gateway.flush()
        spans = zipkin.trace(trace_id)
        if any(span.get("kind") == "SERVER" for span in spans):
            return spans
        time.sleep(0.2)
    raise AssertionError(f"no server span in trace {trace_id}")


def test_a_streamed_response_is_timed_to_its_last_chunk(
    chain: List[ServiceProcess], zipkin: ZipkinApi
) -> None:
    gateway = chain[-1]
    trace_id = format(random.getrandbits(64), "016x")
    headers = {"X-B3-TraceId": trace_id, "X-B3-SpanId": trace_id, "X-B3-Sampled": "1"}
    response = requests.get(f"{gateway.url}/stream/5", headers=headers, timeout=30)
    assert response.text.splitlines() == [f"chunk {i}" for i in range(5)]

    spans = server_spans_of(gateway, zipkin, trace_id)
    (server,) = [s for s in spans if s.get("kind") == "SERVER"]
    chunks = [s for s in spans if s["name"] == "chunk"]
    assert server["name"] == "get /stream/{chunks}"
    assert len(chunks) == 5 and all(c["parentId"] == server["id"] for c in chunks)
    last_chunk_end = max(c["timestamp"] + c["duration"] for c in chunks)
    assert server["timestamp"] + server["duration"] >= last_chunk_end
    assert "annotations" not in server


def test_a_client_that_disconnects_mid_stream_is_recorded(
    chain: List[ServiceProcess], zipkin: ZipkinApi
) -> None:
    gateway = chain[-1]
    trace_id = format(random.getrandbits(64), "016x")
    request = (
        f"GET /stream/500 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-B3-TraceId: {trace_id}\r\n"
        f"X-B3-SpanId: {trace_id}\r\nX-B3-Sampled: 1\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        sock.sendall(request)
        received = b""
        for _ in range(20):  # headers, then the first chunk, 20 ms later at most
            received += sock.recv(4096)
            if b"chunk 0" in received:
                break
        assert b"chunk 0" in received, received
    # closed after the first chunk: 500 chunks would take 10 s

    spans = server_spans_of(gateway, zipkin, trace_id)
    (server,) = [s for s in spans if s.get("kind") == "SERVER"]
    events = [a["value"] for a in server.get("annotations", [])]
    assert events == ["client disconnected", "response incomplete"]
    assert server["tags"]["http.status_code"] == "200"
    assert "error" not in server["tags"]
    assert server["duration"] < 10_000_000  # stopped early, not after all 500 chunks
