"""A small client for the Zipkin HTTP API, used to read spans back."""

from __future__ import annotations

import time
from typing import Any, Dict, List

import requests

NOT_TRACED = {"b3": "0"}


class ZipkinApi:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update(NOT_TRACED)

    def post(self, path: str, content_type: str, body: bytes) -> requests.Response:
        """POST one encoded message as the reporter would (any encoding)."""
        return self.session.post(
            f"{self.base_url}{path}", data=body, headers={"Content-Type": content_type}, timeout=10
        )

    def post_v2_json(self, body: bytes) -> requests.Response:
        return self.session.post(
            f"{self.base_url}/api/v2/spans",
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=10,
        )

    def post_v1_thrift(self, body: bytes) -> requests.Response:
        return self.session.post(
            f"{self.base_url}/api/v1/spans",
            data=body,
            headers={"Content-Type": "application/x-thrift"},
            timeout=10,
        )

    def trace(self, trace_id: str) -> List[Dict[str, Any]]:
        response = self.session.get(f"{self.base_url}/api/v2/trace/{trace_id}", timeout=10)
        if response.status_code == 404:
            return []
        response.raise_for_status()
        return list(response.json())

    def wait_for_trace(
        self, trace_id: str, spans: int, timeout: float = 15.0
    ) -> List[Dict[str, Any]]:
        """Poll until the trace holds ``spans`` spans; the collector stores asynchronously."""
        deadline = time.monotonic() + timeout
        found: List[Dict[str, Any]] = []
        while time.monotonic() < deadline:
            found = self.trace(trace_id)
            if len(found) >= spans:
                return found
            time.sleep(0.1)
        raise AssertionError(
            f"trace {trace_id} has {len(found)} of {spans} spans after {timeout}s: {found}"
        )
