"""The "typical server span" every tracer runs, and small shared helpers.

Workload: operation ``GET /api/v1/users/{id}``; tags ``component``
(str), ``http.status_code=200`` (int), ``cache.hit=False`` (bool),
``http.url`` and ``span.kind=server``; one ``log_kv({"event": "cache.miss",
"key": "user:42"})``; finish. What is known when a request arrives is given at
start (kind, component, URL); what is learned later is set afterwards (status,
cache hit), the way instrumentation code does it.
"""

from __future__ import annotations

import json
import socket
import statistics
import struct
import time
from typing import Dict, List, Optional, Sequence

SERVICE = "bench"
OPERATION = "GET /api/v1/users/{id}"
URL = "http://users.internal:8080/api/v1/users/42"
START_TAGS: Dict[str, object] = {
    "span.kind": "server",
    "component": "bench-http",
    "http.url": URL,
}
STATUS_CODE = 200
CACHE_HIT = False
LOG_EVENT = "cache.miss"
LOG_FIELDS: Dict[str, object] = {"event": LOG_EVENT, "key": "user:42"}
LOG_ANNOTATION = "cache.miss key=user:42"  # py_zipkin has string annotations only
HOST = "127.0.0.1"
PORT = 8080


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted sequence (q in 0..100)."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, int(round(q / 100.0 * len(sorted_values))) - 1))
    return sorted_values[k]


def closed_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (connection refused)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def count_spans(body: bytes, thrift: Optional[bool] = None) -> int:
    """Spans in one collector message: a JSON v2 list or a Thrift v1 list<Span>.

    JSON: every v2 span has exactly one ``"traceId"`` key (cheaper than
    parsing). Thrift (TBinaryProtocol): element type byte (12 = struct), then a
    big-endian i32 size.
    """
    if not body:
        return 0
    if thrift is None:
        thrift = body[:1] not in (b"[", b" ", b"\n")
    if thrift:
        if len(body) < 5:
            return 0
        return int(struct.unpack(">i", body[1:5])[0])
    n = body.count(b'"traceId"')
    if n == 0 and body.strip() not in (b"[]", b""):
        n = len(json.loads(body))
    return n


def wait_until(predicate, timeout: float, interval: float = 0.002) -> bool:
    """Poll ``predicate`` until true or ``timeout`` seconds pass (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def fmt_us(x: Optional[float]) -> str:
    if x is None or x != x:
        return "n/a"
    return f"{x:.2f}" if x < 100 else f"{x:.0f}"


def table(headers: List[str], rows: List[List[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    line = "  ".join("-" * w for w in widths)
    out = [
        "  ".join(str(h).ljust(w) for h, w in zip(headers, widths)),
        line,
    ]
    for r in rows:
        out.append("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
    return "\n".join(out)


def count_proto3_spans(body: bytes) -> int:
    """Spans in a proto3 ``ListOfSpans``: one length-delimited field 1 each."""
    count = pos = 0
    while pos < len(body):
        pos += 1  # the field key (0x0a)
        size = shift = 0
        while True:
            byte = body[pos]
            pos += 1
            size |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                break
        pos += size
        count += 1
    return count
