"""Client spans for ``httpx``, sync and async, built on the OpenTracing API only.

Two ways in::

    client = httpx.AsyncClient(transport=AsyncTracingTransport())   # opt in per client
    client = httpx.Client(transport=TracingTransport())
    install()                       # or trace every httpx.Client and httpx.AsyncClient

Each HTTP exchange (each redirect hop too) is a client span, child of the
active span, with its context injected into the request headers; tags and
errors are those of :mod:`zipkin_tracer.requests`. The span ends when the
response headers arrive: reading the body is the caller's time, and a
streamed response that is never closed cannot leave a span open.

Requests carrying ``b3: 0`` and calls from the reporter's own thread are not
traced. Needs the ``httpx`` extra.
"""

from __future__ import annotations

import contextvars
import functools
import threading
from typing import Any, Callable, Optional

try:
    import httpx
except ImportError as error:  # pragma: no cover - exercised in a subprocess
    raise ImportError(
        "zipkin_tracer.httpx needs httpx: pip install 'zipkin-opentracing[httpx]'"
    ) from error

from opentracing import Span, Tracer
from zipkin_tracer import _http_client

__all__ = [
    "AsyncTracingTransport",
    "TracingTransport",
    "default_operation_name",
    "install",
    "uninstall",
]

OperationName = Callable[[httpx.Request], str]

# True while the installed hook traces an exchange, so a TracingTransport
# below it does not trace the same exchange twice.
_IN_HOOK: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "zipkin_tracer_httpx_hook", default=False
)


def default_operation_name(request: httpx.Request) -> str:
    """The method alone: one span name per method, as for server spans."""
    return request.method


class _Options:
    __slots__ = ("tracer", "operation_name", "component")

    def __init__(
        self, tracer: Optional[Tracer], operation_name: OperationName, component: str
    ) -> None:
        self.tracer = tracer
        self.operation_name = operation_name
        self.component = component

    def start(self, request: httpx.Request) -> Optional[Span]:
        if _IN_HOOK.get():
            return None
        return _http_client.start(
            self.tracer,
            request.method,
            str(request.url),
            request.headers,
            self.component,
            functools.partial(self.operation_name, request),
        )


def _failed(span: Span, error: BaseException) -> None:
    if isinstance(error, Exception):
        _http_client.record_exception(span, error)
    _http_client.finish(span)


def _answered(span: Span, response: httpx.Response) -> httpx.Response:
    _http_client.record_status(span, response.status_code)
    _http_client.finish(span)
    return response


def _traced(
    send: Callable[[httpx.Request], httpx.Response], request: httpx.Request, options: _Options
) -> httpx.Response:
    span = options.start(request)
    if span is None:
        return send(request)
    try:
        response = send(request)
    except BaseException as error:
        _failed(span, error)
        raise
    return _answered(span, response)


async def _traced_async(send: Any, request: httpx.Request, options: _Options) -> httpx.Response:
    span = options.start(request)
    if span is None:
        return await send(request)
    try:
        response = await send(request)
    except BaseException as error:  # CancelledError too: the span still ends
        _failed(span, error)
        raise
    return _answered(span, response)


class TracingTransport(httpx.BaseTransport):
    """Wraps a transport (default ``httpx.HTTPTransport()``) so each exchange is a client span.

    ``tracer`` None means :func:`opentracing.global_tracer`, looked up per request.
    """

    def __init__(
        self,
        transport: Optional[httpx.BaseTransport] = None,
        tracer: Optional[Tracer] = None,
        *,
        operation_name: OperationName = default_operation_name,
        component: str = "httpx",
    ) -> None:
        self.transport = transport if transport is not None else httpx.HTTPTransport()
        self._options = _Options(tracer, operation_name, component)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return _traced(self.transport.handle_request, request, self._options)

    def close(self) -> None:
        self.transport.close()


class AsyncTracingTransport(httpx.AsyncBaseTransport):
    """The async twin of :class:`TracingTransport` (default ``httpx.AsyncHTTPTransport()``)."""

    def __init__(
        self,
        transport: Optional[httpx.AsyncBaseTransport] = None,
        tracer: Optional[Tracer] = None,
        *,
        operation_name: OperationName = default_operation_name,
        component: str = "httpx",
    ) -> None:
        self.transport = transport if transport is not None else httpx.AsyncHTTPTransport()
        self._options = _Options(tracer, operation_name, component)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await _traced_async(self.transport.handle_async_request, request, self._options)

    async def aclose(self) -> None:
        await self.transport.aclose()


# -- install(): every client ---------------------------------------------------
#
# The hook sits on the clients' per-exchange method (one call per redirect hop,
# whatever transport or mount serves the URL). It is private to httpx, present
# from 0.18 to today; install() refuses clearly if a release drops it.

_lock = threading.Lock()
_installed: Optional[_Options] = None
_original_sync: Optional[Callable[..., httpx.Response]] = None
_original_async: Optional[Callable[..., Any]] = None


def _patched_sync(self: httpx.Client, request: httpx.Request) -> httpx.Response:
    original = _original_sync
    assert original is not None  # set before the patch, never cleared
    options = _installed
    if options is None:  # uninstalled while another patch sat on top of ours
        return original(self, request)
    return _traced(functools.partial(_hooked, original, self), request, options)


def _hooked(
    original: Callable[..., httpx.Response], client: httpx.Client, request: httpx.Request
) -> httpx.Response:
    token = _IN_HOOK.set(True)
    try:
        return original(client, request)
    finally:
        _IN_HOOK.reset(token)


async def _hooked_async(
    original: Callable[..., Any], client: httpx.AsyncClient, request: httpx.Request
) -> httpx.Response:
    token = _IN_HOOK.set(True)
    try:
        return await original(client, request)
    finally:
        _IN_HOOK.reset(token)


async def _patched_async(self: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    original = _original_async
    assert original is not None
    options = _installed
    if options is None:
        return await original(self, request)
    return await _traced_async(functools.partial(_hooked_async, original, self), request, options)


def install(
    tracer: Optional[Tracer] = None,
    *,
    operation_name: OperationName = default_operation_name,
    component: str = "httpx",
) -> None:
    """Trace every ``httpx.Client`` and ``httpx.AsyncClient`` (and ``httpx.get`` etc.).

    Idempotent: calling it again only replaces the options.
    """
    global _installed, _original_sync, _original_async
    for client in (httpx.Client, httpx.AsyncClient):
        if not callable(getattr(client, "_send_single_request", None)):
            raise RuntimeError(
                f"zipkin_tracer.httpx.install() does not support httpx {httpx.__version__}; "
                "use TracingTransport / AsyncTracingTransport instead"
            )
    with _lock:
        _installed = _Options(tracer, operation_name, component)
        if httpx.Client._send_single_request is not _patched_sync:
            _original_sync = httpx.Client._send_single_request
            httpx.Client._send_single_request = _patched_sync  # type: ignore[method-assign]
        if httpx.AsyncClient._send_single_request is not _patched_async:
            _original_async = httpx.AsyncClient._send_single_request
            httpx.AsyncClient._send_single_request = _patched_async  # type: ignore[method-assign]


def uninstall() -> None:
    """Undo :func:`install`; harmless when not installed."""
    global _installed
    with _lock:
        _installed = None
        if httpx.Client._send_single_request is _patched_sync and _original_sync is not None:
            httpx.Client._send_single_request = _original_sync  # type: ignore[method-assign]
        if httpx.AsyncClient._send_single_request is _patched_async and _original_async is not None:
            httpx.AsyncClient._send_single_request = _original_async  # type: ignore[method-assign]
