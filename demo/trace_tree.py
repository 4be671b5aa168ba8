"""Read a trace back from Zipkin and draw it as a tree for a terminal."""

from __future__ import annotations

import time
from typing import Any, Dict, List, Optional

import requests

Span = Dict[str, Any]


def fetch_trace(collector_url: str, trace_id: str, spans: int, timeout: float = 20.0) -> List[Span]:
    """Poll ``/api/v2/trace/{id}`` until it holds ``spans`` spans (Zipkin stores asynchronously)."""
    deadline = time.monotonic() + timeout
    found: List[Span] = []
    url = f"{collector_url.rstrip('/')}/api/v2/trace/{trace_id}"
    while time.monotonic() < deadline:
        response = requests.get(url, headers={"b3": "0"}, timeout=10)
        if response.status_code == 200:
            found = list(response.json())
            if len(found) >= spans:
                return found
        time.sleep(0.2)
    return found


def children_of(span: Span, spans: List[Span]) -> List[Span]:
    """A client's child is the server half that shares its ID; otherwise, parent links."""
    if not span.get("shared"):
        twins = [s for s in spans if s["id"] == span["id"] and s.get("shared")]
        if twins:
            return _by_time(twins)
    unshared_ids = {s["id"] for s in spans if not s.get("shared")}
    return _by_time(
        [
            s
            for s in spans
            if s.get("parentId") == span["id"]
            and s["id"] != span["id"]
            and not (s.get("shared") and s["id"] in unshared_ids)
        ]
    )


def roots(spans: List[Span]) -> List[Span]:
    """Spans without a parent in the trace (a shared half counts only without its client)."""
    ids = {s["id"] for s in spans}
    unshared_ids = {s["id"] for s in spans if not s.get("shared")}
    return _by_time(
        [
            s
            for s in spans
            if s.get("parentId") not in ids and not (s.get("shared") and s["id"] in unshared_ids)
        ]
    )


def _by_time(spans: List[Span]) -> List[Span]:
    return sorted(spans, key=lambda s: s.get("timestamp", 0))


def describe(span: Span) -> str:
    service = span.get("localEndpoint", {}).get("serviceName", "?")
    kind = span.get("kind", "LOCAL")
    duration = span.get("duration")
    took = f"{duration / 1000:.1f} ms" if duration else "-"
    extras = []
    if span.get("shared"):
        extras.append("shared")
    remote = span.get("remoteEndpoint", {})
    peer = remote.get("serviceName") or remote.get("ipv4") or remote.get("ipv6")
    if peer:
        extras.append(f"to {peer}:{remote['port']}" if remote.get("port") else f"to {peer}")
    status = span.get("tags", {}).get("http.status_code")
    if status:
        extras.append(f"http {status}")
    suffix = f"  ({', '.join(extras)})" if extras else ""
    return f"{service:<11} {kind:<7} {span.get('name', ''):<18} {took:>8}{suffix}"


def render(spans: List[Span]) -> List[str]:
    lines: List[str] = []

    def walk(span: Span, prefix: str, last: bool, depth: int) -> None:
        branch = "" if depth == 0 else ("└─ " if last else "├─ ")
        lines.append(prefix + branch + describe(span))
        kids = children_of(span, spans)
        deeper = prefix + ("" if depth == 0 else ("   " if last else "│  "))
        for index, child in enumerate(kids):
            walk(child, deeper, index == len(kids) - 1, depth + 1)

    for root in roots(spans):
        walk(root, "", True, 0)
    return lines


def orphans(spans: List[Span]) -> List[Span]:
    """Spans a tree walk from the roots never reaches."""
    seen: set = set()

    def walk(span: Span) -> None:
        seen.add(id(span))
        for child in children_of(span, spans):
            if id(child) not in seen:
                walk(child)

    for root in roots(spans):
        walk(root)
    return [s for s in spans if id(s) not in seen]


def first(spans: List[Span], **match: Any) -> Optional[Span]:
    for span in spans:
        if all(_get(span, key) == value for key, value in match.items()):
            return span
    return None


def _get(span: Span, key: str) -> Any:
    if key == "service":
        return span.get("localEndpoint", {}).get("serviceName")
    return span.get(key)
