"""Every Python example of README.rst runs as written.

Whole programs run as they are; a fragment runs with the names its
surrounding text gives it (``application``, ``images``, ``tracer``...).
The examples that need a Zipkin are in tests/integration/test_readme_examples.py.
"""

from __future__ import annotations

import asyncio
import io
import logging
import logging.config
from typing import Any, Callable, Dict, Iterator, List

import pytest
import responses

import opentracing
from opentracing.mocktracer import MockTracer
from tests.support import readme
from zipkin_tracer import ProbabilisticSampler, ZipkinTracer
from zipkin_tracer.testing import InMemoryReporter


def run(name: str, **names: Any) -> Dict[str, Any]:
    namespace: Dict[str, Any] = {"__name__": f"readme_{name.replace(' ', '_')}", **names}
    exec(compile(readme.example(name), f"README.rst ({name})", "exec"), namespace)
    return namespace


@pytest.fixture
def global_tracer(monkeypatch: pytest.MonkeyPatch) -> MockTracer:
    tracer = MockTracer()
    monkeypatch.setattr(opentracing, "tracer", tracer)
    return tracer


@pytest.fixture
def root_logging() -> Iterator[None]:
    """Examples that configure logging leave it as it was (dictConfig disables loggers)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    loggers = [
        lg for lg in logging.root.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    disabled = [(lg, lg.disabled) for lg in loggers]
    yield
    for logger, was in disabled:
        logger.disabled = was
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


def test_every_python_block_of_the_readme_is_a_named_example() -> None:
    blocks = readme.python_blocks()
    named = [readme.example(name) for name in readme.EXAMPLES]
    assert sorted(blocks.index(code) for code in named) == list(range(len(blocks)))


def test_sampling() -> None:
    tracer = run("sampling")["tracer"]
    assert isinstance(tracer.sampler, ProbabilisticSampler) and tracer.sampler.rate == 0.25
    tracer.close(timeout=1.0)


def test_where_spans_go() -> None:
    tracer = run("where spans go")["tracer"]
    assert (tracer.config.collector_url, tracer.config.encoding) == ("http://zipkin:9411", "thrift")
    tracer.close(timeout=1.0)


def test_between_services(monkeypatch: pytest.MonkeyPatch) -> None:
    reporter = InMemoryReporter()
    monkeypatch.setattr(opentracing, "tracer", ZipkinTracer("svc", reporter=reporter))
    run("between services")
    server, client = reporter.json_spans()
    assert client["kind"] == "CLIENT" and server["kind"] == "SERVER"
    assert server["traceId"] == client["traceId"]
    assert server["id"] == client["id"] and server["shared"] is True


def hello_app(environ: Dict[str, Any], start_response: Callable[..., Any]) -> List[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


def test_wsgi(global_tracer: MockTracer) -> None:
    from werkzeug.test import Client

    application = run("wsgi", application=hello_app)["application"]
    answer = Client(application).get("/x")
    assert answer.get_data() == b"hello"
    answer.close()  # as a server does: that finishes the span
    (span,) = global_tracer.finished_spans()
    assert span.tags["span.kind"] == "server" and span.tags["http.url"].endswith("/x")


def test_flask_hooks(global_tracer: MockTracer) -> None:
    app = run("flask hooks")["app"]
    app.add_url_rule("/users/<int:user_id>", "user", lambda user_id: "ok")
    answer = app.test_client().get("/users/8")
    answer.close()
    assert answer.status_code == 200
    (span,) = global_tracer.finished_spans()
    assert span.operation_name == "GET /users/<int:user_id>"


def test_requests(global_tracer: MockTracer) -> None:
    with responses.RequestsMock() as mocked:
        mocked.get("http://inventory:8080/items", body="[]")
        mocked.get("http://inventory:8080/items", body="[]")
        run("requests")
    spans = global_tracer.finished_spans()
    assert [s.tags["span.kind"] for s in spans] == ["client", "client"]
    assert {s.tags["peer.service"] for s in spans} == {"inventory"}


def test_log_filter(global_tracer: MockTracer, root_logging: None) -> None:
    handler = run("log filter")["handler"]
    out = io.StringIO()
    handler.setStream(out)
    with global_tracer.start_active_span("logged") as scope:
        logging.getLogger("readme").warning("inside")
    trace_id = format(scope.span.context.trace_id, "016x")
    assert f"[trace_id={trace_id} span_id=" in out.getvalue()
    assert out.getvalue().rstrip().endswith("inside")


def test_log_dictconfig(global_tracer: MockTracer, root_logging: None) -> None:
    logging.config.dictConfig(run("log dictconfig")["LOGGING"])
    (handler,) = [h for h in logging.getLogger().handlers if h.filters]
    out = io.StringIO()
    handler.setStream(out)  # type: ignore[attr-defined]
    with global_tracer.start_active_span("logged") as scope:
        logging.getLogger("readme.dictconfig").info("inside")
    trace_id = format(scope.span.context.trace_id, "016x")
    assert out.getvalue().startswith(f"INFO {trace_id} ")


def test_threads() -> None:
    tracer = MockTracer()
    run("threads", tracer=tracer, images=["a.png", "b.png"])
    spans = {s.operation_name: s for s in tracer.finished_spans()}
    resized = [s for s in tracer.finished_spans() if s.operation_name == "resize"]
    assert len(resized) == 2
    assert all(s.parent_id == spans["upload"].context.span_id for s in resized)


def test_threads_activate() -> None:
    tracer = MockTracer()
    seen: List[Any] = []

    class Requests:
        def post(self, *args: Any) -> None:
            seen.append(tracer.active_span)

    resize = run("threads activate", tracer=tracer, requests=Requests())["resize"]
    parent = tracer.start_span("upload")
    import threading

    thread = threading.Thread(target=resize, args=(parent, "a.png"))
    thread.start()
    thread.join(timeout=10)
    assert seen == [parent]
    assert tracer.finished_spans() == []  # activated, not finished


def test_asyncio() -> None:
    reporter = InMemoryReporter()
    tracer = ZipkinTracer("readme", reporter=reporter)  # the default scope manager

    def traced(name: str) -> Callable[[], Any]:
        async def child() -> None:
            with tracer.start_active_span(name):
                pass

        return child

    def blocking_io() -> None:
        with tracer.start_active_span("blocking_io"):
            pass

    class RunningLoop:
        """``loop`` in the example: the loop the handler runs on."""

        def run_in_executor(self, executor: Any, work: Callable[[], None]) -> Any:
            return asyncio.get_running_loop().run_in_executor(executor, work)

    handler = run(
        "asyncio",
        tracer=tracer,
        asyncio=asyncio,
        loop=RunningLoop(),
        fetch_user=traced("fetch_user"),
        fetch_a=traced("fetch_a"),
        fetch_b=traced("fetch_b"),
        blocking_io=blocking_io,
    )["handler"]
    asyncio.run(handler())
    spans = reporter.json_spans()
    (root,) = [s for s in spans if s["name"] == "handler"]
    children = sorted(s["name"] for s in spans if s.get("parentId") == root["id"])
    assert children == ["blocking_io", "blocking_io", "fetch_a", "fetch_b", "fetch_user"]


def test_fastapi_and_httpx(global_tracer: MockTracer, monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx
    from fastapi.testclient import TestClient

    from zipkin_tracer.httpx import AsyncTracingTransport

    namespace = run("fastapi")
    opentracing.tracer.close(timeout=1.0)  # the example's tracer: nothing to send here
    monkeypatch.setattr(opentracing, "tracer", global_tracer)  # looked up per request

    def inventory(request: httpx.Request) -> httpx.Response:
        assert request.url == "http://inventory:8080/stock/3"
        return httpx.Response(200, json=12)

    # the example's client, with the network replaced by an answer
    namespace["inventory"] = httpx.AsyncClient(
        transport=AsyncTracingTransport(httpx.MockTransport(inventory))
    )
    with TestClient(namespace["app"]) as client:
        answer = client.get("/items/3")
    assert answer.json() == {"item": 3, "stock": 12}
    kinds = sorted(s.tags["span.kind"] for s in global_tracer.finished_spans())
    assert kinds == ["client", "server"]


def test_asgi(global_tracer: MockTracer) -> None:
    from fastapi import FastAPI

    from zipkin_tracer.asgi import TracingMiddleware

    async def plain_app(scope: Any, receive: Any, send: Any) -> None:
        pass

    namespace = run("asgi", app=FastAPI(), get_asgi_application=lambda: plain_app)
    assert isinstance(namespace["application"], TracingMiddleware)
    assert [m.cls for m in namespace["app"].user_middleware] == [TracingMiddleware]


def test_asgi_django_route() -> None:
    zipkin_route = run("asgi django route")["zipkin_route"]

    class Request:
        scope: Dict[str, Any] = {}

        class resolver_match:
            route = "orders/<int:order_id>"

    assert zipkin_route(lambda request: "response")(Request()) == "response"


def test_httpx(global_tracer: MockTracer) -> None:
    import httpx

    namespace = run("httpx")
    try:
        assert isinstance(namespace["client"], httpx.AsyncClient)
    finally:
        asyncio.run(namespace["client"].aclose())


def test_aiohttp() -> None:
    from aiohttp import web

    async def build() -> Dict[str, Any]:
        namespace = run("aiohttp")
        await namespace["session"].close()
        return namespace

    namespace = asyncio.run(build())
    assert isinstance(namespace["app"], web.Application)
