"""A service traced with the OpenTelemetry Python SDK, as its users write one.

    python -m tests.integration.otel_service NAME [--downstream URL]

TracerProvider + BatchSpanProcessor + the Zipkin JSON exporter
(``$ZIPKIN_URL/api/v2/spans``), the WSGI middleware for incoming requests and
the requests instrumentation for outgoing ones. Propagators come from
``$OTEL_PROPAGATORS`` (unset: OpenTelemetry's default, tracecontext and
baggage), read by the SDK itself.

``GET /work/<item>`` calls the downstream's ``/work/<item>`` unless the item
is ``leaf``; the answer lists the trace headers each hop received and this
service's trace ID. ``/_tracer/flush`` force-flushes the provider (not
traced). Prints ``READY <port>``; SIGTERM, or the end of the parent process,
stops it after a last flush.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Callable, Dict, Iterable, List, Optional
from wsgiref.simple_server import make_server

import requests

from demo.service import QuietHandler, ThreadingServer, answer, serve_until_stopped

TRACE_HEADERS = (
    "traceparent",
    "tracestate",
    "baggage",
    "b3",
    "x-b3-traceid",
    "x-b3-spanid",
    "x-b3-parentspanid",
    "x-b3-sampled",
    "x-b3-flags",
)
Environ = Dict[str, Any]


def received(environ: Environ) -> Dict[str, str]:
    found = {}
    for name in TRACE_HEADERS:
        value = environ.get("HTTP_" + name.upper().replace("-", "_"))
        if value is not None:
            found[name] = value
    return found


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("--downstream")
    args = parser.parse_args(argv)

    from opentelemetry import trace
    from opentelemetry.exporter.zipkin.json import ZipkinExporter
    from opentelemetry.instrumentation.requests import RequestsInstrumentor
    from opentelemetry.instrumentation.wsgi import OpenTelemetryMiddleware
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    collector = os.environ.get("ZIPKIN_URL", "http://localhost:9411").rstrip("/")
    provider = TracerProvider(resource=Resource.create({"service.name": args.name}))
    provider.add_span_processor(
        BatchSpanProcessor(ZipkinExporter(endpoint=f"{collector}/api/v2/spans"))
    )
    trace.set_tracer_provider(provider)
    RequestsInstrumentor().instrument()
    session = requests.Session()
    downstream = args.downstream.rstrip("/") if args.downstream else None

    def work(environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        if not path.startswith("/work/"):
            return answer(start_response, "404 Not Found", {"error": path})
        item = path[len("/work/") :]
        context = trace.get_current_span().get_span_context()
        chain = [{"service": args.name, "received": received(environ)}]
        if downstream and item != "leaf":
            response = session.get(f"{downstream}/work/{item}", timeout=10)
            response.raise_for_status()
            chain += response.json()["chain"]
        body = {"item": item, "chain": chain, "trace_id": f"{context.trace_id:032x}"}
        return answer(start_response, "200 OK", body)

    traced = OpenTelemetryMiddleware(work)

    def app(environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/_tracer/flush":
            return answer(start_response, "200 OK", {"flushed": provider.force_flush(10000)})
        return traced(environ, start_response)  # type: ignore[no-any-return]

    server = make_server(
        "127.0.0.1", 0, app, server_class=ThreadingServer, handler_class=QuietHandler
    )
    return serve_until_stopped(server, provider.shutdown)


if __name__ == "__main__":
    sys.exit(main())
