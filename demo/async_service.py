"""The demo's async hop: a FastAPI service under uvicorn that calls the next one with httpx.

Instrumented as the README's FastAPI quickstart shows: ``TracingMiddleware``
added to the app, the tracer installed as the global one at startup, every
``httpx.AsyncClient`` traced by ``zipkin_tracer.httpx.install()``. It answers
like the other demo services (``demo.service``): ``GET /work/{item}`` with the
chain of hops below it, ``/_tracer/metrics`` and ``/_tracer/flush`` untraced.
"""

import asyncio
import os
import signal
import socket
import threading
from typing import Any, Dict, Optional

from demo.service import B3_NAMES, CONTROL_PATHS


def build_app(name: str, downstream: Optional[str], encoding: str) -> Any:
    import httpx
    from fastapi import FastAPI, Request

    import opentracing
    from zipkin_tracer import ZipkinTracer
    from zipkin_tracer import httpx as traced_httpx
    from zipkin_tracer.asgi import TracingMiddleware

    state: Dict[str, Any] = {}

    async def lifespan(app: FastAPI) -> Any:
        tracer = ZipkinTracer(service_name=name, encoding=encoding, local_ip="127.0.0.1")
        opentracing.set_global_tracer(tracer)
        traced_httpx.install()
        state["tracer"] = tracer
        state["client"] = httpx.AsyncClient(timeout=10)
        yield
        await state["client"].aclose()
        await asyncio.to_thread(tracer.close, 5.0)

    app = FastAPI(lifespan=lifespan)
    app.add_middleware(TracingMiddleware, excluded_paths=("/health", *CONTROL_PATHS))

    @app.get("/work/{item}")
    async def work(item: str, request: Request) -> Dict[str, Any]:
        await asyncio.sleep(0.002)  # the demo's stand-in for real work
        received = {k: request.headers[k] for k in B3_NAMES if k in request.headers}
        chain = [{"service": name, "received": received}]
        if downstream:
            response = await state["client"].get(f"{downstream.rstrip('/')}/work/{item}")
            response.raise_for_status()
            chain += response.json()["chain"]
        return {"item": item, "chain": chain}

    @app.get("/_tracer/flush")
    async def flush() -> Dict[str, Any]:
        return {"flushed": await asyncio.to_thread(state["tracer"].flush, 10.0)}

    @app.get("/_tracer/metrics")
    async def metrics() -> Dict[str, Any]:
        return dict(state["tracer"].metrics)

    return app


def serve(name: str, downstream: Optional[str], encoding: str) -> int:
    """Serve on a free port of 127.0.0.1 until SIGTERM, or until the parent is gone."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    server = uvicorn.Server(
        uvicorn.Config(build_app(name, downstream, encoding), log_level="warning", access_log=False)
    )
    stopped = threading.Event()
    parent = os.getppid()

    def watch_parent() -> None:
        while not stopped.wait(0.5):
            if os.getppid() != parent:
                os.kill(os.getpid(), signal.SIGTERM)  # uvicorn shuts down on SIGTERM
                return

    threading.Thread(target=watch_parent, daemon=True).start()
    print(f"READY {sock.getsockname()[1]}", flush=True)
    try:
        asyncio.run(server.serve(sockets=[sock]))
    finally:
        stopped.set()
    return 0
