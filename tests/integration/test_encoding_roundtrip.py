"""Spans of every kind, through every encoder, into a real Zipkin and back.

The tracer reports into memory; the test encodes with the tracer's own
encoder, posts the message like the reporter would, and reads the trace
back from ``/api/v2/trace/{id}``.
"""

from __future__ import annotations

from typing import Any, Dict, List

import pytest

from opentracing import Format
from tests.integration.zipkin_api import ZipkinApi
from zipkin_tracer import ZipkinTracer
from zipkin_tracer.testing import InMemoryReporter


def make(service: str, encoding: str, **options: Any) -> ZipkinTracer:
    return ZipkinTracer(
        service, encoding=encoding, local_ip="127.0.0.1", reporter=InMemoryReporter(), **options
    )


def post(zipkin: ZipkinApi, tracer: ZipkinTracer, spans: List[Any]) -> None:
    encoder = tracer.encoder
    encoded = [encoder.encode_span(span) for span in spans]
    body = encoder.encode_message(encoded)
    assert len(body) == encoder.message_size([len(e) for e in encoded])
    response = zipkin.post(encoder.path, encoder.content_type, body)
    assert response.status_code == 202, response.text


def by_name(spans: List[Dict[str, Any]]) -> Dict[str, Dict[str, Any]]:
    out: Dict[str, Dict[str, Any]] = {}
    for span in spans:
        key = span["name"]
        if span.get("kind") == "SERVER":
            key += "@" + span["localEndpoint"]["serviceName"]
        out[key] = span
    return out


@pytest.mark.parametrize("encoding", ["json", "thrift", "proto3"])
@pytest.mark.parametrize("trace_id_128bit", [False, True], ids=["64bit", "128bit"])
def test_every_kind_reads_back(zipkin: ZipkinApi, encoding: str, trace_id_128bit: bool) -> None:
    frontend = make("IT-Frontend", encoding, trace_id_128bit=trace_id_128bit)
    backend = make("it-backend", encoding)
    owner = make("it-owner", encoding, supports_join=False)

    with frontend.start_active_span("Checkout", tags={"component": "it"}) as root_scope:
        root = root_scope.span
        root.log_kv({"event": "started"})
        with frontend.start_active_span(
            "GET /pay",
            tags={
                "span.kind": "client",
                "peer.service": "it-backend",
                "peer.ipv4": "10.0.0.2",
                "peer.port": 8080,
                "http.method": "GET",
                "retry": True,
            },
        ) as client_scope:
            client = client_scope.span
            client.log_kv({"event": "retry", "attempt": 2})
            headers: Dict[str, str] = {}
            frontend.inject(client.context, Format.HTTP_HEADERS, headers)

            joined_parent = backend.extract(Format.HTTP_HEADERS, headers)
            server = backend.start_span(
                "pay",
                child_of=joined_parent,
                tags={"span.kind": "server", "peer.ipv4": "10.0.0.1", "http.status_code": 200},
            )
            server.set_tag("error", True)
            server.log_kv({"event": "error", "message": "card declined"})
            server.finish()

            owned_parent = owner.extract(Format.HTTP_HEADERS, headers)
            owned = owner.start_span("audit", child_of=owned_parent, tags={"span.kind": "server"})
            owned.finish()
        with frontend.start_span(
            "send", tags={"span.kind": "producer", "peer.service": "kafka"}
        ) as producer:
            pass
        with frontend.start_span(
            "receive", tags={"span.kind": "consumer", "peer.service": "kafka"}
        ) as consumer:
            pass

    post(zipkin, frontend, frontend.reporter.spans)  # type: ignore[attr-defined]
    post(zipkin, backend, backend.reporter.spans)  # type: ignore[attr-defined]
    post(zipkin, owner, owner.reporter.spans)  # type: ignore[attr-defined]

    trace_id = root.context.trace_id_hex
    assert len(trace_id) == (32 if trace_id_128bit else 16)
    stored = by_name(zipkin.wait_for_trace(trace_id, spans=6))
    assert set(stored) == {
        "checkout",
        "get /pay",
        "pay@it-backend",
        "audit@it-owner",
        "send",
        "receive",
    }
    for span in stored.values():
        assert span["traceId"] == trace_id

    r = stored["checkout"]
    assert "kind" not in r and "parentId" not in r and r["id"] == root.context.span_id_hex
    assert r["localEndpoint"] == {"serviceName": "it-frontend", "ipv4": "127.0.0.1"}
    assert r["tags"] == {"component": "it"}
    assert [a["value"] for a in r["annotations"]] == ["started"]
    assert r["timestamp"] == root.start_us and r["duration"] == root.duration_us

    c = stored["get /pay"]
    assert c["kind"] == "CLIENT" and c["parentId"] == root.context.span_id_hex
    assert c["remoteEndpoint"] == {"serviceName": "it-backend", "ipv4": "10.0.0.2", "port": 8080}
    assert c["tags"] == {"http.method": "GET", "retry": "true"}
    assert [a["value"] for a in c["annotations"]] == ["event=retry attempt=2"]
    assert c["timestamp"] == client.start_us and c["duration"] == client.duration_us
    assert "shared" not in c

    s = stored["pay@it-backend"]
    assert s["kind"] == "SERVER" and s["shared"] is True
    assert s["id"] == c["id"] and s["parentId"] == root.context.span_id_hex
    assert s["localEndpoint"]["serviceName"] == "it-backend"
    assert s["remoteEndpoint"] == {"ipv4": "10.0.0.1"}
    assert s["tags"] == {"error": "card declined", "http.status_code": "200"}
    assert s["timestamp"] == server.start_us and s["duration"] == server.duration_us

    o = stored["audit@it-owner"]
    assert o["kind"] == "SERVER" and "shared" not in o
    assert o["parentId"] == c["id"] and o["id"] != c["id"]
    assert o["timestamp"] == owned.start_us and o["duration"] == owned.duration_us

    for name, kind, span in (("send", "PRODUCER", producer), ("receive", "CONSUMER", consumer)):
        m = stored[name]
        assert m["kind"] == kind and m["remoteEndpoint"] == {"serviceName": "kafka"}
        assert m["parentId"] == root.context.span_id_hex
        assert m["timestamp"] == span.start_us and m["duration"] == span.duration_us


@pytest.mark.parametrize("encoding", ["json", "thrift", "proto3"])
def test_debug_and_odd_values_read_back(zipkin: ZipkinApi, encoding: str) -> None:
    tracer = make("it-odd", encoding, max_tag_value_length=50)
    parent = tracer.extract(Format.HTTP_HEADERS, {"b3": "d"})
    with tracer.start_active_span("Grüße", child_of=parent) as scope:
        scope.span.set_tag("long", "x" * 1000).set_tag("unicode", "ü\u200b").set_tag("n", 1.5)
    post(zipkin, tracer, tracer.reporter.spans)  # type: ignore[attr-defined]
    (stored,) = zipkin.wait_for_trace(scope.span.context.trace_id_hex, spans=1)
    assert stored["debug"] is True
    assert stored["name"] == "grüße"
    assert stored["tags"] == {"long": "x" * 50, "unicode": "ü\u200b", "n": "1.5"}
