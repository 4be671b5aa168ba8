"""ASGI 3 middleware: one server span per HTTP request, built on the OpenTracing API only.

::

    app = FastAPI()
    app.add_middleware(TracingMiddleware)        # Starlette / FastAPI
    application = TracingMiddleware(application) # any ASGI 3 app (Django's too)

The span is active while the application runs (children started in the
request's task, in tasks it creates and in ``asyncio.to_thread`` work nest
under it) and finishes when the response is complete: after the last body
chunk of a streaming response, or when the application returns without
completing it (a client that disconnected, an app that never answered).

Names and tags are those of :mod:`zipkin_tracer.wsgi`: the method alone, then
``METHOD /route/{template}`` once Starlette or FastAPI routing matched (read
from ``scope["route"]``; other frameworks call :func:`set_route`). The raw
path is never a span name.

Only ``http`` scopes are traced: ``lifespan`` (startup and shutdown) is no
request, and a ``websocket`` is a long-lived connection whose messages a
single span would not describe; both pass through untouched.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, Iterable, MutableMapping, Optional

import opentracing
from opentracing import Scope, Span, Tracer, tags
from zipkin_tracer._instrumentation import named, record_error, span_started, start_server_span
from zipkin_tracer.wsgi import DEFAULT_EXCLUDED_PATHS, HTTP_ROUTE

__all__ = [
    "DEFAULT_EXCLUDED_PATHS",
    "SPAN_SCOPE_KEY",
    "TracingMiddleware",
    "default_operation_name",
    "request_url",
    "set_route",
]

ASGIScope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[ASGIScope, Receive, Send], Awaitable[None]]

SPAN_SCOPE_KEY = "zipkin_tracer.span"
"""The server span is also left in the ASGI scope under this key."""

_TRACE_SCOPE_KEY = "zipkin_tracer.request_trace"
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}

_log = logging.getLogger(__name__)


def default_operation_name(scope: ASGIScope) -> str:
    """The request method: few distinct values, so Zipkin's name index stays small."""
    return str(scope.get("method") or "unknown")


def _headers(scope: ASGIScope) -> Dict[str, str]:
    """Header names lower-cased (ASGI already does), repeated headers joined by commas."""
    carrier: Dict[str, str] = {}
    for name, value in scope.get("headers") or ():
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        carrier[key] = f"{carrier[key]},{text}" if key in carrier else text
    return carrier


def request_url(scope: ASGIScope, headers: Optional[Dict[str, str]] = None) -> str:
    """The URL the client asked for: the Host header, else the server address."""
    scheme = scope.get("scheme") or "http"
    host = (headers if headers is not None else _headers(scope)).get("host")
    if not host:
        server = scope.get("server")
        if server and server[1] is not None:
            host = str(server[0])
            if server[1] != _DEFAULT_PORTS.get(scheme):
                host = f"{host}:{server[1]}"
        elif server:
            host = str(server[0])  # a unix socket path
        else:
            host = ""
    raw = scope.get("raw_path")
    if raw:
        path = raw.decode("latin-1").split("?", 1)[0]
    else:
        path = scope.get("root_path", "") + scope.get("path", "")
    query = scope.get("query_string") or b""
    if query:
        return f"{scheme}://{host}{path}?{query.decode('latin-1')}"
    return f"{scheme}://{host}{path}"


def set_route(scope: ASGIScope, route: str) -> None:
    """Name the request's server span ``METHOD route`` and tag ``http.route``.

    For frameworks whose routing the middleware does not read (Starlette's and
    FastAPI's it reads itself). Does nothing for requests it does not trace.
    """
    trace = scope.get(_TRACE_SCOPE_KEY)
    if trace is not None and route:
        trace.route = route


def _starlette_route(scope: ASGIScope, entry: Dict[str, Any]) -> Optional[str]:
    """The matched route's template, with the templates of the Mounts it sits under.

    ``entry`` is the scope as the middleware received it (before routing).
    """
    route = scope.get("route")
    template = getattr(route, "path", None)
    if not isinstance(template, str) or not template:
        return None
    root_path = str(entry.get("root_path", ""))
    prefix = str(scope.get("root_path", ""))
    if prefix == root_path:
        return template  # not mounted: the common case
    # Mounted: the routers rewrote the scope on the way down, so match the
    # request again from the top with Starlette's own matching to collect the
    # Mount templates (a Mount's matched path may hold path parameters).
    routes = getattr(getattr(scope.get("app"), "router", None), "routes", None)
    found = _mounted_template(routes, dict(entry, path_params={})) if routes else None
    if found:
        return found
    # A mounted sub-application replaced scope["app"]: the matched prefix as is.
    return (prefix[len(root_path) :] if prefix.startswith(root_path) else prefix) + template


def _mounted_template(routes: Any, scope: Dict[str, Any], depth: int = 0) -> Optional[str]:
    for candidate in routes:
        try:
            match, child = candidate.matches(scope)
        except Exception:
            return None
        if getattr(match, "name", "") != "FULL":
            continue
        path = getattr(candidate, "path", None)
        if not isinstance(path, str):
            return None
        inner = getattr(candidate, "routes", None)
        if inner and depth < 8:
            rest = _mounted_template(inner, {**scope, **child}, depth + 1)
            return path + rest if rest else None
        return path
    return None


class _RequestTrace:
    """The span of one request and what happened to it; never raises."""

    __slots__ = (
        "tracer",
        "span",
        "entry",
        "route",
        "status",
        "trailers",
        "complete",
        "disconnected",
        "_failed",
        "_finished",
    )

    def __init__(self, tracer: Tracer, span: Span, entry: Dict[str, Any]) -> None:
        self.tracer = tracer
        self.span = span
        self.entry = entry
        self.route: Optional[str] = None
        self.status: Optional[int] = None
        self.trailers = False
        self.complete = False
        self.disconnected = False
        self._failed = False
        self._finished = False

    def activate(self) -> Optional[Scope]:
        try:
            return self.tracer.scope_manager.activate(self.span, False)
        except Exception:
            _log.debug("could not activate the server span", exc_info=True)
            return None

    @staticmethod
    def deactivate(scope: Optional[Scope]) -> None:
        if scope is not None:
            try:
                scope.close()
            except Exception:
                _log.debug("could not close the server span's scope", exc_info=True)

    def fail(self, error: BaseException) -> None:
        if not self._failed:
            self._failed = True
            record_error(self.span, error, _log, "server span")

    def on_send(self, message: Message) -> None:
        try:
            kind = message.get("type")
            if kind == "http.response.start":
                self.trailers = bool(message.get("trailers", False))
                self.status = int(message["status"])
                self.span.set_tag(tags.HTTP_STATUS_CODE, self.status)
                if self.status >= 500 and not self._failed:
                    # An exception raised after this (Starlette answers 500
                    # first, then re-raises) still records its details.
                    self.span.set_tag(tags.ERROR, True)
                    self.span.log_kv({"event": tags.ERROR, "message": str(self.status)})
            elif kind == "http.response.body":
                if not message.get("more_body", False) and not self.trailers:
                    self.complete = True
            elif kind == "http.response.trailers":
                if not message.get("more_trailers", False):
                    self.complete = True
            elif kind == "http.response.pathsend":  # the body is a file the server sends
                self.complete = True
        except Exception:
            _log.debug("could not record the response message", exc_info=True)

    def on_receive(self, message: Message) -> None:
        if not self.disconnected and message.get("type") == "http.disconnect" and not self.complete:
            self.disconnected = True
            try:
                self.span.log_kv({"event": "client disconnected"})
            except Exception:
                _log.debug("could not record the disconnect", exc_info=True)

    def finish(self, scope: ASGIScope) -> None:
        if self._finished:
            return
        self._finished = True
        try:
            route = self.route or _starlette_route(scope, self.entry)
            if route:
                self.span.set_operation_name(f"{default_operation_name(scope)} {route}")
                self.span.set_tag(HTTP_ROUTE, route)
            if not self.complete:
                self.span.log_kv({"event": "response incomplete"})
            self.span.finish()
        except Exception:
            _log.debug("could not finish the server span", exc_info=True)


class TracingMiddleware:
    """Trace each HTTP request to ``app`` as a Zipkin server span.

    ``tracer`` None means :func:`opentracing.global_tracer`, looked up per
    request, so the tracer may be installed after the app is built.
    ``operation_name(scope)`` names the span until a route is known. Requests
    whose ``path`` is in ``excluded_paths`` pass through untouched.
    ``start_span_cb(span, scope)`` may add tags. Tracing problems are logged
    at debug level and never reach the application; the application's own
    exceptions are recorded on the span (``error``) and re-raised.
    """

    def __init__(
        self,
        app: ASGIApp,
        tracer: Optional[Tracer] = None,
        *,
        operation_name: Callable[[ASGIScope], str] = default_operation_name,
        excluded_paths: Iterable[str] = DEFAULT_EXCLUDED_PATHS,
        component: str = "asgi",
        start_span_cb: Optional[Callable[[Span, ASGIScope], None]] = None,
    ) -> None:
        self.app = app
        self._tracer = tracer
        self._operation_name = operation_name
        self._excluded_paths = frozenset(excluded_paths)
        self._component = component
        self._start_span_cb = start_span_cb

    async def __call__(self, scope: ASGIScope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http" or scope.get("path") in self._excluded_paths:
            await self.app(scope, receive, send)
            return
        trace = self._start(scope)
        if trace is None:
            await self.app(scope, receive, send)
            return

        async def traced_receive() -> Message:
            message = await receive()
            trace.on_receive(message)
            return message

        async def traced_send(message: Message) -> None:
            trace.on_send(message)
            await send(message)

        active = trace.activate()
        try:
            await self.app(scope, traced_receive, traced_send)
        except Exception as error:
            trace.fail(error)
            raise
        finally:
            # Cancellation (a server dropping the request) finishes the span too.
            trace.deactivate(active)
            trace.finish(scope)

    def _start(self, scope: ASGIScope) -> Optional[_RequestTrace]:
        try:
            tracer = self._tracer if self._tracer is not None else opentracing.global_tracer()
            headers = _headers(scope)
            name = named(self._operation_name, scope, default_operation_name, _log)
            span = start_server_span(tracer, name, headers, self._tags(scope, headers), _log)
        except Exception:
            _log.debug("could not start a server span; serving untraced", exc_info=True)
            return None
        trace = _RequestTrace(tracer, span, dict(scope))  # before routing rewrites it
        scope[SPAN_SCOPE_KEY] = span
        scope[_TRACE_SCOPE_KEY] = trace
        span_started(self._start_span_cb, span, scope, _log)
        return trace

    def _tags(self, scope: ASGIScope, headers: Dict[str, str]) -> Dict[str, Any]:
        span_tags: Dict[str, Any] = {
            tags.SPAN_KIND: tags.SPAN_KIND_RPC_SERVER,
            tags.COMPONENT: self._component,
            tags.HTTP_METHOD: scope.get("method", ""),
            tags.HTTP_URL: request_url(scope, headers),
        }
        client = scope.get("client")
        if client:
            address = str(client[0])
            if ":" in address:
                span_tags[tags.PEER_HOST_IPV6] = address
            elif address[:1].isdigit():
                span_tags[tags.PEER_HOST_IPV4] = address
            if isinstance(client[1], int) and client[1] > 0:
                span_tags[tags.PEER_PORT] = client[1]
        return span_tags
