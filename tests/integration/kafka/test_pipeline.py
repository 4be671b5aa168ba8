"""Our tracer → Kafka → Zipkin collectors → OpenSearch, in each encoding, read back by ID.

Also what an independent consumer of the topic sees: one Kafka message per
encoded list of spans, decodable by the schema (proto3 here).
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Dict, List

import pytest
from confluent_kafka import Consumer

from opentracing import Format
from tests.integration.zipkin_api import ZipkinApi
from tests.support.zipkin_proto import zipkin_pb2
from zipkin_tracer import ZipkinTracer


def kafka_tracer(
    service: str, bootstrap_servers: str, encoding: str, **options: Any
) -> ZipkinTracer:
    return ZipkinTracer(
        service,
        transport="kafka",
        kafka_bootstrap_servers=bootstrap_servers,
        encoding=encoding,
        local_ip="127.0.0.1",
        **options,
    )


@pytest.mark.parametrize("encoding", ["json", "thrift", "proto3"])
def test_a_trace_arrives_through_kafka_in_each_encoding(
    bootstrap_servers: str, collectors: List[ZipkinApi], encoding: str
) -> None:
    frontend = kafka_tracer(f"kafka-front-{encoding}", bootstrap_servers, encoding)
    backend = kafka_tracer(f"kafka-back-{encoding}", bootstrap_servers, encoding)
    try:
        with frontend.start_active_span("checkout", tags={"component": "it"}) as root:
            root.span.log_kv({"event": "cart.loaded"})
            client = frontend.start_span(
                "get /pay",
                tags={"span.kind": "client", "peer.service": "payments", "peer.port": 8443},
            )
            headers: Dict[str, str] = {}
            frontend.inject(client.context, Format.HTTP_HEADERS, headers)
            server = backend.start_span(
                "get /pay",
                child_of=backend.extract(Format.HTTP_HEADERS, headers),
                tags={"span.kind": "server", "http.status_code": 200},
            )
            server.finish()
            client.finish()
        assert backend.flush(timeout=20.0) is True
        assert frontend.flush(timeout=20.0) is True
    finally:
        frontend.close(timeout=5.0)
        backend.close(timeout=5.0)

    trace_id = format(root.span.context.trace_id, "016x")
    # any collector reads what either stored: they share the storage
    spans = collectors[-1].wait_for_trace(trace_id, spans=3, timeout=60.0)
    by_key = {(s["name"], s.get("kind")): s for s in spans}
    assert set(by_key) == {("checkout", None), ("get /pay", "CLIENT"), ("get /pay", "SERVER")}
    checkout = by_key[("checkout", None)]
    assert checkout["localEndpoint"]["serviceName"] == f"kafka-front-{encoding}"
    assert [a["value"] for a in checkout["annotations"]] == ["cart.loaded"]
    assert checkout["tags"] == {"component": "it"}
    client_span = by_key[("get /pay", "CLIENT")]
    assert client_span["remoteEndpoint"] == {"serviceName": "payments", "port": 8443}
    server_span = by_key[("get /pay", "SERVER")]
    assert server_span["id"] == client_span["id"]
    assert server_span["localEndpoint"]["serviceName"] == f"kafka-back-{encoding}"
    assert server_span["tags"]["http.status_code"] == "200"
    if encoding != "thrift":  # v1 Thrift has no "shared" flag of its own
        assert server_span.get("shared") is True


def test_an_independent_consumer_reads_one_proto3_list_per_message(
    bootstrap_servers: str,
) -> None:
    topic = f"it-raw-{uuid.uuid4().hex[:8]}"
    tracer = kafka_tracer("kafka-raw", bootstrap_servers, "proto3", kafka_topic=topic)
    names = [f"op-{index}" for index in range(50)]
    try:
        for name in names:
            tracer.start_span(name, tags={"index": name}).finish()
        assert tracer.flush(timeout=20.0) is True
        metrics = tracer.reporter.metrics  # type: ignore[attr-defined]
    finally:
        tracer.close(timeout=5.0)

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap_servers,
            "group.id": f"independent-{topic}",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([topic])
    messages: List[bytes] = []
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline and len(messages) < metrics["messages"]:
            message = consumer.poll(0.5)
            if message is not None and not message.error():
                messages.append(message.value())
    finally:
        consumer.close()
    assert len(messages) == metrics["messages"] >= 1
    decoded = [zipkin_pb2().ListOfSpans.FromString(body) for body in messages]
    seen = [span.name for message in decoded for span in message.spans]
    assert sorted(seen) == sorted(names)
    assert all(span.local_endpoint.service_name == "kafka-raw" for m in decoded for span in m.spans)
    assert all(span.tags["index"] == span.name for m in decoded for span in m.spans)


def test_messages_above_the_brokers_limit_are_split_and_delivered(
    bootstrap_servers: str, stored: Any
) -> None:
    """The broker's default limit is about 1 MB; the reporter packs 3 MB messages."""
    service = f"kafka-big-{uuid.uuid4().hex[:6]}"
    tracer = kafka_tracer(
        service,
        bootstrap_servers,
        "proto3",
        message_max_bytes=3_000_000,
        max_tag_value_length=200_000,
    )
    try:
        for index in range(12):
            tracer.start_span(f"big-{index}", tags={"payload": "x" * 150_000}).finish()
        assert tracer.flush(timeout=30.0) is True
        metrics = tracer.reporter.metrics  # type: ignore[attr-defined]
    finally:
        tracer.close(timeout=5.0)
    assert metrics["spans_delivered"] == 12, metrics
    assert metrics["messages_split"] >= 1, metrics  # 1.8 MB refused, then halves
    assert metrics["messages"] >= 2, metrics
    copies = stored.wait_for(service, 12)
    assert len(copies) == 12 and set(copies.values()) == {1}, copies
