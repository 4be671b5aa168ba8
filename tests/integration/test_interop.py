"""Services in separate processes, real HTTP on 127.0.0.1, traces read back from Zipkin.

The services are the demo's (``demo/service.py``): ours (ZipkinTracer +
TracingMiddleware + TracingSession, JSON v2 or Thrift v1; the front one a Flask
app with ``install_flask_hooks``, the others plain WSGI) and py_zipkin's.
"""

from __future__ import annotations

import random
from typing import Any, Dict, Iterator, List, Tuple

import pytest

from demo.cluster import Cluster, ServiceProcess
from tests.integration.zipkin_api import ZipkinApi
from zipkin_tracer.trace_tree import children_of, orphans, roots

Span = Dict[str, Any]


def new_id() -> str:
    return f"{random.getrandbits(64) | 1:016x}"


class Services:
    def __init__(self, cluster: Cluster) -> None:
        start = cluster.start
        self.cluster = cluster
        # ours (Flask, JSON) → ours (plain WSGI, Thrift) → py_zipkin
        self.pricing = start("it-pricing", tracer="py_zipkin")
        self.backend = start("it-backend", encoding="thrift", downstream=self.pricing)
        self.frontend = start(
            "it-frontend", encoding="json", framework="flask", downstream=self.backend
        )
        # py_zipkin → ours
        self.tail = start("it-tail", encoding="json")
        self.edge = start("it-edge", tracer="py_zipkin", downstream=self.tail)
        # the same two-hop chain in each encoding
        self.json_b = start("it-chain-b", encoding="json")
        self.json_a = start("it-chain-a", encoding="json", downstream=self.json_b)
        self.thrift_b = start("it-chain-b", encoding="thrift")
        self.thrift_a = start("it-chain-a", encoding="thrift", downstream=self.thrift_b)

    def flush(self) -> None:
        assert self.cluster.flush(), "a service could not deliver its spans"


@pytest.fixture(scope="module")
def services(zipkin_url: str) -> Iterator[Services]:
    with Cluster(zipkin_url) as cluster:
        yield Services(cluster)


def call(service: ServiceProcess, headers: Dict[str, str]) -> List[Dict[str, Any]]:
    """GET /work/1 on ``service``; returns the chain of hops with the B3 each received."""
    return list(service.get("/work/1", headers)["chain"])


def one(spans: List[Span], service: str, kind: str) -> Span:
    found = [
        s for s in spans if s["localEndpoint"]["serviceName"] == service and s.get("kind") == kind
    ]
    assert len(found) == 1, (service, kind, spans)
    return found[0]


def test_three_services_join_one_trace(services: Services, zipkin: ZipkinApi) -> None:
    trace_id, caller_span = new_id(), new_id()

    call(
        services.frontend,
        {"X-B3-TraceId": trace_id, "X-B3-SpanId": caller_span, "X-B3-Sampled": "1"},
    )
    services.flush()

    spans = zipkin.wait_for_trace(trace_id, spans=5)
    assert len(spans) == 5
    front_server = one(spans, "it-frontend", "SERVER")
    front_client = one(spans, "it-frontend", "CLIENT")
    back_server = one(spans, "it-backend", "SERVER")
    back_client = one(spans, "it-backend", "CLIENT")
    pricing_server = one(spans, "it-pricing", "SERVER")
    # each server joins its caller's span (shared ID), each client is a child of its server
    assert front_server["id"] == caller_span and front_server["shared"] is True
    assert "parentId" not in front_server
    assert front_client["parentId"] == front_server["id"]
    assert back_server["id"] == front_client["id"] and back_server["shared"] is True
    assert back_server["parentId"] == front_server["id"]
    assert back_client["parentId"] == back_server["id"]
    assert pricing_server["id"] == back_client["id"]
    assert pricing_server["parentId"] == back_server["id"]
    # remote endpoints: the peer each side talked to
    assert front_client["remoteEndpoint"] == {"ipv4": "127.0.0.1", "port": services.backend.port}
    assert back_client["remoteEndpoint"] == {"ipv4": "127.0.0.1", "port": services.pricing.port}
    assert front_server["remoteEndpoint"]["ipv4"] == "127.0.0.1"
    for span in (front_server, back_server):
        assert span["tags"]["http.status_code"] == "200"
        assert span["tags"]["http.route"] == "/work/<item>"
        assert span["name"] == "get /work/<item>"
    assert back_server["remoteEndpoint"]["ipv4"] == "127.0.0.1"
    # the py_zipkin server joins our client's span too
    assert pricing_server["shared"] is True
    for span in (front_client, back_client):
        assert "shared" not in span
    for span in spans:
        assert span["traceId"] == trace_id
        assert span["localEndpoint"]["ipv4"] == "127.0.0.1"
    # the tree, as the demo draws it: one root, each span under the right one
    assert roots(spans) == [front_server]
    assert children_of(front_server, spans) == [front_client]
    assert children_of(front_client, spans) == [back_server]
    assert children_of(back_server, spans) == [back_client]
    assert children_of(back_client, spans) == [pricing_server]
    assert children_of(pricing_server, spans) == []
    assert orphans(spans) == []


def test_128bit_trace_id_crosses_thrift_and_py_zipkin(
    services: Services, zipkin: ZipkinApi
) -> None:
    trace_id = f"{random.getrandbits(128) | 1 << 127:032x}"

    chain = call(
        services.frontend, {"X-B3-TraceId": trace_id, "X-B3-SpanId": new_id(), "X-B3-Sampled": "1"}
    )
    services.flush()

    assert [hop["received"]["x-b3-traceid"] for hop in chain] == [trace_id] * 3
    spans = zipkin.wait_for_trace(trace_id, spans=5)
    assert len(spans) == 5 and {s["traceId"] for s in spans} == {trace_id}
    assert orphans(spans) == []


def test_deferred_decision_makes_the_server_a_child(services: Services, zipkin: ZipkinApi) -> None:
    """IDs without a decision: the server samples, owns a new span, never shares the caller's."""
    trace_id, caller_span = new_id(), new_id()

    chain = call(services.frontend, {"X-B3-TraceId": trace_id, "X-B3-SpanId": caller_span})
    services.flush()

    assert chain[1]["received"]["x-b3-sampled"] == "1"  # our decision, sent on
    spans = zipkin.wait_for_trace(trace_id, spans=5)
    front_server = one(spans, "it-frontend", "SERVER")
    assert front_server["parentId"] == caller_span and front_server["id"] != caller_span
    assert "shared" not in front_server
    assert one(spans, "it-backend", "SERVER")["shared"] is True
    assert roots(spans) == [front_server]  # the caller reported nothing
    assert orphans(spans) == []


def test_py_zipkin_calls_ours_in_one_trace(services: Services, zipkin: ZipkinApi) -> None:
    trace_id, caller_span = new_id(), new_id()

    call(services.edge, {"X-B3-TraceId": trace_id, "X-B3-SpanId": caller_span, "X-B3-Sampled": "1"})
    services.flush()

    spans = zipkin.wait_for_trace(trace_id, spans=3)
    edge_server = one(spans, "it-edge", "SERVER")
    edge_client = one(spans, "it-edge", "CLIENT")
    tail_server = one(spans, "it-tail", "SERVER")
    assert edge_server["id"] == caller_span
    assert edge_client["parentId"] == edge_server["id"]
    assert tail_server["id"] == edge_client["id"] and tail_server["shared"] is True
    assert tail_server["parentId"] == edge_server["id"]
    assert orphans(spans) == []


def test_py_zipkin_root_is_joined_by_ours(services: Services, zipkin: ZipkinApi) -> None:
    """py_zipkin starts the trace; its headers (``X-B3-Flags: 0`` included) are ours to join."""
    chain = call(services.edge, {})
    services.flush()

    sent = chain[1]["received"]
    assert chain[0]["received"] == {}
    spans = zipkin.wait_for_trace(sent["x-b3-traceid"], spans=3)
    assert len(spans) == 3
    edge_server = one(spans, "it-edge", "SERVER")
    edge_client = one(spans, "it-edge", "CLIENT")
    tail_server = one(spans, "it-tail", "SERVER")
    assert "parentId" not in edge_server
    assert edge_client["id"] == sent["x-b3-spanid"]
    assert tail_server["id"] == edge_client["id"] and tail_server["shared"] is True
    assert tail_server["parentId"] == edge_server["id"]
    assert roots(spans) == [edge_server]
    assert orphans(spans) == []


def test_single_b3_header_alone_is_understood(services: Services, zipkin: ZipkinApi) -> None:
    trace_id, caller_span = new_id(), new_id()

    chain = call(services.frontend, {"b3": f"{trace_id}-{caller_span}-1"})
    services.flush()

    spans = zipkin.wait_for_trace(trace_id, spans=5)
    assert one(spans, "it-frontend", "SERVER")["id"] == caller_span
    # the next hops get the configured multi-header format, same trace
    assert [hop["received"]["x-b3-traceid"] for hop in chain[1:]] == [trace_id, trace_id]
    assert orphans(spans) == []


@pytest.mark.parametrize(
    "case", [str.upper, str.lower, str.swapcase], ids=["upper", "lower", "mixed"]
)
def test_multi_header_names_in_any_case(services: Services, zipkin: ZipkinApi, case: Any) -> None:
    trace_id, caller_span = new_id(), new_id()
    headers = {"X-B3-TraceId": trace_id, "X-B3-SpanId": caller_span, "X-B3-Sampled": "1"}

    call(services.frontend, {case(name): value for name, value in headers.items()})
    services.flush()

    spans = zipkin.wait_for_trace(trace_id, spans=5)
    assert one(spans, "it-frontend", "SERVER")["id"] == caller_span
    assert orphans(spans) == []


@pytest.mark.parametrize("form", ["multi", "single"])
def test_sampled_zero_reports_nothing_and_propagates(
    services: Services, zipkin: ZipkinApi, form: str
) -> None:
    trace_id, caller_span = new_id(), new_id()
    if form == "multi":
        headers = {"X-B3-TraceId": trace_id, "X-B3-SpanId": caller_span, "X-B3-Sampled": "0"}
    else:
        headers = {"b3": f"{trace_id}-{caller_span}-0"}
    ours = (services.frontend, services.backend)
    before = [service.metrics() for service in ours]
    py_zipkin_before = services.pricing.metrics()["spans_delivered"]

    chain = call(services.frontend, headers)
    services.flush()

    for service, old in zip(ours, before):
        new = service.metrics()
        assert new["spans"] == old["spans"], "an unsampled span reached the reporter"
        assert new["spans_not_sampled"] == old["spans_not_sampled"] + 2  # server + client
    assert services.pricing.metrics()["spans_delivered"] == py_zipkin_before
    # the decision went down the whole chain, py_zipkin included
    for hop in chain[1:]:
        assert hop["received"]["x-b3-sampled"] == "0"
        assert hop["received"]["x-b3-traceid"] == trace_id
    # a sampled trace sent afterwards through the same chain arrives; the denied one never did
    barrier = new_id()
    call(services.frontend, {"b3": f"{barrier}-{new_id()}-1"})
    services.flush()
    zipkin.wait_for_trace(barrier, spans=5)
    assert zipkin.trace(trace_id) == []


def test_debug_is_reported_and_propagated(services: Services, zipkin: ZipkinApi) -> None:
    trace_id, caller_span = new_id(), new_id()

    chain = call(
        services.frontend, {"X-B3-TraceId": trace_id, "X-B3-SpanId": caller_span, "X-B3-Flags": "1"}
    )
    services.flush()

    spans = zipkin.wait_for_trace(trace_id, spans=5)
    ours = [s for s in spans if s["localEndpoint"]["serviceName"] in ("it-frontend", "it-backend")]
    assert len(ours) == 4 and all(s.get("debug") is True for s in ours)
    # debug goes down as X-B3-Flags: 1, without X-B3-Sampled, to py_zipkin too
    for hop in chain[1:]:
        assert hop["received"]["x-b3-flags"] == "1"
        assert "x-b3-sampled" not in hop["received"]
    assert orphans(spans) == []


def test_garbage_headers_start_a_new_trace(services: Services, zipkin: ZipkinApi) -> None:
    garbage = {
        "X-B3-TraceId": "not-hex-at-all",
        "X-B3-SpanId": "0x1234",
        "X-B3-Sampled": "maybe",
        "b3": "--zz--",
        "X-B3-Flags": "\u00ff",
    }

    chain = call(services.frontend, garbage)
    services.flush()

    assert chain[0]["received"]["x-b3-traceid"] == "not-hex-at-all"  # it did reach the service
    new_trace = chain[1]["received"]["x-b3-traceid"]
    assert new_trace != "not-hex-at-all" and int(new_trace, 16) != 0
    assert chain[2]["received"]["x-b3-traceid"] == new_trace
    spans = zipkin.wait_for_trace(new_trace, spans=5)
    front_server = one(spans, "it-frontend", "SERVER")
    assert "parentId" not in front_server and not front_server.get("shared")
    assert front_server["tags"]["http.status_code"] == "200"
    assert roots(spans) == [front_server]
    assert orphans(spans) == []


def shape(spans: List[Span]) -> List[Tuple[Any, ...]]:
    """What a trace looks like, without IDs, times and ports."""
    by_id = {(s["id"], bool(s.get("shared"))): s for s in spans}
    out = []
    for span in spans:
        parent = by_id.get((span.get("parentId"), False)) or by_id.get((span.get("parentId"), True))
        tags = {k: v for k, v in span.get("tags", {}).items() if k not in ("http.url", "peer.port")}
        out.append(
            (
                span["localEndpoint"]["serviceName"],
                span.get("kind"),
                span["name"],
                bool(span.get("shared")),
                parent["localEndpoint"]["serviceName"] if parent else None,
                parent.get("kind") if parent else None,
                tuple(sorted(tags.items())),
                tuple(a["value"] for a in span.get("annotations", [])),
                "remoteEndpoint" in span,
            )
        )
    return sorted(out, key=repr)


def test_both_encodings_give_the_same_trace(services: Services, zipkin: ZipkinApi) -> None:
    shapes = []
    for first in (services.json_a, services.thrift_a):
        trace_id, caller_span = new_id(), new_id()
        call(first, {"X-B3-TraceId": trace_id, "X-B3-SpanId": caller_span, "X-B3-Sampled": "1"})
        services.flush()
        shapes.append(shape(zipkin.wait_for_trace(trace_id, spans=3)))

    json_shape, thrift_shape = shapes
    assert len(json_shape) == 3
    assert json_shape == thrift_shape
