"""requests instrumentation: client spans, injection, errors, install/uninstall."""

from __future__ import annotations

import pickle
import threading
from typing import Any, Callable, Dict, Iterable, Iterator, List
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
import requests
import responses

import opentracing
from opentracing import Format, tags
from opentracing.mocktracer import MockTracer
from zipkin_tracer.requests import TracingSession, install, uninstall
from zipkin_tracer.transport.base import TRACING_SUPPRESSED
from zipkin_tracer.wsgi import TracingMiddleware

BASE = "http://127.0.0.1:9"  # never contacted: `responses` answers


@pytest.fixture()
def tracer() -> MockTracer:
    return MockTracer()


@pytest.fixture()
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture()
def installed(tracer: MockTracer) -> Iterator[MockTracer]:
    original = requests.Session.send
    install(tracer)
    try:
        yield tracer
    finally:
        uninstall()
        assert requests.Session.send is original


def only_span(tracer: MockTracer) -> Any:
    spans = tracer.finished_spans()
    assert len(spans) == 1, spans
    return spans[0]


def extracted(tracer: MockTracer, headers: Any) -> Any:
    return tracer.extract(Format.HTTP_HEADERS, dict(headers))


def test_client_span_is_child_of_active_span_and_injected(
    tracer: MockTracer, mocked: responses.RequestsMock
) -> None:
    mocked.get(f"{BASE}/things", body="ok")
    with tracer.start_active_span("parent") as scope:
        response = TracingSession(tracer).get(f"{BASE}/things?q=1")
    assert response.text == "ok"
    client = tracer.finished_spans()[0]
    assert client.parent_id == scope.span.context.span_id
    assert client.operation_name == "GET"
    assert client.tags == {
        tags.SPAN_KIND: tags.SPAN_KIND_RPC_CLIENT,
        tags.COMPONENT: "requests",
        tags.HTTP_METHOD: "GET",
        tags.HTTP_URL: f"{BASE}/things?q=1",
        tags.PEER_HOSTNAME: "127.0.0.1",
        tags.PEER_HOST_IPV4: "127.0.0.1",
        tags.PEER_PORT: 9,
        tags.HTTP_STATUS_CODE: 200,
    }
    sent = extracted(tracer, mocked.calls[0].request.headers)
    assert sent.span_id == client.context.span_id
    assert sent.trace_id == scope.span.context.trace_id


def test_no_active_span_starts_a_trace(tracer: MockTracer, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{BASE}/x")
    TracingSession(tracer).post(f"{BASE}/x", data=b"body")
    span = only_span(tracer)
    assert span.parent_id is None
    assert span.operation_name == "POST"


def test_hostnames_ipv6_default_ports_and_credentials(
    tracer: MockTracer, mocked: responses.RequestsMock
) -> None:
    mocked.get("https://user:secret@localhost/a")
    mocked.get("http://[::1]:8080/b")
    session = TracingSession(tracer)
    session.get("https://user:secret@localhost/a")
    session.get("http://[::1]:8080/b")
    named, ipv6 = tracer.finished_spans()
    assert named.tags[tags.PEER_HOSTNAME] == "localhost"
    assert named.tags[tags.PEER_PORT] == 443
    assert tags.PEER_HOST_IPV4 not in named.tags
    assert named.tags[tags.HTTP_URL] == "https://localhost/a"  # no user:password
    assert ipv6.tags[tags.PEER_HOST_IPV6] == "::1"
    assert ipv6.tags[tags.PEER_PORT] == 8080


def test_5xx_is_an_error_4xx_is_not(tracer: MockTracer, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/down", status=503)
    mocked.get(f"{BASE}/missing", status=404)
    session = TracingSession(tracer)
    assert session.get(f"{BASE}/down").status_code == 503
    assert session.get(f"{BASE}/missing").status_code == 404
    down, missing = tracer.finished_spans()
    assert down.tags[tags.HTTP_STATUS_CODE] == 503
    assert down.tags[tags.ERROR] is True
    assert missing.tags[tags.HTTP_STATUS_CODE] == 404
    assert tags.ERROR not in missing.tags


def test_exception_is_recorded_and_reraised(
    tracer: MockTracer, mocked: responses.RequestsMock
) -> None:
    mocked.get(f"{BASE}/refused", body=requests.ConnectionError("refused"))
    with pytest.raises(requests.ConnectionError, match="refused"):
        TracingSession(tracer).get(f"{BASE}/refused")
    span = only_span(tracer)
    assert span.tags[tags.ERROR] is True
    assert tags.HTTP_STATUS_CODE not in span.tags
    (log,) = span.logs
    assert log.key_values["event"] == "error"
    assert log.key_values["error.kind"] == "ConnectionError"
    assert isinstance(log.key_values["error.object"], requests.ConnectionError)
    assert "message" not in log.key_values  # the text once, in the annotation too


def test_b3_zero_is_not_traced(tracer: MockTracer, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{BASE}/api/v2/spans", status=202)
    TracingSession(tracer).post(f"{BASE}/api/v2/spans", headers={"B3": "0"}, json=[])
    assert tracer.finished_spans() == []
    sent = mocked.calls[0].request.headers
    assert not any(name.lower().startswith("ot-tracer") for name in sent)


def test_calls_on_a_suppressed_thread_are_not_traced(
    tracer: MockTracer, mocked: responses.RequestsMock
) -> None:
    mocked.get(f"{BASE}/x", status=200)
    token = TRACING_SUPPRESSED.set(True)
    try:
        TracingSession(tracer).get(f"{BASE}/x")
    finally:
        TRACING_SUPPRESSED.reset(token)

    assert tracer.finished_spans() == []
    TracingSession(tracer).get(f"{BASE}/x")
    assert len(tracer.finished_spans()) == 1


def test_redirect_hops_are_sibling_spans(
    tracer: MockTracer, mocked: responses.RequestsMock
) -> None:
    mocked.get(f"{BASE}/old", status=302, headers={"Location": f"{BASE}/new"})
    mocked.get(f"{BASE}/new", body="moved")
    with tracer.start_active_span("parent") as scope:
        assert TracingSession(tracer).get(f"{BASE}/old").text == "moved"
    spans = {s.tags[tags.HTTP_URL]: s for s in tracer.finished_spans() if s is not scope.span}
    first, second = spans[f"{BASE}/old"], spans[f"{BASE}/new"]
    assert first.tags[tags.HTTP_STATUS_CODE] == 302
    assert second.tags[tags.HTTP_STATUS_CODE] == 200
    assert first.parent_id == second.parent_id == scope.span.context.span_id
    # each hop carries its own span id, not a copy of the first hop's headers
    hop_ids = [extracted(tracer, call.request.headers).span_id for call in mocked.calls]
    assert hop_ids == [first.context.span_id, second.context.span_id]


class BrokenTracer(opentracing.Tracer):
    def start_span(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("tracer is broken")


class BrokenInjectTracer(MockTracer):
    def inject(self, span_context: Any, format: Any, carrier: Any) -> None:
        raise RuntimeError("codec is broken")


def test_broken_tracers_never_break_the_request(mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/x", body="fine")
    assert TracingSession(BrokenTracer()).get(f"{BASE}/x").text == "fine"
    inject_broken = BrokenInjectTracer()
    assert TracingSession(inject_broken).get(f"{BASE}/x").text == "fine"
    assert only_span(inject_broken).tags[tags.HTTP_STATUS_CODE] == 200
    assert TracingSession(opentracing.Tracer()).get(f"{BASE}/x").text == "fine"


def test_global_tracer_is_looked_up_per_request(
    tracer: MockTracer, mocked: responses.RequestsMock
) -> None:
    mocked.get(f"{BASE}/x")
    session = TracingSession()  # created before the tracer is installed
    opentracing.set_global_tracer(tracer)
    try:
        session.get(f"{BASE}/x")
    finally:
        opentracing._reset_global_tracer()
    only_span(tracer)


def test_operation_name_callback(tracer: MockTracer, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/x")
    TracingSession(tracer, operation_name=lambda r: f"{r.method} things").get(f"{BASE}/x")
    assert only_span(tracer).operation_name == "GET things"


def test_unpickled_session_still_works(mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/x", body="ok")
    session = pickle.loads(pickle.dumps(TracingSession()))
    assert session.get(f"{BASE}/x").text == "ok"


def test_install_traces_plain_requests_calls(
    installed: MockTracer, mocked: responses.RequestsMock
) -> None:
    mocked.get(f"{BASE}/x")
    requests.get(f"{BASE}/x")
    span = only_span(installed)
    assert span.tags[tags.SPAN_KIND] == tags.SPAN_KIND_RPC_CLIENT
    assert extracted(installed, mocked.calls[0].request.headers).span_id == span.context.span_id


def test_install_is_idempotent_and_does_not_double_trace_sessions(
    installed: MockTracer, mocked: responses.RequestsMock
) -> None:
    patched = requests.Session.send
    install(installed)
    assert requests.Session.send is patched
    mocked.get(f"{BASE}/x")
    requests.get(f"{BASE}/x")
    TracingSession(installed).get(f"{BASE}/x")
    assert len(installed.finished_spans()) == 2


def test_reinstall_replaces_the_tracer(
    installed: MockTracer, mocked: responses.RequestsMock
) -> None:
    other = MockTracer()
    install(other)
    mocked.get(f"{BASE}/x")
    requests.get(f"{BASE}/x")
    assert installed.finished_spans() == []
    only_span(other)


def test_uninstall_stops_tracing(tracer: MockTracer, mocked: responses.RequestsMock) -> None:
    original = requests.Session.send
    uninstall()  # not installed: harmless
    install(tracer)
    uninstall()
    uninstall()
    assert requests.Session.send is original
    mocked.get(f"{BASE}/x")
    requests.get(f"{BASE}/x")
    assert tracer.finished_spans() == []


def test_uninstall_under_a_foreign_patch_passes_through(
    tracer: MockTracer, mocked: responses.RequestsMock
) -> None:
    original = requests.Session.send
    install(tracer)
    ours = requests.Session.send
    calls: List[str] = []

    def foreign(self: requests.Session, request: Any, **kwargs: Any) -> Any:
        calls.append("foreign")
        return ours(self, request, **kwargs)

    requests.Session.send = foreign  # type: ignore[method-assign]
    try:
        uninstall()
        assert requests.Session.send is foreign  # theirs is left in place
        mocked.get(f"{BASE}/x")
        requests.get(f"{BASE}/x")
        assert calls == ["foreign"]
        assert tracer.finished_spans() == []
    finally:
        requests.Session.send = original  # type: ignore[method-assign]


# End to end over a real socket on 127.0.0.1: client span → headers → server span.


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_client_and_server_spans_join_over_http(tracer: MockTracer) -> None:
    closed = threading.Event()

    def app(environ: Dict[str, Any], start_response: Callable[..., Any]) -> List[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"served"]

    traced = TracingMiddleware(app, tracer)

    def signalling(environ: Dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = traced(environ, start_response)
        return _SignalOnClose(body, closed)

    server: WSGIServer = make_server("127.0.0.1", 0, signalling, handler_class=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        with tracer.start_active_span("caller") as scope:
            text = TracingSession(tracer).get(f"http://127.0.0.1:{port}/hello").text
        assert text == "served"
        assert closed.wait(timeout=10), "server never closed the response body"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    by_kind: Dict[str, Any] = {
        s.tags.get(tags.SPAN_KIND, "local"): s for s in tracer.finished_spans()
    }
    client, server_span = by_kind["client"], by_kind["server"]
    assert server_span.parent_id == client.context.span_id
    assert server_span.context.trace_id == client.context.trace_id == scope.span.context.trace_id
    assert server_span.tags[tags.PEER_HOST_IPV4] == "127.0.0.1"
    assert server_span.tags[tags.HTTP_URL] == f"http://127.0.0.1:{port}/hello"


class _SignalOnClose:
    def __init__(self, body: Iterable[bytes], event: threading.Event) -> None:
        self._body = body
        self._event = event

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._body)

    def close(self) -> None:
        try:
            self._body.close()  # type: ignore[attr-defined]
        finally:
            self._event.set()
