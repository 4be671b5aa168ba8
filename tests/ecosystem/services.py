"""Three services instrumented only by contrib libraries: Flask → Django → gRPC.

``storefront`` (Flask under Flask-OpenTracing) calls ``stock-web`` (Django under
django_opentracing) through requests-opentracing; ``stock-web`` asks ``inventory``
(a gRPC server) through grpcio-opentracing's client interceptor. Each service has
its own ZipkinTracer; only B3 headers and gRPC metadata carry the trace.
"""

from __future__ import annotations

import threading
from concurrent import futures
from typing import Any, Callable, Dict, List

import django
import grpc
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import path
from flask import Flask
from flask_opentracing import FlaskTracing
from grpc_opentracing import open_tracing_client_interceptor, open_tracing_server_interceptor
from grpc_opentracing.grpcext import intercept_channel, intercept_server
from requests_opentracing import SessionTracing
from werkzeug.serving import make_server

from zipkin_tracer import ZipkinTracer

CHECK = "/inventory.Inventory/Check"
FAILING_ITEM = "fire"


class WsgiServer:
    """A threaded werkzeug server on 127.0.0.1; ``stop()`` shuts it down."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(10)


def start_inventory(tracer: ZipkinTracer) -> tuple[grpc.Server, str]:
    """The gRPC service: raw bytes in and out, no generated code needed."""

    def check(request: bytes, context: grpc.ServicerContext) -> bytes:
        if request.decode() == FAILING_ITEM:
            raise RuntimeError("inventory on fire")
        return b"in stock: " + request

    handler = grpc.method_handlers_generic_handler(
        "inventory.Inventory", {"Check": grpc.unary_unary_rpc_method_handler(check)}
    )
    server = intercept_server(
        grpc.server(futures.ThreadPoolExecutor(max_workers=4)),
        open_tracing_server_interceptor(tracer),
    )
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, f"127.0.0.1:{port}"


# The Django app's wiring, filled by django_app() (Django configures once per process).
_inventory: Dict[str, Any] = {}


def stock(request: HttpRequest, item: str) -> HttpResponse:
    answer = _inventory["check"](item.encode(), timeout=10)
    return HttpResponse(answer, content_type="text/plain")


urlpatterns: List[Any] = [path("stock/<str:item>", stock)]


def django_app(tracer: ZipkinTracer, inventory_target: str) -> Any:
    from django.core.wsgi import get_wsgi_application
    from django_opentracing import DjangoTracing

    settings.configure(
        DEBUG=False,
        SECRET_KEY="ecosystem-tests",
        ALLOWED_HOSTS=["127.0.0.1"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=["django_opentracing.OpenTracingMiddleware"],
        OPENTRACING_TRACING=DjangoTracing(tracer),
        INSTALLED_APPS=[],
    )
    django.setup()
    channel = intercept_channel(
        grpc.insecure_channel(inventory_target), open_tracing_client_interceptor(tracer)
    )
    _inventory["check"] = channel.unary_unary(CHECK)
    _inventory["channel"] = channel
    return get_wsgi_application()


def flask_app(tracer: ZipkinTracer, stock_url: str) -> Flask:
    app = Flask("storefront")
    FlaskTracing(tracer, True, app)
    session = SessionTracing(tracer, propagate=True)

    @app.route("/checkout")
    def checkout() -> Dict[str, int]:
        items = ("widget", FAILING_ITEM)
        return {
            item: session.get(f"{stock_url}/stock/{item}", timeout=10).status_code for item in items
        }

    return app
