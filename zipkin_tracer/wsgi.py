"""WSGI middleware: one server span per request, built on the OpenTracing API only.

::

    app.wsgi_app = TracingMiddleware(app.wsgi_app)      # Flask
    application = TracingMiddleware(application)        # any WSGI app

Span names: the default is the request method alone (``GET``), because a raw
path (``GET /users/8412``) gives one span name per user and floods Zipkin's
name index. When the route template is known, :func:`set_route` renames the
span ``GET /users/<int:id>`` and tags ``http.route``; :func:`install_flask_hooks`
does this for Flask.

Scopes: the span is activated only around code of the application (the call,
each ``next()`` of the body, its ``close()``) and closed before control goes
back to the server, so activation and deactivation always happen in the same
thread and context, and a server that never calls ``close()`` cannot leak an
active span into the next request on that thread. The span finishes when the
server closes the body, as PEP 3333 requires every server to do.
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import (
    Any,
    Callable,
    Dict,
    Iterable,
    Iterator,
    List,
    Optional,
    Tuple,
    Type,
)
from urllib.parse import quote

import opentracing
from opentracing import Scope, Span, Tracer, tags
from zipkin_tracer._instrumentation import named, record_error, span_started, start_server_span

__all__ = [
    "DEFAULT_EXCLUDED_PATHS",
    "SPAN_ENVIRON_KEY",
    "TracingMiddleware",
    "default_operation_name",
    "install_flask_hooks",
    "record_exception",
    "request_url",
    "set_route",
]

Environ = Dict[str, Any]
ExcInfo = Tuple[Type[BaseException], BaseException, Optional[TracebackType]]
StartResponse = Callable[..., Callable[[bytes], object]]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]

SPAN_ENVIRON_KEY = "zipkin_tracer.span"
"""The server span is also left in the environ under this key, for code that
runs the request on another thread or context than the one that called the app."""

_TRACE_ENVIRON_KEY = "zipkin_tracer.request_trace"

DEFAULT_EXCLUDED_PATHS = frozenset({"/health", "/healthz"})
"""Exact ``PATH_INFO`` values not traced by default: health probes run every few
seconds and would crowd real requests out of Zipkin."""

HTTP_ROUTE = "http.route"

_log = logging.getLogger(__name__)


def default_operation_name(environ: Environ) -> str:
    """The request method: few distinct values, so Zipkin's name index stays small."""
    return str(environ.get("REQUEST_METHOD") or "unknown")


def request_url(environ: Environ) -> str:
    """The URL the client asked for, rebuilt as PEP 3333 describes."""
    scheme = environ.get("wsgi.url_scheme", "http")
    host = environ.get("HTTP_HOST")
    if not host:
        host = environ.get("SERVER_NAME", "")
        port = str(environ.get("SERVER_PORT", ""))
        if port and port != ("443" if scheme == "https" else "80"):
            host = f"{host}:{port}"
    # PATH_INFO holds the raw bytes decoded as latin-1; quote them back as such.
    path = quote(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""), encoding="latin-1")
    query = environ.get("QUERY_STRING")
    return f"{scheme}://{host}{path}?{query}" if query else f"{scheme}://{host}{path}"


def _carrier(environ: Environ) -> Dict[str, str]:
    """HTTP_X_B3_TRACEID → x-b3-traceid, in one pass over the environ."""
    return {
        key[5:].replace("_", "-").lower(): value
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }


def set_route(environ: Environ, route: str) -> None:
    """Rename the request's server span ``METHOD route`` and tag ``http.route``.

    Call it from the framework once routing is done (``route`` is the template,
    e.g. ``/users/<int:id>``, never the raw path). Does nothing for requests the
    middleware does not trace.
    """
    span = environ.get(SPAN_ENVIRON_KEY)
    if span is None or not route:
        return
    try:
        span.set_operation_name(f"{default_operation_name(environ)} {route}")
        span.set_tag(HTTP_ROUTE, route)
    except Exception:
        _log.debug("could not name the span after route %r", route, exc_info=True)


def record_exception(environ: Environ, error: BaseException) -> None:
    """Mark the request's span as failed by ``error`` (for frameworks that turn
    exceptions into 500 responses, so the middleware never sees them)."""
    trace = environ.get(_TRACE_ENVIRON_KEY)
    if trace is not None:
        trace.fail(error)


def install_flask_hooks(app: Any) -> None:
    """Name spans after Flask's url_rule and record exceptions Flask turns into 500s.

    Use together with ``app.wsgi_app = TracingMiddleware(app.wsgi_app)``.
    """
    from flask import got_request_exception
    from flask import request as flask_request

    def _name_after_route() -> None:
        rule = flask_request.url_rule
        if rule is not None:
            set_route(flask_request.environ, rule.rule)

    def _on_exception(sender: Any, exception: BaseException, **extra: Any) -> None:
        record_exception(flask_request.environ, exception)

    app.before_request(_name_after_route)
    got_request_exception.connect(_on_exception, app, weak=False)


class _RequestTrace:
    """The span of one request and the bookkeeping around it; never raises."""

    __slots__ = ("tracer", "span", "_finished", "_failed")

    def __init__(self, tracer: Tracer, span: Span) -> None:
        self.tracer = tracer
        self.span = span
        self._finished = False
        self._failed = False

    def activate(self) -> Optional[Scope]:
        try:
            return self.tracer.scope_manager.activate(self.span, False)
        except Exception:
            _log.debug("could not activate the server span", exc_info=True)
            return None

    @staticmethod
    def deactivate(scope: Optional[Scope]) -> None:
        if scope is None:
            return
        try:
            scope.close()
        except Exception:
            _log.debug("could not close the server span's scope", exc_info=True)

    def fail(self, error: BaseException) -> None:
        """Tag ``error`` and log the exception, once per request."""
        if self._failed:
            return
        self._failed = True
        record_error(self.span, error, _log, "server span")

    def on_status(self, status: str, exc_info: Optional[ExcInfo]) -> None:
        try:
            code = int(status[:3])
            self.span.set_tag(tags.HTTP_STATUS_CODE, code)
            if exc_info is not None and exc_info[1] is not None:
                self.fail(exc_info[1])
            elif code >= 500 and not self._failed:
                self._failed = True
                self.span.set_tag(tags.ERROR, True)
                self.span.log_kv({"event": tags.ERROR, "message": status})
        except Exception:
            _log.debug("could not record status %r", status, exc_info=True)

    def wrap_start_response(self, start_response: StartResponse) -> StartResponse:
        def traced_start_response(
            status: str, headers: List[Tuple[str, str]], exc_info: Optional[ExcInfo] = None
        ) -> Callable[[bytes], object]:
            self.on_status(status, exc_info)
            if exc_info is None:
                return start_response(status, headers)
            return start_response(status, headers, exc_info)

        return traced_start_response

    def finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        try:
            self.span.finish()
        except Exception:
            _log.debug("could not finish the server span", exc_info=True)

    def wrap_body(self, body: Iterable[bytes], environ: Environ) -> Iterable[bytes]:
        """Return an iterable that finishes the span on close()."""
        try:
            wrapper = environ.get("wsgi.file_wrapper")
            if isinstance(wrapper, type) and isinstance(body, wrapper):
                # The server recognises its own file wrapper (sendfile); keep
                # the object and only hook its close().
                if self._hook_close(body):
                    return body
            if isinstance(body, (list, tuple)):
                return _ClosingSequence(body, self)
            return _TracedBody(body, self)
        except Exception:
            _log.debug("could not wrap the response body", exc_info=True)
            self.finish()
            return body

    def _hook_close(self, body: Any) -> bool:
        original = getattr(body, "close", None)
        try:
            body.close = lambda: self.close_body(original)
        except Exception:
            return False
        return True

    def close_body(self, close: Optional[Callable[[], object]]) -> None:
        """Run the app's ``close`` with the span active, then finish the span."""
        if close is None:
            self.finish()
            return
        scope = self.activate()
        try:
            close()
        except Exception as error:
            self.fail(error)
            raise
        finally:
            self.deactivate(scope)
            self.finish()


class _ClosingSequence:
    """A list/tuple body: no application code runs while it is iterated."""

    __slots__ = ("_body", "_trace")

    def __init__(self, body: Any, trace: _RequestTrace) -> None:
        self._body = body
        self._trace = trace

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._body)

    def __len__(self) -> int:  # lets servers such as wsgiref set Content-Length
        return len(self._body)

    def close(self) -> None:
        self._trace.close_body(getattr(self._body, "close", None))


class _TracedBody:
    """Any other iterable (generators included): app code runs on each next()."""

    __slots__ = ("_body", "_iterator", "_trace")

    def __init__(self, body: Iterable[bytes], trace: _RequestTrace) -> None:
        self._body = body
        self._iterator: Optional[Iterator[bytes]] = None
        self._trace = trace

    def __iter__(self) -> _TracedBody:
        return self

    def __next__(self) -> bytes:
        scope = self._trace.activate()
        try:
            if self._iterator is None:
                self._iterator = iter(self._body)
            return next(self._iterator)
        except StopIteration:
            raise
        except Exception as error:
            self._trace.fail(error)
            raise
        finally:
            self._trace.deactivate(scope)

    def close(self) -> None:
        self._trace.close_body(getattr(self._body, "close", None))


class TracingMiddleware:
    """Trace each request to ``app`` as a Zipkin server span.

    ``tracer`` None means :func:`opentracing.global_tracer`, looked up per
    request, so the tracer may be installed after the app is wrapped.
    ``operation_name(environ)`` names the span (default: the method, see
    :func:`set_route`). Requests whose ``PATH_INFO`` is in ``excluded_paths``
    are passed through untouched. ``start_span_cb(span, environ)`` may add tags.
    Tracing problems are logged at debug level and never reach the application.
    """

    def __init__(
        self,
        app: WSGIApp,
        tracer: Optional[Tracer] = None,
        *,
        operation_name: Callable[[Environ], str] = default_operation_name,
        excluded_paths: Iterable[str] = DEFAULT_EXCLUDED_PATHS,
        component: str = "wsgi",
        start_span_cb: Optional[Callable[[Span, Environ], None]] = None,
    ) -> None:
        self.app = app
        self._tracer = tracer
        self._operation_name = operation_name
        self._excluded_paths = frozenset(excluded_paths)
        self._component = component
        self._start_span_cb = start_span_cb

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") in self._excluded_paths:
            return self.app(environ, start_response)
        trace = self._start(environ)
        if trace is None:
            return self.app(environ, start_response)
        scope = trace.activate()
        try:
            body = self.app(environ, trace.wrap_start_response(start_response))
        except Exception as error:
            trace.fail(error)
            trace.finish()
            raise
        except BaseException:
            trace.finish()
            raise
        finally:
            trace.deactivate(scope)
        return trace.wrap_body(body, environ)

    def _start(self, environ: Environ) -> Optional[_RequestTrace]:
        try:
            tracer = self._tracer if self._tracer is not None else opentracing.global_tracer()
            name = named(self._operation_name, environ, default_operation_name, _log)
            span = start_server_span(tracer, name, _carrier(environ), self._tags(environ), _log)
        except Exception:
            _log.debug("could not start a server span; serving untraced", exc_info=True)
            return None
        trace = _RequestTrace(tracer, span)
        environ[SPAN_ENVIRON_KEY] = span
        environ[_TRACE_ENVIRON_KEY] = trace
        span_started(self._start_span_cb, span, environ, _log)
        return trace

    def _tags(self, environ: Environ) -> Dict[str, Any]:
        span_tags: Dict[str, Any] = {
            tags.SPAN_KIND: tags.SPAN_KIND_RPC_SERVER,
            tags.COMPONENT: self._component,
            tags.HTTP_METHOD: environ.get("REQUEST_METHOD", ""),
            tags.HTTP_URL: request_url(environ),
        }
        address = environ.get("REMOTE_ADDR")
        if address:
            if ":" in address:
                span_tags[tags.PEER_HOST_IPV6] = address
            elif address[0].isdigit():
                span_tags[tags.PEER_HOST_IPV4] = address
        port = environ.get("REMOTE_PORT")
        if port:
            try:
                span_tags[tags.PEER_PORT] = int(port)
            except (TypeError, ValueError):
                pass
        return span_tags
