"""One demo service: a WSGI app on 127.0.0.1 that may call the next service.

    python -m demo.service NAME --tracer ours|py_zipkin [--encoding json|thrift]
                                [--framework wsgi|flask|fastapi] [--downstream URL]

Ours is a plain WSGI app (route set with ``set_route``), with
``--framework flask`` a Flask app instrumented as the README shows, or with
``--framework fastapi`` the async hop of ``demo.async_service``.

``GET /work/<item>`` does some "work" and, with ``--downstream``, calls the next
service's ``/work/<item>``; the JSON answer lists the B3 headers each hop
received, so callers can check what propagated. ``/_tracer/metrics`` returns
the tracer's counters and ``/_tracer/flush`` flushes it (both untraced).

The service binds port 0 and prints ``READY <port>`` once it serves. SIGTERM
or SIGINT stops it and closes the tracer, which delivers what is left; so does
the end of the process that started it (checked every half second), so a
killed runner never leaves services behind.
The collector comes from ``$ZIPKIN_URL``, as for any ``ZipkinTracer``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socketserver
import sys
import threading
import time
from typing import Any, Callable, Dict, Iterable, List, Optional
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import requests

B3_NAMES = ("b3", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "x-b3-flags")
# py_zipkin reads the multi headers by these exact names.
PY_ZIPKIN_NAMES = {
    "b3": "b3",
    "x-b3-traceid": "X-B3-TraceId",
    "x-b3-spanid": "X-B3-SpanId",
    "x-b3-parentspanid": "X-B3-ParentSpanId",
    "x-b3-sampled": "X-B3-Sampled",
    "x-b3-flags": "X-B3-Flags",
}
CONTROL_PATHS = ("/_tracer/metrics", "/_tracer/flush")
Environ = Dict[str, Any]
StartResponse = Callable[..., Any]


class ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def received_b3(environ: Environ) -> Dict[str, str]:
    headers = {}
    for name in B3_NAMES:
        value = environ.get("HTTP_" + name.upper().replace("-", "_"))
        if value is not None:
            headers[name] = value
    return headers


def answer(start_response: StartResponse, status: str, payload: Any) -> List[bytes]:
    body = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json")])
    return [body]


class Service:
    """The behaviour every demo service shares; subclasses add the tracing."""

    def __init__(self, name: str, downstream: Optional[str]) -> None:
        self.name = name
        self.downstream = downstream.rstrip("/") if downstream else None
        self.session = requests.Session()

    def call_downstream(self, item: str) -> Any:
        assert self.downstream is not None
        response = self.session.get(
            f"{self.downstream}/work/{item}", headers=self.outgoing_headers(), timeout=10
        )
        response.raise_for_status()
        return response.json()

    def outgoing_headers(self) -> Dict[str, str]:
        return {}

    def work(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if not path.startswith("/work/"):
            return answer(start_response, "404 Not Found", {"error": path})
        item = path[len("/work/") :]
        return answer(start_response, "200 OK", self.handle(item, environ))

    def handle(self, item: str, environ: Environ) -> Dict[str, Any]:
        """The work itself: the hops below this one, with the B3 headers each received."""
        time.sleep(0.002)  # the demo's stand-in for real work, so durations show in the UI
        hop = {"service": self.name, "received": received_b3(environ)}
        chain = [hop]
        if self.downstream:
            chain += self.call_downstream(item)["chain"]
        return {"item": item, "chain": chain}

    def control(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        raise NotImplementedError

    def app(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") in CONTROL_PATHS:
            return self.control(environ, start_response)
        return self.work(environ, start_response)

    def wsgi(self) -> Callable[[Environ, StartResponse], Iterable[bytes]]:
        return self.app

    def close(self) -> None:
        self.session.close()


class OurService(Service):
    """Traced with ZipkinTracer, TracingMiddleware and TracingSession."""

    def __init__(self, name: str, downstream: Optional[str], encoding: str) -> None:
        super().__init__(name, downstream)
        import opentracing
        from zipkin_tracer import ZipkinTracer
        from zipkin_tracer.requests import TracingSession

        self.tracer = ZipkinTracer(service_name=name, encoding=encoding, local_ip="127.0.0.1")
        opentracing.set_global_tracer(self.tracer)
        self.session = TracingSession(self.tracer)

    def wsgi(self) -> Callable[[Environ, StartResponse], Iterable[bytes]]:
        from zipkin_tracer.wsgi import TracingMiddleware, set_route

        def routed(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
            if str(environ.get("PATH_INFO", "")).startswith("/work/"):
                set_route(environ, "/work/<item>")
            return self.app(environ, start_response)

        return TracingMiddleware(routed, self.tracer, excluded_paths=("/health", *CONTROL_PATHS))

    def control(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ["PATH_INFO"] == "/_tracer/flush":
            return answer(start_response, "200 OK", {"flushed": self.tracer.flush(timeout=10.0)})
        return answer(start_response, "200 OK", self.tracer.metrics)

    def close(self) -> None:
        super().close()
        self.tracer.close(timeout=5.0)


class FlaskService(OurService):
    """Ours, written as the README's Flask quickstart: routes, ``install_flask_hooks``."""

    def wsgi(self) -> Callable[[Environ, StartResponse], Iterable[bytes]]:
        from flask import Flask, request

        from zipkin_tracer.wsgi import TracingMiddleware, install_flask_hooks

        app = Flask(self.name)
        app.wsgi_app = TracingMiddleware(  # type: ignore[method-assign]
            app.wsgi_app, self.tracer, excluded_paths=("/health", *CONTROL_PATHS)
        )
        install_flask_hooks(app)

        @app.route("/work/<item>")
        def work(item: str) -> Dict[str, Any]:
            return self.handle(item, request.environ)

        @app.route("/_tracer/flush")
        def flush() -> Dict[str, Any]:
            return {"flushed": self.tracer.flush(timeout=10.0)}

        @app.route("/_tracer/metrics")
        def metrics() -> Dict[str, Any]:
            return dict(self.tracer.metrics)

        return app


class PyZipkinService(Service):
    """Traced with py_zipkin (V2 JSON), the way a py_zipkin user writes it."""

    def __init__(self, name: str, downstream: Optional[str], port_ref: List[int]) -> None:
        super().__init__(name, downstream)
        self.port_ref = port_ref
        self.collector = os.environ.get("ZIPKIN_URL", "http://localhost:9411").rstrip("/")
        self.delivered = 0
        self.lock = threading.Lock()

    def transport(self, payload: Any) -> None:
        """py_zipkin's transport handler: one synchronous POST, not traced itself."""
        response = requests.post(
            f"{self.collector}/api/v2/spans",
            data=payload,
            headers={"Content-Type": "application/json", "b3": "0"},
            timeout=10,
        )
        response.raise_for_status()
        with self.lock:
            self.delivered += len(json.loads(payload))

    def outgoing_headers(self) -> Dict[str, str]:
        from py_zipkin.request_helpers import create_http_headers

        return {k: v for k, v in create_http_headers().items() if v is not None}

    def work(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        from py_zipkin import Kind
        from py_zipkin.encoding import Encoding
        from py_zipkin.request_helpers import extract_zipkin_attrs_from_headers
        from py_zipkin.zipkin import zipkin_span

        carrier = {PY_ZIPKIN_NAMES[k]: v for k, v in received_b3(environ).items()}
        attrs = extract_zipkin_attrs_from_headers(carrier, sample_rate=100.0)
        with zipkin_span(
            service_name=self.name,
            span_name=f"{environ.get('REQUEST_METHOD', 'GET')} /work/<item>",
            zipkin_attrs=attrs,
            sample_rate=None if attrs is not None else 100.0,
            transport_handler=self.transport,
            kind=Kind.SERVER,
            encoding=Encoding.V2_JSON,
            host="127.0.0.1",
            port=self.port_ref[0],
        ):
            if not self.downstream:
                return list(super().work(environ, start_response))
            with zipkin_span(service_name=self.name, span_name="GET", kind=Kind.CLIENT) as client:
                port = int(self.downstream.rsplit(":", 1)[1])
                client.add_sa_binary_annotation(port=port, host="127.0.0.1")
                return list(super().work(environ, start_response))

    def control(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        # py_zipkin sends synchronously when the root span ends: nothing to flush.
        with self.lock:
            return answer(start_response, "200 OK", {"spans_delivered": self.delivered})


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("--tracer", choices=("ours", "py_zipkin"), default="ours")
    parser.add_argument("--framework", choices=("wsgi", "flask", "fastapi"), default="wsgi")
    parser.add_argument("--encoding", choices=("json", "thrift"), default="json")
    parser.add_argument("--downstream")
    args = parser.parse_args(argv)
    if args.framework == "fastapi":
        from demo.async_service import serve

        return serve(args.name, args.downstream, args.encoding)

    port_ref = [0]
    service: Service
    if args.tracer == "ours" and args.framework == "flask":
        service = FlaskService(args.name, args.downstream, args.encoding)
    elif args.tracer == "ours":
        service = OurService(args.name, args.downstream, args.encoding)
    else:
        service = PyZipkinService(args.name, args.downstream, port_ref)
    server = make_server(
        "127.0.0.1", 0, service.wsgi(), server_class=ThreadingServer, handler_class=QuietHandler
    )
    port_ref[0] = server.server_port
    return serve_until_stopped(server, service.close)


def serve_until_stopped(server: Any, close: Callable[[], Any]) -> int:
    """Print ``READY <port>``, serve until SIGTERM/SIGINT or the parent ends, then ``close()``."""
    stopping = threading.Event()

    def stop(signum: int, frame: Any) -> None:
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    def watch_parent(parent: int) -> None:
        """Stop when the process that started us is gone (killed runner or test session)."""
        while not stopping.wait(0.5):
            if os.getppid() != parent:
                stop(signal.SIGTERM, None)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()
    print(f"READY {server.server_port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()
        close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
