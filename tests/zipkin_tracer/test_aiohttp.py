"""aiohttp: client spans through trace_config(), server spans through the middleware."""

from __future__ import annotations

import asyncio
import socket
from typing import Any, Awaitable, Callable, Dict, List, TypeVar

import aiohttp
import pytest
from aiohttp import web

from zipkin_tracer import ZipkinTracer
from zipkin_tracer.aiohttp import make_middleware, trace_config
from zipkin_tracer.testing import InMemoryReporter

T = TypeVar("T")
TRACE = "463ac35c9f6413ad"
PARENT = "a2fb4a1d1a96d312"


def by_kind(reporter: InMemoryReporter, kind: str) -> List[Dict[str, Any]]:
    return [s for s in reporter.json_spans() if s.get("kind") == kind]


def serve(app: web.Application, body: Callable[[str], Awaitable[T]]) -> T:
    """Run ``app`` on a free 127.0.0.1 port, await ``body(base_url)``, stop the app."""

    async def main() -> T:
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        try:
            return await body(f"http://127.0.0.1:{port}")
        finally:
            await runner.cleanup()

    return asyncio.run(main())


def plain_app() -> web.Application:
    async def item(request: web.Request) -> web.Response:
        return web.json_response(
            {"item": request.match_info["item_id"], "b3": dict(request.headers)}
        )

    async def boom(request: web.Request) -> web.Response:
        raise ValueError("boom")

    async def gone(request: web.Request) -> web.Response:
        raise web.HTTPGone()

    async def stream(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        for part in (b"a", b"b"):
            await response.write(part)
        await response.write_eof()
        return response

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound("/items/9")

    async def health(request: web.Request) -> web.Response:
        return web.Response(text="up")

    app = web.Application()
    app.router.add_get("/items/{item_id}", item)
    app.router.add_get("/boom", boom)
    app.router.add_get("/gone", gone)
    app.router.add_get("/stream", stream)
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/health", health)
    return app


def test_client_span_tags_injection_and_parent(
    tracer: ZipkinTracer, reporter: InMemoryReporter
) -> None:
    async def body(base: str) -> Dict[str, Any]:
        async with aiohttp.ClientSession(trace_configs=[trace_config(tracer)]) as session:
            with tracer.start_active_span("parent"):
                async with session.get(f"{base}/items/7?x=1") as response:
                    assert response.status == 200
                    return dict(await response.json())

    answer = serve(plain_app(), body)
    (client,) = by_kind(reporter, "CLIENT")
    parent = next(s for s in reporter.json_spans() if s["name"] == "parent")
    assert client["parentId"] == parent["id"]
    assert client["name"] == "GET"
    assert client["tags"]["component"] == "aiohttp"
    assert client["tags"]["http.status_code"] == "200"
    assert client["tags"]["http.url"].endswith("/items/7?x=1")
    assert client["remoteEndpoint"]["ipv4"] == "127.0.0.1"
    headers = {k.lower(): v for k, v in answer["b3"].items()}
    assert headers["x-b3-spanid"] == client["id"]
    assert headers["x-b3-traceid"] == client["traceId"]


def test_client_redirect_stays_in_one_span(
    tracer: ZipkinTracer, reporter: InMemoryReporter
) -> None:
    async def body(base: str) -> None:
        async with aiohttp.ClientSession(trace_configs=[trace_config(tracer)]) as session:
            async with session.get(f"{base}/redirect") as response:
                assert response.status == 200

    serve(plain_app(), body)
    (client,) = by_kind(reporter, "CLIENT")
    assert client["tags"]["http.status_code"] == "200"


def closed_port() -> int:
    """A 127.0.0.1 port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_client_errors(tracer: ZipkinTracer, reporter: InMemoryReporter) -> None:
    refused_url = f"http://127.0.0.1:{closed_port()}/items/1"

    async def body(base: str) -> None:
        async with aiohttp.ClientSession(trace_configs=[trace_config(tracer)]) as session:
            async with session.get(f"{base}/boom") as response:
                assert response.status == 500
            with pytest.raises(aiohttp.ClientConnectionError):
                await session.get(refused_url)

    serve(plain_app(), body)
    failed, refused = by_kind(reporter, "CLIENT")
    assert failed["tags"]["error"] == "true"
    assert refused["tags"]["error"]
    assert "error.kind=ClientConnectorError" in refused["annotations"][0]["value"]
    assert "http.status_code" not in refused["tags"]


def test_client_b3_0_is_not_traced(tracer: ZipkinTracer, reporter: InMemoryReporter) -> None:
    async def body(base: str) -> None:
        async with aiohttp.ClientSession(trace_configs=[trace_config(tracer)]) as session:
            async with session.get(f"{base}/items/1", headers={"b3": "0"}) as response:
                assert response.status == 200

    serve(plain_app(), body)
    assert reporter.spans == []


def traced_app(tracer: ZipkinTracer) -> web.Application:
    app = plain_app()
    app.middlewares.append(make_middleware(tracer))
    return app


def test_server_span_route_name_parent_and_tags(
    tracer: ZipkinTracer, reporter: InMemoryReporter
) -> None:
    async def body(base: str) -> None:
        headers = {"X-B3-TraceId": TRACE, "X-B3-SpanId": PARENT, "X-B3-Sampled": "1"}
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{base}/items/42", headers=headers) as response:
                assert response.status == 200

    serve(traced_app(tracer), body)
    (server,) = by_kind(reporter, "SERVER")
    assert server["name"] == "GET /items/{item_id}"
    assert server["traceId"] == TRACE and server["id"] == PARENT and server["shared"] is True
    assert server["tags"]["http.route"] == "/items/{item_id}"
    assert server["tags"]["http.status_code"] == "200"
    assert server["tags"]["component"] == "aiohttp"
    assert server["tags"]["http.url"].endswith("/items/42")
    assert server["remoteEndpoint"]["ipv4"] == "127.0.0.1"


def test_server_errors_streams_exclusions(tracer: ZipkinTracer, reporter: InMemoryReporter) -> None:
    async def body(base: str) -> None:
        async with aiohttp.ClientSession() as session:
            for path, status in (
                ("/boom", 500),
                ("/gone", 410),
                ("/stream", 200),
                ("/health", 200),
                ("/nope", 404),
            ):
                async with session.get(f"{base}{path}") as response:
                    assert response.status == status, path
                    await response.read()

    serve(traced_app(tracer), body)
    boom, gone, stream, missing = by_kind(reporter, "SERVER")
    assert boom["tags"]["error"] == "ValueError: boom"
    assert "error.kind=ValueError" in boom["annotations"][0]["value"]
    assert gone["tags"]["http.status_code"] == "410" and "error" not in gone["tags"]
    assert stream["name"] == "GET /stream" and stream["tags"]["http.status_code"] == "200"
    assert missing["name"] == "GET" and missing["tags"]["http.status_code"] == "404"


def test_server_span_is_active_and_clients_nest_per_request(
    tracer: ZipkinTracer, reporter: InMemoryReporter
) -> None:
    """Twenty concurrent requests, each calling out: every client span under its own server span."""
    requests = 20
    arrived: List[int] = []
    everyone_in = asyncio.Event()
    sessions: List[aiohttp.ClientSession] = []

    async def fan(request: web.Request) -> web.Response:
        arrived.append(1)
        if len(arrived) == requests:
            everyone_in.set()
        await everyone_in.wait()
        session = sessions[0]
        base = f"http://127.0.0.1:{request.url.port}"
        async with session.get(f"{base}/items/{request.match_info['n']}") as response:
            await response.read()
        return web.Response(text="ok")

    app = traced_app(tracer)
    app.router.add_get("/fan/{n}", fan)

    async def body(base: str) -> None:
        sessions.append(aiohttp.ClientSession(trace_configs=[trace_config(tracer)]))
        try:
            async with aiohttp.ClientSession() as caller:

                async def one(n: int) -> None:
                    async with caller.get(f"{base}/fan/{n}") as response:
                        assert response.status == 200

                await asyncio.gather(*(one(n) for n in range(requests)))
        finally:
            await sessions[0].close()

    serve(app, body)
    servers = {s["id"]: s for s in by_kind(reporter, "SERVER")}
    clients = by_kind(reporter, "CLIENT")
    assert len(clients) == requests
    for client in clients:
        n = client["tags"]["http.url"].rsplit("/", 1)[1]
        assert servers[client["parentId"]]["tags"]["http.url"].endswith(f"/fan/{n}")
