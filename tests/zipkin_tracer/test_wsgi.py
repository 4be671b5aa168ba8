"""WSGI middleware: server spans, context extraction, errors, body lifetimes."""

from __future__ import annotations

import io
import sys
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple
from wsgiref.util import FileWrapper, setup_testing_defaults

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import opentracing
from opentracing import Format, tags
from opentracing.mocktracer import MockTracer
from opentracing.scope_managers.contextvars import ContextVarsScopeManager
from zipkin_tracer.wsgi import (
    SPAN_ENVIRON_KEY,
    TracingMiddleware,
    install_flask_hooks,
    request_url,
    set_route,
)

Environ = Dict[str, Any]


class Response:
    def __init__(self) -> None:
        self.status: Optional[str] = None
        self.headers: List[Tuple[str, str]] = []
        self.exc_info: Any = None

    def start_response(
        self, status: str, headers: List[Tuple[str, str]], exc_info: Any = None
    ) -> Any:
        self.status, self.headers, self.exc_info = status, headers, exc_info
        return lambda data: None


def environ_for(path: str = "/things/42", method: str = "GET", **extra: Any) -> Environ:
    environ: Environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "50123",
    }
    setup_testing_defaults(environ)
    environ.update(extra)
    return environ


def serve(
    app: Callable[..., Iterable[bytes]], environ: Optional[Environ] = None
) -> Tuple[Response, bytes]:
    """What a server does: call, iterate, close."""
    response = Response()
    body = app(environ or environ_for(), response.start_response)
    try:
        data = b"".join(body)
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()
    return response, data


def hello(environ: Environ, start_response: Callable[..., Any]) -> List[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


@pytest.fixture()
def tracer() -> MockTracer:
    return MockTracer()


def only_span(tracer: MockTracer) -> Any:
    spans = tracer.finished_spans()
    assert len(spans) == 1, spans
    return spans[0]


def test_server_span_tags(tracer: MockTracer) -> None:
    response, data = serve(TracingMiddleware(hello, tracer))
    assert (response.status, data) == ("200 OK", b"hello")
    span = only_span(tracer)
    assert span.operation_name == "GET"
    assert span.parent_id is None
    assert span.tags == {
        tags.SPAN_KIND: tags.SPAN_KIND_RPC_SERVER,
        tags.COMPONENT: "wsgi",
        tags.HTTP_METHOD: "GET",
        tags.HTTP_URL: "http://127.0.0.1/things/42",
        tags.HTTP_STATUS_CODE: 200,
        tags.PEER_HOST_IPV4: "127.0.0.1",
        tags.PEER_PORT: 50123,
    }


def test_ipv6_peer_and_missing_port(tracer: MockTracer) -> None:
    environ = environ_for(REMOTE_ADDR="::1")
    del environ["REMOTE_PORT"]
    serve(TracingMiddleware(hello, tracer), environ)
    span_tags = only_span(tracer).tags
    assert span_tags[tags.PEER_HOST_IPV6] == "::1"
    assert tags.PEER_HOST_IPV4 not in span_tags
    assert tags.PEER_PORT not in span_tags


def test_span_is_active_while_the_app_runs_and_not_after(tracer: MockTracer) -> None:
    seen: List[Any] = []

    def app(environ: Environ, start_response: Callable[..., Any]) -> List[bytes]:
        seen.append(tracer.active_span)
        assert environ[SPAN_ENVIRON_KEY] is tracer.active_span
        with tracer.start_active_span("inner"):
            pass
        start_response("200 OK", [])
        return [b""]

    serve(TracingMiddleware(app, tracer))
    inner, server = tracer.finished_spans()
    assert seen == [server]
    assert inner.parent_id == server.context.span_id
    assert tracer.active_span is None


def test_generator_body_runs_with_the_span_active_and_finishes_on_close(
    tracer: MockTracer,
) -> None:
    seen: List[Any] = []

    def app(environ: Environ, start_response: Callable[..., Any]) -> Iterator[bytes]:
        start_response("200 OK", [])
        for chunk in (b"a", b"b"):
            seen.append(tracer.active_span)
            yield chunk

    body = TracingMiddleware(app, tracer)(environ_for(), Response().start_response)
    assert tracer.active_span is None
    assert b"".join(body) == b"ab"
    assert tracer.finished_spans() == []  # not closed yet
    assert tracer.active_span is None  # nothing leaks between chunks
    body.close()  # type: ignore[attr-defined]
    server = only_span(tracer)
    assert seen == [server, server]


def test_unclosed_body_leaks_no_active_span(tracer: MockTracer) -> None:
    """A server that forgets close() must not make the next request a child."""

    def app(environ: Environ, start_response: Callable[..., Any]) -> Iterator[bytes]:
        start_response("200 OK", [])
        yield b"x"

    middleware = TracingMiddleware(app, tracer)
    list(middleware(environ_for(), Response().start_response))
    assert tracer.active_span is None
    serve(middleware)
    second = only_span(tracer)
    assert second.parent_id is None


def test_close_of_app_body_is_called_once_and_span_finished_once(tracer: MockTracer) -> None:
    closed: List[Any] = []

    class Body:
        def __iter__(self) -> Iterator[bytes]:
            return iter([b"x"])

        def close(self) -> None:
            closed.append(tracer.active_span)

    def app(environ: Environ, start_response: Callable[..., Any]) -> Body:
        start_response("200 OK", [])
        return Body()

    body = TracingMiddleware(app, tracer)(environ_for(), Response().start_response)
    list(body)
    body.close()  # type: ignore[attr-defined]
    body.close()  # type: ignore[attr-defined]  # a sloppy server: still one span
    server = only_span(tracer)
    assert closed[0] is server  # cleanup code of the app still sees its span


def test_list_body_keeps_its_length_for_content_length(tracer: MockTracer) -> None:
    body = TracingMiddleware(hello, tracer)(environ_for(), Response().start_response)
    assert len(body) == 1  # type: ignore[arg-type]


def test_file_wrapper_is_returned_as_is_and_finishes_on_close(tracer: MockTracer) -> None:
    def app(environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response("200 OK", [])
        return environ["wsgi.file_wrapper"](io.BytesIO(b"file body"))

    environ = environ_for(**{"wsgi.file_wrapper": FileWrapper})
    response = Response()
    body = TracingMiddleware(app, tracer)(environ, response.start_response)
    assert isinstance(body, FileWrapper)  # the server can still use sendfile
    assert b"".join(body) == b"file body"
    assert tracer.finished_spans() == []
    body.close()
    assert only_span(tracer).tags[tags.HTTP_STATUS_CODE] == 200


def test_incoming_context_is_the_parent(tracer: MockTracer) -> None:
    client = tracer.start_span("client")
    headers: Dict[str, str] = {}
    tracer.inject(client.context, Format.HTTP_HEADERS, headers)
    extra = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
    serve(TracingMiddleware(hello, tracer), environ_for(**extra))
    server = only_span(tracer)
    assert server.parent_id == client.context.span_id
    assert server.context.trace_id == client.context.trace_id


def test_new_trace_when_no_context_even_under_an_active_span(tracer: MockTracer) -> None:
    with tracer.start_active_span("unrelated"):
        serve(TracingMiddleware(hello, tracer))
    server = tracer.finished_spans()[0]
    assert server.parent_id is None


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_OT_TRACER_TRACEID": "1"},  # span id missing: MockTracer says corrupted
        {"HTTP_OT_TRACER_TRACEID": "zz", "HTTP_OT_TRACER_SPANID": "??"},
    ],
)
def test_corrupt_context_starts_a_new_trace(tracer: MockTracer, headers: Dict[str, str]) -> None:
    response, data = serve(TracingMiddleware(hello, tracer), environ_for(**headers))
    assert data == b"hello"
    assert only_span(tracer).parent_id is None


class ExplodingExtractTracer(MockTracer):
    def extract(self, format: Any, carrier: Any) -> Any:
        raise KeyError("unexpected bug in a codec")


def test_any_extract_failure_starts_a_new_trace() -> None:
    tracer = ExplodingExtractTracer()
    response, data = serve(TracingMiddleware(hello, tracer))
    assert data == b"hello"
    assert only_span(tracer).parent_id is None


class BrokenTracer(opentracing.Tracer):
    def start_span(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("tracer is broken")


def test_broken_tracer_serves_untraced() -> None:
    response, data = serve(TracingMiddleware(hello, BrokenTracer()))
    assert (response.status, data) == ("200 OK", b"hello")


class BrokenSpanTracer(MockTracer):
    """Spans whose every method after start raises."""

    def start_span(self, *args: Any, **kwargs: Any) -> Any:
        span = super().start_span(*args, **kwargs)

        def boom(*a: Any, **k: Any) -> Any:
            raise RuntimeError("span is broken")

        span.set_tag = boom  # type: ignore[method-assign]
        span.log_kv = boom  # type: ignore[method-assign]
        span.finish = boom  # type: ignore[method-assign]
        return span


def test_broken_span_methods_never_reach_the_app() -> None:
    def failing(environ: Environ, start_response: Callable[..., Any]) -> List[bytes]:
        start_response("503 Service Unavailable", [])
        return [b"down"]

    response, data = serve(TracingMiddleware(failing, BrokenSpanTracer()))
    assert (response.status, data) == ("503 Service Unavailable", b"down")


def test_noop_tracer_works() -> None:
    response, data = serve(TracingMiddleware(hello, opentracing.Tracer()))
    assert data == b"hello"


def test_global_tracer_is_looked_up_per_request(tracer: MockTracer) -> None:
    middleware = TracingMiddleware(hello)  # wrapped before the tracer exists
    opentracing.set_global_tracer(tracer)
    try:
        serve(middleware)
    finally:
        opentracing._reset_global_tracer()
    assert only_span(tracer).operation_name == "GET"


def assert_error_log(span: Any, kind: str, message: str) -> None:
    assert span.tags[tags.ERROR] is True
    errors = [log.key_values for log in span.logs if log.key_values.get("event") == "error"]
    assert len(errors) == 1
    fields = errors[0]
    assert fields["error.kind"] == kind
    assert isinstance(fields["error.object"], Exception)
    assert str(fields["error.object"]) == message
    assert "message" not in fields  # the text once, in the annotation too


def test_exception_from_app_is_recorded_and_reraised(tracer: MockTracer) -> None:
    def app(environ: Environ, start_response: Callable[..., Any]) -> List[bytes]:
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        TracingMiddleware(app, tracer)(environ_for(), Response().start_response)
    span = only_span(tracer)
    assert_error_log(span, "ValueError", "bad input")
    assert tags.HTTP_STATUS_CODE not in span.tags
    assert tracer.active_span is None


def test_exception_during_iteration_is_recorded_and_reraised(tracer: MockTracer) -> None:
    def app(environ: Environ, start_response: Callable[..., Any]) -> Iterator[bytes]:
        start_response("200 OK", [])
        yield b"partial"
        raise OSError("disk gone")

    with pytest.raises(OSError, match="disk gone"):
        serve(TracingMiddleware(app, tracer))
    assert_error_log(only_span(tracer), "OSError", "disk gone")
    assert tracer.active_span is None


def test_exc_info_given_to_start_response_is_recorded(tracer: MockTracer) -> None:
    def app(environ: Environ, start_response: Callable[..., Any]) -> List[bytes]:
        try:
            raise LookupError("handled by the app")
        except LookupError:
            start_response("500 Internal Server Error", [], sys.exc_info())
        return [b"sorry"]

    response, _ = serve(TracingMiddleware(app, tracer))
    assert response.exc_info is not None  # passed through to the server
    span = only_span(tracer)
    assert span.tags[tags.HTTP_STATUS_CODE] == 500
    assert_error_log(span, "LookupError", "handled by the app")


def status_app(status: str) -> Callable[..., List[bytes]]:
    def app(environ: Environ, start_response: Callable[..., Any]) -> List[bytes]:
        start_response(status, [])
        return [b""]

    return app


def test_5xx_is_an_error(tracer: MockTracer) -> None:
    serve(TracingMiddleware(status_app("503 Service Unavailable"), tracer))
    span = only_span(tracer)
    assert span.tags[tags.HTTP_STATUS_CODE] == 503
    assert span.tags[tags.ERROR] is True
    assert [log.key_values for log in span.logs] == [
        {"event": "error", "message": "503 Service Unavailable"}
    ]


def test_4xx_is_not_an_error(tracer: MockTracer) -> None:
    serve(TracingMiddleware(status_app("404 Not Found"), tracer))
    span = only_span(tracer)
    assert span.tags[tags.HTTP_STATUS_CODE] == 404
    assert tags.ERROR not in span.tags
    assert span.logs == []


def test_health_is_excluded_by_default(tracer: MockTracer) -> None:
    middleware = TracingMiddleware(hello, tracer)
    serve(middleware, environ_for("/health"))
    serve(middleware, environ_for("/healthz"))
    assert tracer.finished_spans() == []
    serve(middleware, environ_for("/health/deep"))  # exact match only
    assert len(tracer.finished_spans()) == 1


def test_excluded_paths_can_be_replaced(tracer: MockTracer) -> None:
    middleware = TracingMiddleware(hello, tracer, excluded_paths=["/ping"])
    serve(middleware, environ_for("/ping"))
    serve(middleware, environ_for("/health"))
    assert [s.tags[tags.HTTP_URL] for s in tracer.finished_spans()] == ["http://127.0.0.1/health"]


def test_operation_name_callback_and_its_failure(tracer: MockTracer) -> None:
    serve(TracingMiddleware(hello, tracer, operation_name=lambda e: "custom"))

    def broken(environ: Environ) -> str:
        raise RuntimeError

    serve(TracingMiddleware(hello, tracer, operation_name=broken))
    assert [s.operation_name for s in tracer.finished_spans()] == ["custom", "GET"]


def test_start_span_cb_adds_tags_and_its_failure_is_ignored(tracer: MockTracer) -> None:
    def cb(span: Any, environ: Environ) -> None:
        span.set_tag("http.user_agent", environ.get("HTTP_USER_AGENT"))
        raise RuntimeError("after tagging")

    serve(TracingMiddleware(hello, tracer, start_span_cb=cb), environ_for(HTTP_USER_AGENT="t/1"))
    assert only_span(tracer).tags["http.user_agent"] == "t/1"


def test_set_route_renames_the_span(tracer: MockTracer) -> None:
    def app(environ: Environ, start_response: Callable[..., Any]) -> List[bytes]:
        set_route(environ, "/things/<id>")
        return hello(environ, start_response)

    serve(TracingMiddleware(app, tracer), environ_for(method="POST"))
    span = only_span(tracer)
    assert span.operation_name == "POST /things/<id>"
    assert span.tags["http.route"] == "/things/<id>"
    set_route({}, "/untraced")  # no span: nothing happens


@pytest.mark.parametrize(
    ("extra", "url"),
    [
        (
            {"HTTP_HOST": "example.com:8080", "QUERY_STRING": "a=1&b=2"},
            "http://example.com:8080/p?a=1&b=2",
        ),
        ({"SERVER_NAME": "h", "SERVER_PORT": "443", "wsgi.url_scheme": "https"}, "https://h/p"),
        (
            {"SERVER_NAME": "h", "SERVER_PORT": "8443", "wsgi.url_scheme": "https"},
            "https://h:8443/p",
        ),
        ({"SERVER_NAME": "h", "SERVER_PORT": "80"}, "http://h/p"),
        ({"SERVER_NAME": "h", "SERVER_PORT": "80", "SCRIPT_NAME": "/app"}, "http://h/app/p"),
        # PATH_INFO carries raw bytes as latin-1: "é" in UTF-8 is two bytes.
        ({"SERVER_NAME": "h", "PATH_INFO": "/caf\u00c3\u00a9 x"}, "http://h/caf%C3%A9%20x"),
    ],
)
def test_request_url_reconstruction(extra: Environ, url: str) -> None:
    environ: Environ = {"wsgi.url_scheme": "http", "PATH_INFO": "/p", "SERVER_PORT": "80"}
    environ.update(extra)
    assert request_url(environ) == url


def test_contextvars_scope_manager(tracer: MockTracer) -> None:
    tracer = MockTracer(scope_manager=ContextVarsScopeManager())
    seen: List[Any] = []

    def app(environ: Environ, start_response: Callable[..., Any]) -> Iterator[bytes]:
        seen.append(tracer.active_span)
        start_response("200 OK", [])
        seen.append(tracer.active_span)
        yield b"x"

    serve(TracingMiddleware(app, tracer))
    server = only_span(tracer)
    assert seen == [server, server]
    assert tracer.active_span is None


header_names = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=20
)
header_values = st.text(alphabet=st.characters(max_codepoint=0xFF), max_size=40)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(header_names, header_values, max_size=6))
def test_weird_headers_never_fail_the_request(headers: Dict[str, str]) -> None:
    tracer = MockTracer()
    extra = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
    response, data = serve(TracingMiddleware(hello, tracer), environ_for(**extra))
    assert data == b"hello"
    assert len(tracer.finished_spans()) == 1


# Flask: the documented pattern, through Flask's own test client.


@pytest.fixture()
def flask_app(tracer: MockTracer) -> Any:
    flask = pytest.importorskip("flask")
    app = flask.Flask("traced")
    seen: Dict[str, Any] = {}

    @app.route("/users/<int:user_id>")
    def user(user_id: int) -> str:
        seen["active"] = tracer.active_span
        return f"user {user_id}"

    @app.route("/boom")
    def boom() -> str:
        raise ZeroDivisionError("no users")

    app.wsgi_app = TracingMiddleware(app.wsgi_app, tracer)  # type: ignore[method-assign]
    install_flask_hooks(app)
    app.config["seen"] = seen
    return app


def test_flask_span_named_after_the_route(flask_app: Any, tracer: MockTracer) -> None:
    response = flask_app.test_client().get("/users/7?x=1")
    assert response.data == b"user 7"
    response.close()
    span = only_span(tracer)
    assert span.operation_name == "GET /users/<int:user_id>"
    assert span.tags["http.route"] == "/users/<int:user_id>"
    assert span.tags[tags.HTTP_URL] == "http://localhost/users/7?x=1"
    assert span.tags[tags.HTTP_STATUS_CODE] == 200
    assert flask_app.config["seen"]["active"] is span


def test_flask_404_keeps_the_method_name(flask_app: Any, tracer: MockTracer) -> None:
    flask_app.test_client().get("/nope").close()
    span = only_span(tracer)
    assert span.operation_name == "GET"
    assert span.tags[tags.HTTP_STATUS_CODE] == 404


def test_flask_view_exception_is_recorded(flask_app: Any, tracer: MockTracer) -> None:
    response = flask_app.test_client().get("/boom")
    assert response.status_code == 500
    response.close()
    span = only_span(tracer)
    assert span.tags[tags.HTTP_STATUS_CODE] == 500
    assert_error_log(span, "ZeroDivisionError", "no users")
