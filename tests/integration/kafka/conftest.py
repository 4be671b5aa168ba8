"""The production-shaped stack, started once for this package (so once per
session): Kafka → two Zipkin collectors in one consumer group → OpenSearch
(scripts/zipkin_kafka.py). It stops when the package's last test is done,
so four JVMs do not idle through the rest of the suite."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.conftest import _unavailable
from tests.integration.kafka.stored import StoredSpans
from tests.integration.zipkin_api import ZipkinApi

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "scripts"))

import services
import zipkin_kafka

#: Zipkin's default consumer group on the `zipkin` topic.
GROUP = "zipkin"


def wait_for_stable_group(bootstrap_servers: str, members: int, timeout: float = 60.0) -> None:
    """Both collectors joined and own partitions: no rebalance (and no
    re-delivery of uncommitted messages) can happen in the middle of a test."""
    from confluent_kafka import ConsumerGroupState
    from confluent_kafka.admin import AdminClient

    admin = AdminClient(
        {"bootstrap.servers": bootstrap_servers, "logger": logging.getLogger(__name__)}
    )
    deadline = time.monotonic() + timeout
    seen: Any = None
    while time.monotonic() < deadline:
        futures = admin.describe_consumer_groups([GROUP], request_timeout=5)
        try:
            seen = futures[GROUP].result(timeout=10)
        except Exception as error:  # the group does not exist yet
            seen = error
        else:
            owners = [m for m in seen.members if m.assignment.topic_partitions]
            if seen.state == ConsumerGroupState.STABLE and len(owners) == members:
                return
        time.sleep(0.5)
    raise AssertionError(f"consumer group {GROUP!r} not stable with {members} members: {seen}")


@pytest.fixture(scope="package")
def kafka_stack() -> Iterator[Any]:
    stack = zipkin_kafka.Stack.on_free_ports(collectors=2)
    try:
        stack.start()
    except services.ServiceUnavailable as error:
        _unavailable(f"the Kafka + OpenSearch + Zipkin stack did not start: {error}")
    try:
        # A message on the topic makes the collectors' group form now.
        from zipkin_tracer.transport.kafka import KafkaSender

        sender = KafkaSender(stack.kafka.bootstrap_servers)
        sender.send(b"[]")
        sender.close()
        wait_for_stable_group(stack.kafka.bootstrap_servers, members=len(stack.zipkin_ports))
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="package")
def bootstrap_servers(kafka_stack: Any) -> str:
    return str(kafka_stack.kafka.bootstrap_servers)


@pytest.fixture(scope="package")
def stored(kafka_stack: Any) -> StoredSpans:
    return StoredSpans(kafka_stack.opensearch.url)


@pytest.fixture(scope="package")
def collectors(kafka_stack: Any) -> list:
    """A query client per collector (they share the storage)."""
    return [ZipkinApi(url) for url in kafka_stack.zipkin_urls]
