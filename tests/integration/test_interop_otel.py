"""Ours and the OpenTelemetry Python SDK in one trace, over real HTTP, read back from Zipkin.

Ours is the demo's service with a default ZipkinTracer; OpenTelemetry's is
``tests/integration/otel_service.py`` (SDK + Zipkin JSON exporter + WSGI and
requests instrumentation), once with its default propagators, once with
``OTEL_PROPAGATORS=b3multi`` and once with ``b3`` (single). Each in its own
process: ours → OTel, OTel → ours, and ours → OTel → ours.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Dict, Iterator, List, Optional

import pytest

from demo.cluster import Cluster, ServiceProcess
from tests.integration.zipkin_api import ZipkinApi
from zipkin_tracer.trace_tree import children_of, orphans, roots

Span = Dict[str, Any]
CONFIGS = {"default": None, "b3multi": "b3multi", "b3": "b3"}


class OtelProcess(ServiceProcess):
    """``tests.integration.otel_service`` in its own process, stopped like a demo service."""

    def __init__(
        self, name: str, collector_url: str, propagators: Optional[str], downstream: str
    ) -> None:
        environment = {k: v for k, v in os.environ.items() if k != "OTEL_PROPAGATORS"}
        if propagators is not None:
            environment["OTEL_PROPAGATORS"] = propagators
        command = [sys.executable, "-m", "tests.integration.otel_service", name]
        super().__init__(
            name,
            collector_url,
            command=[*command, "--downstream", downstream],
            environment=environment,
        )


class Fleet:
    """ours-front → otel → ours-tail, for one OpenTelemetry propagator setting."""

    def __init__(self, cluster: Cluster, config: str) -> None:
        self.config = config
        self.cluster = cluster
        self.tail = cluster.start(f"ours-tail-{config}")
        self.otel = OtelProcess(
            f"otel-{config}", cluster.collector_url, CONFIGS[config], self.tail.url
        )
        self.front = cluster.start(f"ours-front-{config}", downstream=self.otel)

    def flush(self) -> None:
        assert self.cluster.flush() and self.otel.flush(), "a service could not deliver"

    def stop(self) -> None:
        self.otel.stop()
        self.cluster.stop()


@pytest.fixture(scope="module", params=list(CONFIGS))
def fleet(request: pytest.FixtureRequest, zipkin_url: str) -> Iterator[Fleet]:
    with Cluster(zipkin_url) as cluster:
        fleet = Fleet(cluster, request.param)
        try:
            yield fleet
        finally:
            fleet.stop()


def one(spans: List[Span], service: str, kind: str) -> Span:
    found = [
        s for s in spans if s["localEndpoint"]["serviceName"] == service and s.get("kind") == kind
    ]
    assert len(found) == 1, (service, kind, spans)
    return found[0]


def trace_id_of(hop: Dict[str, Any]) -> str:
    """The trace ID an OpenTelemetry hop received, in Zipkin's normal form."""
    headers = hop["received"]
    if "traceparent" in headers:
        raw = headers["traceparent"].split("-")[1]
    elif "b3" in headers:
        raw = headers["b3"].split("-")[0]
    else:
        raw = headers["x-b3-traceid"]
    number = int(raw, 16)
    return f"{number:016x}" if number < 1 << 64 else f"{number:032x}"


def assert_one_tree(spans: List[Span], trace_id: str, root: Span) -> None:
    assert {s["traceId"] for s in spans} == {trace_id}
    assert roots(spans) == [root]
    assert orphans(spans) == []


def assert_server_under(server: Span, client: Span, config: str) -> None:
    """W3C: the server is the client's child; B3 from OTel: ours joins the client's span."""
    if config == "default":
        assert server["parentId"] == client["id"] and server["id"] != client["id"]
        assert "shared" not in server
    else:
        assert server["id"] == client["id"] and server["shared"] is True
    assert children_of(client, [server, client]) == [server]


def test_ours_calls_otel(fleet: Fleet, zipkin: ZipkinApi) -> None:
    chain = fleet.front.get("/work/leaf")["chain"]
    fleet.flush()

    assert [hop["service"] for hop in chain] == [f"ours-front-{fleet.config}", fleet.otel.name]
    assert "traceparent" in chain[1]["received"] and "x-b3-traceid" in chain[1]["received"]
    trace_id = trace_id_of(chain[1])
    spans = zipkin.wait_for_trace(trace_id, spans=3)
    assert len(spans) == 3
    front_server = one(spans, f"ours-front-{fleet.config}", "SERVER")
    front_client = one(spans, f"ours-front-{fleet.config}", "CLIENT")
    otel_server = one(spans, fleet.otel.name, "SERVER")
    assert "parentId" not in front_server
    assert front_client["parentId"] == front_server["id"]
    # OpenTelemetry never shares a span ID: its server is our client's child
    assert otel_server["parentId"] == front_client["id"] and otel_server["id"] != front_client["id"]
    assert_one_tree(spans, trace_id, front_server)


def test_otel_calls_ours(fleet: Fleet, zipkin: ZipkinApi) -> None:
    body = fleet.otel.get("/work/1")
    fleet.flush()

    trace_id = body["trace_id"]
    assert len(trace_id) == 32  # OpenTelemetry's 128-bit ID ...
    spans = zipkin.wait_for_trace(trace_id, spans=3)
    assert len(spans) == 3  # ... kept 128-bit by ours
    otel_server = one(spans, fleet.otel.name, "SERVER")
    otel_client = one(spans, fleet.otel.name, "CLIENT")
    tail_server = one(spans, f"ours-tail-{fleet.config}", "SERVER")
    assert "parentId" not in otel_server and otel_client["parentId"] == otel_server["id"]
    assert_server_under(tail_server, otel_client, fleet.config)
    assert_one_tree(spans, trace_id, otel_server)


def test_ours_otel_ours_is_one_trace(fleet: Fleet, zipkin: ZipkinApi) -> None:
    chain = fleet.front.get("/work/1")["chain"]
    fleet.flush()

    trace_id = trace_id_of(chain[1])
    spans = zipkin.wait_for_trace(trace_id, spans=5)
    assert len(spans) == 5
    front_server = one(spans, f"ours-front-{fleet.config}", "SERVER")
    front_client = one(spans, f"ours-front-{fleet.config}", "CLIENT")
    otel_server = one(spans, fleet.otel.name, "SERVER")
    otel_client = one(spans, fleet.otel.name, "CLIENT")
    tail_server = one(spans, f"ours-tail-{fleet.config}", "SERVER")
    assert front_client["parentId"] == front_server["id"]
    assert otel_server["parentId"] == front_client["id"]
    assert otel_client["parentId"] == otel_server["id"]
    assert_server_under(tail_server, otel_client, fleet.config)
    assert_one_tree(spans, trace_id, front_server)
    assert children_of(front_server, spans) == [front_client]
    assert children_of(front_client, spans) == [otel_server]
    assert children_of(otel_server, spans) == [otel_client]
    assert children_of(otel_client, spans) == [tail_server]
