"""Standard tag and log constants, and the legacy opentracing.ext.tags module."""

from __future__ import annotations

import opentracing
from opentracing import logs, tags
from opentracing.ext import tags as ext_tags

EXPECTED_TAGS = {
    "SPAN_KIND": "span.kind",
    "SPAN_KIND_RPC_CLIENT": "client",
    "SPAN_KIND_RPC_SERVER": "server",
    "SPAN_KIND_CONSUMER": "consumer",
    "SPAN_KIND_PRODUCER": "producer",
    "SERVICE": "service",
    "ERROR": "error",
    "COMPONENT": "component",
    "SAMPLING_PRIORITY": "sampling.priority",
    "PEER_SERVICE": "peer.service",
    "PEER_HOSTNAME": "peer.hostname",
    "PEER_ADDRESS": "peer.address",
    "PEER_HOST_IPV4": "peer.ipv4",
    "PEER_HOST_IPV6": "peer.ipv6",
    "PEER_PORT": "peer.port",
    "HTTP_URL": "http.url",
    "HTTP_METHOD": "http.method",
    "HTTP_STATUS_CODE": "http.status_code",
    "DATABASE_INSTANCE": "db.instance",
    "DATABASE_STATEMENT": "db.statement",
    "DATABASE_TYPE": "db.type",
    "DATABASE_USER": "db.user",
    "MESSAGE_BUS_DESTINATION": "message_bus.destination",
}

EXPECTED_LOGS = {
    "ERROR_KIND": "error.kind",
    "ERROR_OBJECT": "error.object",
    "EVENT": "event",
    "MESSAGE": "message",
    "STACK": "stack",
}


def _public(module: object) -> dict:
    return {k: v for k, v in vars(module).items() if k.isupper()}


def test_tags() -> None:
    assert _public(tags) == EXPECTED_TAGS


def test_logs() -> None:
    assert _public(logs) == EXPECTED_LOGS


def test_ext_tags_are_the_same_objects() -> None:
    assert _public(ext_tags) == EXPECTED_TAGS
    for name in EXPECTED_TAGS:
        assert getattr(ext_tags, name) is getattr(tags, name)


def test_submodules_loaded_with_the_package() -> None:
    assert opentracing.tags is tags
    assert opentracing.logs is logs
    assert opentracing.ext.tags is ext_tags
