"""Test doubles: a JSON v2 encoder for dict spans and an in-process sender."""

from __future__ import annotations

import json
import threading
from typing import Any, Callable, Dict, List, Optional, Sequence

from zipkin_tracer.encoding.base import Encoder
from zipkin_tracer.transport.base import Sender


class DictJsonEncoder(Encoder):
    """Spans are dicts already in Zipkin v2 JSON shape; framing is ``[a,b]``."""

    content_type = "application/json"
    path = "/api/v2/spans"

    def encode_span(self, span: Any) -> bytes:
        return json.dumps(span, separators=(",", ":")).encode()

    def message_size(self, span_sizes: Sequence[int]) -> int:
        return 2 + sum(span_sizes) + max(0, len(span_sizes) - 1)

    def encode_message(self, encoded_spans: Sequence[bytes]) -> bytes:
        return b"[" + b",".join(encoded_spans) + b"]"


def span(index: int, trace_id: str = "00000000000000aa", pad: int = 0) -> Dict[str, Any]:
    result: Dict[str, Any] = {
        "traceId": trace_id,
        "id": f"{index + 1:016x}",
        "name": "op",
        "timestamp": 1_700_000_000_000_000 + index,
        "duration": 10,
        "localEndpoint": {"serviceName": "reporter-test"},
    }
    if pad:
        result["tags"] = {"pad": "x" * pad}
    return result


def span_ids(body: bytes) -> List[str]:
    return [s["id"] for s in json.loads(body)]


class RecordingSender(Sender):
    """Records bodies; ``behaviour(body)`` may raise a SendError or block."""

    endpoint = "memory://test"

    def __init__(self, behaviour: Optional[Callable[[bytes], None]] = None) -> None:
        self.behaviour = behaviour
        self.bodies: List[bytes] = []
        self.attempts = 0
        self.timeouts: List[Optional[float]] = []
        self.lock = threading.Lock()
        self.closed = 0

    def send(self, body: bytes, timeout: Optional[float] = None) -> None:
        with self.lock:
            self.attempts += 1
            self.timeouts.append(timeout)
        if self.behaviour is not None:
            self.behaviour(body)
        with self.lock:
            self.bodies.append(body)

    def ids(self) -> List[str]:
        with self.lock:
            return [i for body in self.bodies for i in span_ids(body)]

    def close(self) -> None:
        self.closed += 1
