"""W3C headers through real HTTP on 127.0.0.1: TracingMiddleware in, TracingSession out.

A request may carry a header more than once (the W3C test harness sends two
``traceparent`` or several ``tracestate`` headers); the WSGI server joins
repeats with commas, and what our service sends on to the next hop must
follow the spec all the same.
"""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterator, List, Tuple
from wsgiref.simple_server import make_server

import pytest

from tests.support.tracers import make_tracer
from tests.support.wsgi_servers import QuietHandler, ThreadingServer
from zipkin_tracer.requests import TracingSession
from zipkin_tracer.wsgi import TracingMiddleware

TID = "12345678901234567890123456789012"
PID = "1234567890123456"
UPPER = "0AF7651916CD43DD8448EB211C80319C"


class Next(BaseHTTPRequestHandler):
    """The next hop: records the headers of each request."""

    seen: List[Dict[str, str]] = []

    def do_GET(self) -> None:
        Next.seen.append({k.lower(): v for k, v in self.headers.items()})
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def service() -> Iterator[int]:
    """Our service (port): each request calls the next hop once, with a TracingSession."""
    downstream = ThreadingHTTPServer(("127.0.0.1", 0), Next)
    tracer = make_tracer()
    session = TracingSession(tracer)
    url = f"http://127.0.0.1:{downstream.server_port}/next"

    def app(environ: Dict[str, Any], start_response: Any) -> List[bytes]:
        session.get(url, timeout=5).raise_for_status()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    ours = make_server(
        "127.0.0.1",
        0,
        TracingMiddleware(app, tracer),
        server_class=ThreadingServer,
        handler_class=QuietHandler,
    )
    threads = [
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        for server in (downstream, ours)
    ]
    for thread in threads:
        thread.start()
    try:
        yield ours.server_port
    finally:
        for server in (ours, downstream):
            server.shutdown()
            server.server_close()
        session.close()
        tracer.close()


def call(port: int, headers: List[Tuple[str, str]]) -> Dict[str, str]:
    """Send the headers as given (repeats kept); the headers the next hop received."""
    Next.seen.clear()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest("GET", "/work")
        for name, value in headers:
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == 200, response.read()
        response.read()
    finally:
        connection.close()
    assert len(Next.seen) == 1
    return Next.seen[0]


def test_continues_a_w3c_caller_and_passes_tracestate_on(service: int) -> None:
    sent = call(
        service,
        [
            ("traceparent", f"00-{TID}-{PID}-03"),
            ("tracestate", "foo=1,bar=2"),
            ("tracestate", ""),
            ("TraceState", "rojo=1"),
            ("baggage", "user=a%20b;ttl=5"),
        ],
    )
    version, trace_id, parent_id, flags = sent["traceparent"].split("-")
    assert (version, trace_id, flags) == ("00", TID, "03") and parent_id != PID
    assert sent["tracestate"] == "foo=1,bar=2,rojo=1"
    assert sent["x-b3-traceid"] == TID and sent["x-b3-sampled"] == "1"
    assert sent["x-b3-parentspanid"] != PID  # our server span is a child, not a join
    assert sent["baggage"] == "user=a%20b;ttl=5" and sent["ot-baggage-user"] == "a b"


@pytest.mark.parametrize(
    "headers",
    [
        [("traceparent", f"00-{TID}-{PID}-01"), ("traceparent", f"00-{TID[:-1]}3-{PID}-01")],
        [("traceparent", f"00-{UPPER}-{PID}-01"), ("tracestate", "foo=1")],
        [("tracestate", "foo=1")],
    ],
    ids=["two traceparents", "upper-case", "tracestate alone"],
)
def test_rejected_context_starts_a_new_trace(service: int, headers: List[Tuple[str, str]]) -> None:
    sent = call(service, headers)
    trace_id = sent["traceparent"].split("-")[1]
    assert trace_id not in (TID, TID[:-1] + "3", UPPER.lower()) and "tracestate" not in sent
    assert sent["x-b3-traceid"] == trace_id.lstrip("0").rjust(16, "0")
