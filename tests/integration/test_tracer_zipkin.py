"""ZipkinTracer as users build it: default reporter, real HTTP, real Zipkin."""

from __future__ import annotations

from typing import Any, Dict

import pytest

from opentracing import Format
from tests.integration.zipkin_api import ZipkinApi
from zipkin_tracer import ZipkinTracer


def trace_id_of(span: Any) -> str:
    return format(span.context.trace_id, "016x" if span.context.trace_id < 2**64 else "032x")


@pytest.mark.parametrize("encoding", ["json", "thrift", "proto3"])
def test_client_and_server_spans_arrive_through_the_default_reporter(
    zipkin: ZipkinApi, zipkin_url: str, encoding: str
) -> None:
    client_tracer = ZipkinTracer(
        service_name="e2e-client", collector_url=zipkin_url, encoding=encoding
    )
    server_tracer = ZipkinTracer(
        service_name="e2e-server", collector_url=zipkin_url, encoding=encoding
    )
    try:
        client = client_tracer.start_span(
            "get /order", tags={"span.kind": "client", "peer.service": "e2e-server"}
        )
        headers: Dict[str, str] = {}
        client_tracer.inject(client.context, Format.HTTP_HEADERS, headers)
        parent = server_tracer.extract(Format.HTTP_HEADERS, headers)
        server = server_tracer.start_span(
            "get /order", child_of=parent, tags={"span.kind": "server", "http.status_code": 200}
        )
        server.log_kv({"event": "cache.miss", "key": "order:1"})
        server.finish()
        client.finish()

        assert server_tracer.flush(timeout=10.0) is True
        assert client_tracer.flush(timeout=10.0) is True
    finally:
        client_tracer.close(timeout=5.0)
        server_tracer.close(timeout=5.0)

    spans = zipkin.wait_for_trace(trace_id_of(client), spans=2)
    by_kind = {span["kind"]: span for span in spans}
    assert by_kind["CLIENT"]["localEndpoint"]["serviceName"] == "e2e-client"
    assert by_kind["CLIENT"]["remoteEndpoint"]["serviceName"] == "e2e-server"
    assert by_kind["SERVER"]["localEndpoint"]["serviceName"] == "e2e-server"
    assert by_kind["SERVER"]["id"] == by_kind["CLIENT"]["id"]
    assert by_kind["SERVER"].get("shared") is True
    assert by_kind["SERVER"]["tags"]["http.status_code"] == "200"
    annotations = [a["value"] for a in by_kind["SERVER"]["annotations"]]
    assert annotations == ["event=cache.miss key=order:1"]
    metrics = server_tracer.metrics
    assert metrics["spans_delivered"] == 1
    assert metrics["spans_dropped_total"] == 0
