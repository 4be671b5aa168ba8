"""The collector itself: proves the fixture gives a real, writable Zipkin."""

from __future__ import annotations

import json
import random

from tests.integration.zipkin_api import ZipkinApi


def test_v2_json_span_round_trips_through_zipkin(zipkin: ZipkinApi) -> None:
    trace_id = f"{random.getrandbits(64) | 1:016x}"
    span = {
        "traceId": trace_id,
        "id": trace_id,
        "name": "get /fixture",
        "kind": "SERVER",
        "timestamp": 1_700_000_000_000_000,
        "duration": 1500,
        "localEndpoint": {"serviceName": "fixture-check", "ipv4": "127.0.0.1"},
        "tags": {"http.method": "GET"},
    }

    response = zipkin.post_v2_json(json.dumps([span]).encode())

    assert response.status_code == 202, response.text
    (stored,) = zipkin.wait_for_trace(trace_id, spans=1)
    assert stored["id"] == trace_id
    assert stored["name"] == "get /fixture"
    assert stored["kind"] == "SERVER"
    assert stored["localEndpoint"]["serviceName"] == "fixture-check"
    assert stored["tags"] == {"http.method": "GET"}


def test_collector_rejects_a_span_without_ids(zipkin: ZipkinApi) -> None:
    response = zipkin.post_v2_json(b'[{"name": "no ids"}]')

    assert response.status_code == 400
