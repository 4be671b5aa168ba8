"""ZipkinTracer as users build it: default reporter, real HTTP, real Zipkin."""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any, Dict

import pytest

import opentracing
from opentracing import Format
from tests.integration.zipkin_api import ZipkinApi
from zipkin_tracer import ZipkinTracer

README = Path(__file__).resolve().parents[2] / "README.rst"


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


def test_readme_quickstart_runs_against_a_real_zipkin(
    zipkin: ZipkinApi, zipkin_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's first code block, as written but for the collector address."""
    text = README.read_text(encoding="utf-8")
    section = text.split("Quickstart\n----------\n", 1)[1]
    block = re.search(r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)", section)
    assert block is not None
    code = "\n".join(line[4:] for line in block.group(1).splitlines())
    code = code.replace('"http://127.0.0.1:9411"', repr(zipkin_url))
    code = code.replace("ProbabilisticSampler(0.25)", "ProbabilisticSampler(1.0)")
    monkeypatch.setattr(opentracing, "tracer", opentracing.Tracer())
    namespace: Dict[str, Any] = {}

    exec(compile(code, str(README), "exec"), namespace)

    tracer = namespace["tracer"]
    assert tracer.metrics["spans_delivered"] == 1
    assert tracer.metrics["spans_dropped_total"] == 0


def readme_block(after: str) -> str:
    """The first Python block of README.rst that follows the text ``after``."""
    section = README.read_text(encoding="utf-8").split(after, 1)[1]
    block = re.search(r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)", section)
    assert block is not None, after
    return "\n".join(line[4:] for line in block.group(1).splitlines())


def test_readme_flask_example_traces_both_hops(
    zipkin: ZipkinApi, zipkin_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    responses = pytest.importorskip("responses")
    code = readme_block("calls another service with ``requests``:")
    monkeypatch.setenv("ZIPKIN_URL", zipkin_url)
    monkeypatch.setattr(opentracing, "tracer", opentracing.Tracer())
    namespace: Dict[str, Any] = {"__name__": "readme_example"}
    exec(compile(code, str(README), "exec"), namespace)
    tracer = opentracing.tracer
    trace_id, caller = (f"{random.getrandbits(64) | 1:016x}" for _ in range(2))

    with responses.RequestsMock() as mocked:
        mocked.add_passthru(zipkin_url)
        mocked.get("http://inventory:8080/stock/3", json=12)
        answer = (
            namespace["app"].test_client().get("/items/3", headers={"b3": f"{trace_id}-{caller}-1"})
        )
        sent = dict(mocked.calls[0].request.headers)
        answer.close()  # a WSGI server closes the body: that finishes the server span
        assert tracer.flush(timeout=10.0) is True
    tracer.close(timeout=5.0)

    assert answer.get_json() == {"item": 3, "stock": 12}
    assert sent["X-B3-TraceId"] == trace_id
    spans = zipkin.wait_for_trace(trace_id, spans=2)
    server = next(s for s in spans if s["kind"] == "SERVER")
    client = next(s for s in spans if s["kind"] == "CLIENT")
    assert server["id"] == caller and server["name"] == "get /items/<int:item_id>"
    assert client["parentId"] == caller and client["id"] == sent["X-B3-SpanId"]
    assert {s["localEndpoint"]["serviceName"] for s in spans} == {"frontend"}


def test_readme_custom_reporter_block_delivers(zipkin: ZipkinApi, zipkin_url: str) -> None:
    code = readme_block("build it yourself and hand it to the tracer:")
    code = code.replace('"http://zipkin:9411"', repr(zipkin_url))
    namespace: Dict[str, Any] = {}
    exec(compile(code, str(README), "exec"), namespace)
    tracer = namespace["tracer"]

    span = tracer.start_span("custom reporter")
    span.finish()
    assert tracer.flush(timeout=10.0) is True
    tracer.close(timeout=5.0)

    (stored,) = zipkin.wait_for_trace(trace_id_of(span), spans=1)
    assert stored["localEndpoint"]["serviceName"] == "checkout"
