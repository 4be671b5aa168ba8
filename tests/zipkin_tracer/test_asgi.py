"""ASGI middleware: server spans, extraction, routes, streaming, disconnects, errors."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List

import pytest

import opentracing
from tests.support.asgi import Exchange, http_scope, run
from tests.support.tracers import make_tracer
from zipkin_tracer import ZipkinTracer
from zipkin_tracer.asgi import SPAN_SCOPE_KEY, TracingMiddleware, request_url, set_route
from zipkin_tracer.testing import InMemoryReporter

TRACE = "463ac35c9f6413ad"
PARENT = "a2fb4a1d1a96d312"


async def ok_app(scope: Any, receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def only_span(reporter: InMemoryReporter) -> Dict[str, Any]:
    spans = reporter.json_spans()
    assert len(spans) == 1, spans
    return spans[0]


def annotations(span: Dict[str, Any]) -> List[str]:
    return [a["value"] for a in span.get("annotations", [])]


def test_one_server_span_with_the_wsgi_tags(
    tracer: ZipkinTracer, reporter: InMemoryReporter
) -> None:
    exchange = run(TracingMiddleware(ok_app, tracer), http_scope(query=b"a=1"))

    assert exchange.status == 200 and exchange.body == b"ok"
    span = only_span(reporter)
    assert span["name"] == "GET"
    assert span["kind"] == "SERVER"
    assert span["remoteEndpoint"] == {"ipv4": "10.1.2.3", "port": 50123}
    assert span["tags"] == {
        "component": "asgi",
        "http.method": "GET",
        "http.url": "http://svc.test:8000/things/42?a=1",
        "http.status_code": "200",
    }
    assert "parentId" not in span


def test_url_without_host_header_uses_the_server_address() -> None:
    scope = http_scope(scheme="https", headers=(), server=("10.0.0.1", 443))
    scope["headers"] = []
    assert request_url(scope) == "https://10.0.0.1/things/42"
    scope["server"] = ("10.0.0.1", 8443)
    assert request_url(scope) == "https://10.0.0.1:8443/things/42"


def test_ipv6_peer(tracer: ZipkinTracer, reporter: InMemoryReporter) -> None:
    run(TracingMiddleware(ok_app, tracer), http_scope(client=("::1", 4000)))
    assert only_span(reporter)["remoteEndpoint"] == {"ipv6": "::1", "port": 4000}


def test_caller_context_is_extracted_and_the_span_shared(
    tracer: ZipkinTracer, reporter: InMemoryReporter
) -> None:
    headers = [("X-B3-TraceId", TRACE), ("X-B3-SpanId", PARENT), ("X-B3-Sampled", "1")]
    run(TracingMiddleware(ok_app, tracer), http_scope(headers=headers))

    span = only_span(reporter)
    assert span["traceId"] == TRACE
    assert span["id"] == PARENT
    assert span.get("shared") is True


def test_single_b3_header_is_extracted(tracer: ZipkinTracer, reporter: InMemoryReporter) -> None:
    run(TracingMiddleware(ok_app, tracer), http_scope(headers=[("b3", f"{TRACE}-{PARENT}-1")]))
    assert only_span(reporter)["traceId"] == TRACE


def test_corrupt_header_starts_a_new_trace(
    tracer: ZipkinTracer, reporter: InMemoryReporter
) -> None:
    headers = [("X-B3-TraceId", "not-hex"), ("X-B3-SpanId", "zz"), ("X-B3-Sampled", "1")]
    exchange = run(TracingMiddleware(ok_app, tracer), http_scope(headers=headers))
    assert exchange.status == 200
    assert only_span(reporter)["traceId"] != "not-hex"


def test_span_is_active_while_the_app_runs_and_children_nest(
    tracer: ZipkinTracer, reporter: InMemoryReporter
) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        assert tracer.active_span is scope[SPAN_SCOPE_KEY]
        with tracer.start_active_span("in-handler"):
            await asyncio.sleep(0)
        await asyncio.gather(asyncio.to_thread(lambda: tracer.start_span("in-thread").finish()))
        await ok_app(scope, receive, send)

    run(TracingMiddleware(app, tracer))
    spans = {span["name"]: span for span in reporter.json_spans()}
    assert spans["in-handler"]["parentId"] == spans["GET"]["id"]
    assert spans["in-thread"]["parentId"] == spans["GET"]["id"]
    assert tracer.active_span is None


def test_interleaved_requests_keep_their_own_children(
    tracer: ZipkinTracer, reporter: InMemoryReporter
) -> None:
    requests = 10
    arrived: List[int] = []
    everyone_in = asyncio.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        arrived.append(1)
        if len(arrived) == requests:
            everyone_in.set()
        await everyone_in.wait()
        with tracer.start_active_span(f"child of {scope['path']}"):
            await asyncio.sleep(0)
        await ok_app(scope, receive, send)

    middleware = TracingMiddleware(app, tracer)

    async def main() -> None:
        exchanges = [Exchange() for _ in range(requests)]
        await asyncio.gather(
            *(
                middleware(http_scope(path=f"/r/{i}"), ex.receive, ex.send)
                for i, ex in enumerate(exchanges)
            )
        )

    asyncio.run(main())
    spans = reporter.json_spans()
    servers = {s["id"]: s for s in spans if s.get("kind") == "SERVER"}
    assert len(servers) == requests
    for child in (s for s in spans if s.get("kind") is None):
        parent = servers[child["parentId"]]
        assert child["name"] == f"child of {parent['tags']['http.url'].split('8000')[1]}"
        assert child["traceId"] == parent["traceId"]


def test_streaming_body_finishes_the_span_after_the_last_chunk(
    tracer: ZipkinTracer, reporter: InMemoryReporter
) -> None:
    reported_at_send: List[int] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for chunk in (b"a", b"b"):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    exchange = Exchange(on_send=lambda m: reported_at_send.append(len(reporter.spans)))
    run(TracingMiddleware(app, tracer), exchange=exchange)

    assert exchange.body == b"ab"
    assert reported_at_send == [0, 0, 0, 0]  # still open while any chunk was going out
    span = only_span(reporter)
    assert span["tags"]["http.status_code"] == "200"
    assert annotations(span) == []


def test_response_with_trailers_is_complete_after_them(
    tracer: ZipkinTracer, reporter: InMemoryReporter
) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "trailers": True})
        await send({"type": "http.response.body", "body": b"a"})
        await send({"type": "http.response.trailers", "headers": [], "more_trailers": False})

    run(TracingMiddleware(app, tracer))
    assert annotations(only_span(reporter)) == []


def test_response_ended_before_its_trailers_is_incomplete(
    tracer: ZipkinTracer, reporter: InMemoryReporter
) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "trailers": True})
        await send({"type": "http.response.body", "body": b"a"})

    run(TracingMiddleware(app, tracer))
    assert annotations(only_span(reporter)) == ["response incomplete"]


def test_client_disconnect_is_recorded_and_the_span_finished(
    tracer: ZipkinTracer, reporter: InMemoryReporter
) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"a", "more_body": True})
        message = await receive()
        assert message["type"] == "http.disconnect"  # the app stops streaming

    exchange = Exchange(incoming=[{"type": "http.disconnect"}])
    run(TracingMiddleware(app, tracer), exchange=exchange)

    span = only_span(reporter)
    assert annotations(span) == ["client disconnected", "response incomplete"]
    assert span["tags"]["http.status_code"] == "200"
    assert "error" not in span["tags"]


def test_exception_is_recorded_and_reraised(
    tracer: ZipkinTracer, reporter: InMemoryReporter
) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        run(TracingMiddleware(app, tracer))
    span = only_span(reporter)
    assert span["tags"]["error"] == "ValueError: boom"
    assert "error.kind=ValueError" in annotations(span)[0]
    assert tracer.active_span is None


def test_server_error_status_is_an_error(tracer: ZipkinTracer, reporter: InMemoryReporter) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 503, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    run(TracingMiddleware(app, tracer))
    assert only_span(reporter)["tags"]["error"] == "503"


def test_cancelled_request_still_finishes(tracer: ZipkinTracer, reporter: InMemoryReporter) -> None:
    started = asyncio.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        started.set()
        await asyncio.Event().wait()

    async def main() -> None:
        exchange = Exchange()
        task = asyncio.ensure_future(
            TracingMiddleware(app, tracer)(http_scope(), exchange.receive, exchange.send)
        )
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert annotations(only_span(reporter)) == ["response incomplete"]


@pytest.mark.parametrize("kind", ["lifespan", "websocket"])
def test_lifespan_and_websocket_pass_through_untraced(
    kind: str, tracer: ZipkinTracer, reporter: InMemoryReporter
) -> None:
    seen: List[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append((scope["type"], receive, send))

    exchange = Exchange()
    asyncio.run(TracingMiddleware(app, tracer)({"type": kind}, exchange.receive, exchange.send))
    assert seen == [(kind, exchange.receive, exchange.send)]  # the server's own callables
    assert reporter.spans == []


def test_excluded_paths(tracer: ZipkinTracer, reporter: InMemoryReporter) -> None:
    run(TracingMiddleware(ok_app, tracer), http_scope(path="/health"))
    run(TracingMiddleware(ok_app, tracer, excluded_paths={"/metrics"}), http_scope(path="/metrics"))
    assert reporter.spans == []
    run(TracingMiddleware(ok_app, tracer, excluded_paths={"/metrics"}), http_scope(path="/health"))
    assert len(reporter.spans) == 1


def test_tracer_installed_after_the_app_is_built() -> None:
    middleware = TracingMiddleware(ok_app)  # no tracer yet: the global one, per request
    run(middleware)  # the no-op tracer: served, nothing recorded
    reporter = InMemoryReporter()
    tracer = make_tracer(reporter=reporter)
    opentracing.set_global_tracer(tracer)
    try:
        run(middleware)
    finally:
        opentracing.set_global_tracer(opentracing.Tracer())
    assert only_span(reporter)["kind"] == "SERVER"


def test_set_route_names_the_span(tracer: ZipkinTracer, reporter: InMemoryReporter) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        set_route(scope, "/things/<id>")
        await ok_app(scope, receive, send)

    run(TracingMiddleware(app, tracer))
    span = only_span(reporter)
    assert span["name"] == "GET /things/<id>"
    assert span["tags"]["http.route"] == "/things/<id>"


def test_a_failing_tracer_never_fails_the_request() -> None:
    class Broken(opentracing.Tracer):
        def start_span(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("tracer bug")

    exchange = run(TracingMiddleware(ok_app, Broken()))
    assert exchange.status == 200


def test_callbacks_that_raise_are_ignored(tracer: ZipkinTracer, reporter: InMemoryReporter) -> None:
    def bad(*args: Any) -> Any:
        raise RuntimeError("callback bug")

    exchange = run(TracingMiddleware(ok_app, tracer, operation_name=bad, start_span_cb=bad))
    assert exchange.status == 200
    assert only_span(reporter)["name"] == "GET"


# -- Starlette and FastAPI routing ---------------------------------------------


def test_fastapi_route_template_names_the_span(reporter: InMemoryReporter) -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    tracer = make_tracer(reporter=reporter)
    app = FastAPI()

    @app.get("/items/{item_id}")
    def item(item_id: int) -> Dict[str, int]:
        return {"item": item_id}

    app.add_middleware(TracingMiddleware, tracer=tracer)
    with TestClient(app) as client:  # runs lifespan too: untraced
        assert client.get("/items/7").json() == {"item": 7}
        assert client.get("/nowhere").status_code == 404
    first, missing = reporter.json_spans()
    assert first["name"] == "GET /items/{item_id}"
    assert first["tags"]["http.route"] == "/items/{item_id}"
    assert missing["name"] == "GET"  # never the raw path
    assert missing["tags"]["http.status_code"] == "404"


def test_starlette_mounted_route_keeps_its_prefix(reporter: InMemoryReporter) -> None:
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Mount, Route
    from starlette.testclient import TestClient

    def user(request: Any) -> PlainTextResponse:
        return PlainTextResponse(request.path_params["name"])

    def boom(request: Any) -> PlainTextResponse:
        raise KeyError("missing")

    app = Starlette(
        routes=[Mount("/api", routes=[Route("/users/{name}", user), Route("/boom", boom)])]
    )
    tracer = make_tracer(reporter=reporter)
    wrapped = TracingMiddleware(app, tracer)  # outermost: wraps the whole app
    with TestClient(wrapped, raise_server_exceptions=False) as client:
        assert client.get("/api/users/ann").text == "ann"
        assert client.get("/api/boom").status_code == 500
    user_span, boom_span = reporter.json_spans()
    assert user_span["name"] == "GET /api/users/{name}"
    assert boom_span["name"] == "GET /api/boom"
    assert boom_span["tags"]["http.status_code"] == "500"
    assert "error.kind=KeyError" in " ".join(annotations(boom_span))


def test_starlette_streaming_response(reporter: InMemoryReporter) -> None:
    from starlette.applications import Starlette
    from starlette.responses import StreamingResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    tracer = make_tracer(reporter=reporter)
    open_while_streaming: List[bool] = []

    async def chunks() -> Any:
        for part in ("a", "b", "c"):
            kinds = [span.get("kind") for span in reporter.json_spans()]
            open_while_streaming.append("SERVER" not in kinds)
            with tracer.start_active_span(f"chunk {part}"):
                yield part

    app = Starlette(routes=[Route("/stream", lambda request: StreamingResponse(chunks()))])
    with TestClient(TracingMiddleware(app, tracer)) as client:
        assert client.get("/stream").text == "abc"
    spans = {span["name"]: span for span in reporter.json_spans()}
    server = spans["GET /stream"]
    assert open_while_streaming == [True, True, True]
    for part in ("a", "b", "c"):
        assert spans[f"chunk {part}"]["parentId"] == server["id"]
    assert annotations(server) == []


def test_a_root_path_set_by_the_server_is_not_part_of_the_route(
    reporter: InMemoryReporter,
) -> None:
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    app = Starlette(routes=[Route("/users/{name}", lambda request: PlainTextResponse("hi"))])
    tracer = make_tracer(reporter=reporter)
    with TestClient(TracingMiddleware(app, tracer), root_path="/proxy") as client:
        assert client.get("/proxy/users/ann").status_code == 200
    assert only_span(reporter)["name"] == "GET /users/{name}"


def test_mount_templates_with_parameters_and_mounted_apps(reporter: InMemoryReporter) -> None:
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Mount, Route
    from starlette.testclient import TestClient

    def ok(request: Any) -> PlainTextResponse:
        return PlainTextResponse("ok")

    sub_app = Starlette(routes=[Route("/status", ok)])
    app = Starlette(
        routes=[
            Mount(
                "/orgs/{org}", routes=[Mount("/users/{name}", routes=[Route("/posts/{n:int}", ok)])]
            ),
            Mount("/sub", app=sub_app),
        ]
    )
    tracer = make_tracer(reporter=reporter)
    with TestClient(TracingMiddleware(app, tracer)) as client:
        assert client.get("/orgs/acme/users/ann/posts/3").status_code == 200
        assert client.get("/sub/status").status_code == 200
    nested, mounted_app = (span["name"] for span in reporter.json_spans())
    assert nested == "GET /orgs/{org}/users/{name}/posts/{n:int}"  # no values in the name
    assert mounted_app == "GET /sub/status"
