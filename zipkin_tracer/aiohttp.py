"""Spans for aiohttp: clients through a ``TraceConfig``, servers through a middleware.

::

    session = aiohttp.ClientSession(trace_configs=[trace_config()])
    app = web.Application(middlewares=[middleware])      # or make_middleware(tracer, ...)

Client: each ``session.request()`` is one client span, child of the active
span, its context injected into the request headers; tags and errors as in
:mod:`zipkin_tracer.requests`. aiohttp follows redirects inside that one call
and builds every hop from the same headers, so redirects stay in its span
(the status is the final response's). The span ends when the response
headers arrive.

Server: one server span per request, tags and names as in
:mod:`zipkin_tracer.asgi` (``GET /items/{id}`` from aiohttp's route, never
the raw path), active while the handler runs. It finishes when the handler
returns or raises: a streamed body (``StreamResponse``) is written by then;
a plain ``Response`` body is written by the server just after. Raised
``web.HTTPException`` responses are recorded by their status; other
exceptions get the ``error`` tag and are re-raised.

Needs the ``aiohttp`` extra.
"""

from __future__ import annotations

import functools
import logging
from typing import Any, Awaitable, Callable, Dict, Iterable, Optional, Tuple

try:
    from aiohttp import ClientResponse, TraceConfig, TraceRequestEndParams, web
    from aiohttp.tracing import TraceRequestExceptionParams, TraceRequestStartParams
except ImportError as error:  # pragma: no cover - exercised in a subprocess
    raise ImportError(
        "zipkin_tracer.aiohttp needs aiohttp: pip install 'zipkin-opentracing[aiohttp]'"
    ) from error

import opentracing
from opentracing import Scope, Span, Tracer, tags
from zipkin_tracer import _http_client
from zipkin_tracer._instrumentation import span_started, start_server_span
from zipkin_tracer.wsgi import DEFAULT_EXCLUDED_PATHS, HTTP_ROUTE

__all__ = [
    "DEFAULT_EXCLUDED_PATHS",
    "REQUEST_SPAN_KEY",
    "default_operation_name",
    "make_middleware",
    "middleware",
    "trace_config",
]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

REQUEST_SPAN_KEY: Any = (
    web.RequestKey("zipkin_tracer.span", Span)
    if hasattr(web, "RequestKey")
    else "zipkin_tracer.span"
)
"""The server span is also left on the request (``request[REQUEST_SPAN_KEY]``)."""

_SPAN_ATTR = "zipkin_tracer_span"

_log = logging.getLogger(__name__)


def default_operation_name(method: str) -> str:
    """The method alone: one span name per method, as for every HTTP span here."""
    return method


# -- client --------------------------------------------------------------------


def trace_config(
    tracer: Optional[Tracer] = None,
    *,
    operation_name: Callable[[str, str], str] = lambda method, url: method,
    component: str = "aiohttp",
) -> TraceConfig:
    """A ``TraceConfig`` that makes each request of a ``ClientSession`` a client span.

    ``tracer`` None means :func:`opentracing.global_tracer`, looked up per
    request. ``operation_name(method, url)`` names the span.
    """

    async def on_start(session: Any, context: Any, params: TraceRequestStartParams) -> None:
        method, url = params.method, str(params.url)
        span = _http_client.start(
            tracer,
            method,
            url,
            params.headers,
            component,
            functools.partial(operation_name, method, url),
        )
        setattr(context, _SPAN_ATTR, span)

    async def on_end(session: Any, context: Any, params: TraceRequestEndParams) -> None:
        span = getattr(context, _SPAN_ATTR, None)
        if span is not None:
            response: ClientResponse = params.response
            _http_client.record_status(span, response.status)
            _http_client.finish(span)

    async def on_exception(session: Any, context: Any, params: TraceRequestExceptionParams) -> None:
        span = getattr(context, _SPAN_ATTR, None)
        if span is not None:
            if isinstance(params.exception, Exception):
                _http_client.record_exception(span, params.exception)
            _http_client.finish(span)

    config = TraceConfig()
    config.on_request_start.append(on_start)
    config.on_request_end.append(on_end)
    config.on_request_exception.append(on_exception)
    return config


# -- server --------------------------------------------------------------------


def _route(request: web.Request) -> Optional[str]:
    try:
        resource = request.match_info.route.resource
        return resource.canonical if resource is not None else None
    except Exception:
        return None


class _Server:
    """The middleware's state: options, and the span work for one request."""

    def __init__(
        self,
        tracer: Optional[Tracer],
        excluded_paths: Iterable[str],
        component: str,
        start_span_cb: Optional[Callable[[Span, web.Request], None]],
    ) -> None:
        self.tracer = tracer
        self.excluded_paths = frozenset(excluded_paths)
        self.component = component
        self.start_span_cb = start_span_cb

    def start(self, request: web.Request) -> Optional[Tuple[Span, Scope]]:
        try:
            tracer = self.tracer if self.tracer is not None else opentracing.global_tracer()
            route = _route(request)
            span_tags = self.tags(request)
            name = default_operation_name(request.method)
            if route:
                span_tags[HTTP_ROUTE] = route
                name = f"{name} {route}"
            carrier = {key.lower(): value for key, value in request.headers.items()}
            span = start_server_span(tracer, name, carrier, span_tags, _log)
            scope = tracer.scope_manager.activate(span, False)
        except Exception:
            _log.debug("could not start a server span; serving untraced", exc_info=True)
            return None
        request[REQUEST_SPAN_KEY] = span
        span_started(self.start_span_cb, span, request, _log)
        return span, scope

    def tags(self, request: web.Request) -> Dict[str, Any]:
        span_tags: Dict[str, Any] = {
            tags.SPAN_KIND: tags.SPAN_KIND_RPC_SERVER,
            tags.COMPONENT: self.component,
            tags.HTTP_METHOD: request.method,
            tags.HTTP_URL: str(request.url),
        }
        peer = request.transport.get_extra_info("peername") if request.transport else None
        if isinstance(peer, (tuple, list)) and len(peer) >= 2:
            address = str(peer[0])
            if ":" in address:
                span_tags[tags.PEER_HOST_IPV6] = address
            elif address[:1].isdigit():
                span_tags[tags.PEER_HOST_IPV4] = address
            if isinstance(peer[1], int):
                span_tags[tags.PEER_PORT] = peer[1]
        return span_tags

    @staticmethod
    def status(span: Span, code: int) -> None:
        try:
            span.set_tag(tags.HTTP_STATUS_CODE, code)
            if code >= 500:
                span.set_tag(tags.ERROR, True)
        except Exception:
            _log.debug("could not record status %r", code, exc_info=True)

    @staticmethod
    def finish(span: Span, scope: Scope) -> None:
        try:
            scope.close()
        except Exception:
            _log.debug("could not close the server span's scope", exc_info=True)
        _http_client.finish(span)

    async def __call__(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in self.excluded_paths:
            return await handler(request)
        started = self.start(request)
        if started is None:
            return await handler(request)
        span, scope = started
        try:
            response = await handler(request)
        except web.HTTPException as answer:  # a response raised as an exception
            self.status(span, answer.status)
            raise
        except Exception as error:
            _http_client.record_exception(span, error)
            raise
        else:
            self.status(span, response.status)
            return response
        finally:
            self.finish(span, scope)


def make_middleware(
    tracer: Optional[Tracer] = None,
    *,
    excluded_paths: Iterable[str] = DEFAULT_EXCLUDED_PATHS,
    component: str = "aiohttp",
    start_span_cb: Optional[Callable[[Span, web.Request], None]] = None,
) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """An ``aiohttp.web`` middleware with these options (``tracer`` None: the global one)."""
    server = _Server(tracer, excluded_paths, component, start_span_cb)

    @web.middleware
    async def tracing_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        return await server(request, handler)

    return tracing_middleware


middleware = make_middleware()
"""The middleware with the defaults: the global tracer, looked up per request."""
