"""Three real async services for the integration tests, one process each.

    python -m tests.integration.async_apps gateway|inventory|stock [--downstream URL]

- ``gateway``: FastAPI under uvicorn, ``TracingMiddleware`` added before any
  tracer exists (the tracer is installed at startup), calls its downstream
  with a plain ``httpx.AsyncClient`` traced by ``zipkin_tracer.httpx.install()``;
  ``GET /stream/{n}`` streams n chunks, 20 ms apart, a span each.
- ``inventory``: aiohttp.web with the tracing middleware, calls its downstream
  with an ``aiohttp.ClientSession`` traced by ``trace_config()``.
- ``stock``: Django's ASGI handler under uvicorn, wrapped in ``TracingMiddleware``;
  a Django middleware names the span after Django's route.

Every service answers ``GET /items/{id}`` (item 0 fails at the end of the chain:
Django raises, so each hop answers 5xx) and ``GET /_tracer/flush``. Each binds
port 0 on 127.0.0.1, prints ``READY <port>``, closes its tracer on SIGTERM and
stops by itself when the process that started it is gone.

(No ``from __future__ import annotations`` here: FastAPI reads the handlers'
annotations at run time, and ``Response`` is imported inside a function.)
"""

import argparse
import asyncio
import os
import signal
import socket
import sys
import threading
from typing import Any, Dict, Optional

from zipkin_tracer import ZipkinTracer

FLUSH_PATH = "/_tracer/flush"


def make_tracer(name: str) -> ZipkinTracer:
    """The collector is $ZIPKIN_URL, as for any ZipkinTracer."""
    return ZipkinTracer(service_name=name, local_ip="127.0.0.1")


def bind() -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


def watch_parent() -> None:
    """SIGTERM ourselves when the parent (the test session) is gone."""
    parent = os.getppid()

    def watch() -> None:
        while not stopped.wait(0.5):
            if os.getppid() != parent:
                os.kill(os.getpid(), signal.SIGTERM)
                return

    threading.Thread(target=watch, daemon=True).start()


stopped = threading.Event()


# -- gateway: FastAPI + httpx --------------------------------------------------


def gateway(downstream: str) -> Any:
    import httpx
    from fastapi import FastAPI, Response
    from fastapi.responses import StreamingResponse

    import opentracing
    from zipkin_tracer import httpx as traced_httpx
    from zipkin_tracer.asgi import TracingMiddleware

    state: Dict[str, Any] = {}

    async def lifespan(app: FastAPI) -> Any:
        tracer = make_tracer("gateway")  # installed after the app was built
        opentracing.set_global_tracer(tracer)
        traced_httpx.install()
        state["client"] = httpx.AsyncClient(base_url=downstream, timeout=30)
        state["tracer"] = tracer
        yield
        await state["client"].aclose()
        await asyncio.to_thread(tracer.close, 5.0)

    app = FastAPI(lifespan=lifespan)
    app.add_middleware(TracingMiddleware, excluded_paths=("/health", FLUSH_PATH))

    @app.get("/items/{item_id}")
    async def item(item_id: int, response: Response) -> Dict[str, Any]:
        tracer = opentracing.global_tracer()
        with tracer.start_active_span("lookup", tags={"item": item_id}):
            await asyncio.sleep(0.001)  # let the other requests interleave
        answer = await state["client"].get(f"/items/{item_id}")
        response.status_code = 200 if answer.status_code == 200 else 502
        return {"item": item_id, "downstream": answer.status_code}

    @app.get("/stream/{chunks}")
    async def stream(chunks: int) -> StreamingResponse:
        async def body() -> Any:
            tracer = opentracing.global_tracer()
            for index in range(chunks):
                with tracer.start_active_span("chunk", tags={"index": index}):
                    await asyncio.sleep(0.02)
                yield f"chunk {index}\n"

        return StreamingResponse(body(), media_type="text/plain")

    @app.get(FLUSH_PATH)
    async def flush() -> Dict[str, bool]:
        return {"flushed": await asyncio.to_thread(state["tracer"].flush, 10.0)}

    return app


# -- inventory: aiohttp server + aiohttp client --------------------------------


def inventory(downstream: str) -> Any:
    import aiohttp
    from aiohttp import web

    from zipkin_tracer.aiohttp import make_middleware, trace_config

    tracer = make_tracer("inventory")
    sessions = web.AppKey("sessions", list)

    async def item(request: web.Request) -> web.Response:
        item_id = int(request.match_info["item_id"])
        session: aiohttp.ClientSession = request.app[sessions][0]
        async with session.get(f"{downstream}/items/{item_id}") as answer:
            await answer.read()
            status = answer.status
        return web.json_response({"item": item_id}, status=200 if status == 200 else 502)

    async def flush(request: web.Request) -> web.Response:
        return web.json_response({"flushed": await asyncio.to_thread(tracer.flush, 10.0)})

    async def start_session(app: web.Application) -> None:
        app[sessions].append(aiohttp.ClientSession(trace_configs=[trace_config(tracer)]))

    async def close(app: web.Application) -> None:
        for session in app[sessions]:
            await session.close()
        await asyncio.to_thread(tracer.close, 5.0)

    app = web.Application(
        middlewares=[make_middleware(tracer, excluded_paths=("/health", FLUSH_PATH))]
    )
    app[sessions] = []
    app.router.add_get("/items/{item_id}", item)
    app.router.add_get(FLUSH_PATH, flush)
    app.on_startup.append(start_session)
    app.on_cleanup.append(close)
    return app


# -- stock: Django under ASGI ----------------------------------------------------


def route_middleware(get_response: Any) -> Any:
    """Name the server span after Django's route (the README's recipe)."""
    from zipkin_tracer.asgi import set_route

    def middleware(request: Any) -> Any:
        response = get_response(request)
        match = request.resolver_match
        if match is not None and match.route:
            set_route(request.scope, "/" + match.route)
        return response

    return middleware


def stock_view(request: Any, item_id: int) -> Any:
    from django.http import JsonResponse

    import opentracing

    with opentracing.global_tracer().start_active_span("query", tags={"item": item_id}):
        if item_id == 0:
            raise LookupError("item 0 is out of stock")
    return JsonResponse({"item": item_id, "count": item_id % 7})


def flush_view(request: Any) -> Any:
    from django.http import JsonResponse

    import opentracing

    return JsonResponse({"flushed": opentracing.global_tracer().flush(10.0)})


urlpatterns: list = []


def stock() -> Any:
    import django
    from django.conf import settings
    from django.core.asgi import get_asgi_application
    from django.urls import path

    import opentracing
    from zipkin_tracer.asgi import TracingMiddleware

    settings.configure(
        DEBUG=False,
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=[f"{__name__}.route_middleware"],
        LOGGING_CONFIG=None,
    )
    django.setup()
    urlpatterns[:] = [
        path("items/<int:item_id>", stock_view),
        path(FLUSH_PATH.lstrip("/"), flush_view),
    ]
    tracer = make_tracer("stock")
    opentracing.set_global_tracer(tracer)
    return TracingMiddleware(
        get_asgi_application(), tracer, excluded_paths=("/health", FLUSH_PATH)
    ), tracer


# -- serving -----------------------------------------------------------------------


def serve_uvicorn(app: Any, sock: socket.socket, on_exit: Optional[Any] = None) -> None:
    import uvicorn

    config = uvicorn.Config(app, log_level="warning", lifespan="auto", access_log=False)
    server = uvicorn.Server(config)
    print(f"READY {sock.getsockname()[1]}", flush=True)
    try:
        asyncio.run(server.serve(sockets=[sock]))
    finally:
        if on_exit is not None:
            on_exit()


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=("gateway", "inventory", "stock"))
    parser.add_argument("--downstream", default="")
    args = parser.parse_args(argv)
    watch_parent()
    sock = bind()
    try:
        if args.kind == "gateway":
            serve_uvicorn(gateway(args.downstream), sock)
        elif args.kind == "stock":
            app, tracer = stock()
            serve_uvicorn(app, sock, on_exit=lambda: tracer.close(5.0))
        else:
            from aiohttp import web

            application = inventory(args.downstream)
            print(f"READY {sock.getsockname()[1]}", flush=True)
            web.run_app(application, sock=sock, print=None, handle_signals=True)
    finally:
        stopped.set()
    return 0


if __name__ == "__main__":
    sys.exit(main())
