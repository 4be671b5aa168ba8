"""Read a trace back from Zipkin's query API and draw it as a tree for a terminal.

Used by ``zipkin-tracer trace`` and ``make demo``; the input is the JSON of
``GET /api/v2/trace/{id}`` (a list of v2 spans), which is what every Zipkin
server answers whatever encoding the spans were sent in.
"""

from __future__ import annotations

import time
from typing import Any, Dict, List, Mapping, Optional, Union

import requests

Span = Dict[str, Any]


def ui_link(base_url: str, trace_id: str) -> str:
    """The trace's page in the Zipkin UI, served by the same server as the API."""
    return f"{base_url.rstrip('/')}/zipkin/traces/{trace_id}"


def fetch_trace(
    base_url: str,
    trace_id: str,
    spans: int = 1,
    timeout: float = 20.0,
    headers: Optional[Mapping[str, str]] = None,
    verify: Union[bool, str] = True,
) -> List[Span]:
    """Poll ``/api/v2/trace/{id}`` until it holds ``spans`` spans (Zipkin stores asynchronously).

    Returns what was found when ``timeout`` runs out (possibly nothing). Each
    request carries ``b3: 0`` so an instrumented proxy does not trace it.
    """
    deadline = time.monotonic() + timeout
    found: List[Span] = []
    url = f"{base_url.rstrip('/')}/api/v2/trace/{trace_id}"
    send_headers = {**(headers or {}), "b3": "0"}
    while True:
        left = deadline - time.monotonic()
        response = requests.get(
            url, headers=send_headers, timeout=max(0.1, min(10.0, left)), verify=verify
        )
        if response.status_code == 200:
            found = list(response.json())
            if len(found) >= spans:
                return found
        elif response.status_code != 404:
            response.raise_for_status()
        if time.monotonic() + 0.2 >= deadline:
            return found
        time.sleep(0.2)  # the storage is eventually consistent: nothing to wait on


def format_trace(base_url: str, trace_id: str, spans: List[Span]) -> List[str]:
    """A heading, the UI link and the tree: what ``zipkin-tracer trace`` prints."""
    lines = [f"trace {trace_id}: {len(spans)} spans", "  " + ui_link(base_url, trace_id)]
    lines += ["  " + line for line in render(spans)]
    lost = orphans(spans)
    if lost:
        lines.append(f"  {len(lost)} spans whose parent is not (yet) in the trace")
    return lines


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
