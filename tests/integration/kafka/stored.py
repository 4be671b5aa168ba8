"""Spans as OpenSearch stores them for Zipkin: counted per document, duplicates included.

``/api/v2/trace/{id}`` merges copies of a span; counting the documents is
what shows whether a span was stored once, twice or not at all.
"""

from __future__ import annotations

import collections
import time
from typing import Counter, Tuple

import requests

SpanKey = Tuple[str, str]


class StoredSpans:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.session = requests.Session()

    def of_service(self, service: str) -> Counter[SpanKey]:
        """(trace ID, span ID) → number of stored copies, for one local service."""
        self.session.post(f"{self.url}/zipkin*span-*/_refresh", timeout=10)
        response = self.session.post(
            f"{self.url}/zipkin*span-*/_search",
            json={
                "size": 10000,
                "_source": ["traceId", "id"],
                "query": {"term": {"localEndpoint.serviceName": service}},
            },
            timeout=30,
        )
        if response.status_code in (404, 503):  # no span index yet, or its shard not up
            return collections.Counter()
        response.raise_for_status()
        hits = response.json()["hits"]["hits"]
        return collections.Counter(
            (hit["_source"]["traceId"], hit["_source"]["id"]) for hit in hits
        )

    def wait_for(self, service: str, spans: int, timeout: float = 60.0) -> Counter[SpanKey]:
        """Poll until ``spans`` distinct spans of ``service`` are stored (bounded)."""
        deadline = time.monotonic() + timeout
        found: Counter[SpanKey] = collections.Counter()
        while time.monotonic() < deadline:
            found = self.of_service(service)
            if len(found) >= spans:
                # what arrives with the last one (a late duplicate) is counted too
                return self.of_service(service)
            time.sleep(0.5)
        return found
