"""Client spans for the ``requests`` library, built on the OpenTracing API only.

Two ways in::

    session = TracingSession()          # opt in per session
    install()                           # or trace every requests.Session

Each call of ``Session.send`` (each HTTP exchange, redirects included: a
redirect hop is its own span, a sibling of the first) becomes a client span,
child of the active span, and its context is injected into the outgoing
headers. With ``stream=True`` the span ends when the headers arrive.

Requests that already carry the header ``b3: 0`` are not traced: that header
says "do not trace this", and it is what our reporter sends with its own POSTs
to the collector, so the tracer never traces itself. Neither are calls made
on the reporter's own thread (``TRACING_SUPPRESSED`` is set there).
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import threading
from typing import Any, Callable, Dict, Optional, Union
from urllib.parse import urlsplit

import requests

import opentracing
from opentracing import Format, Span, Tracer, tags
from zipkin_tracer._instrumentation import is_tracing_suppressed, named, record_error

__all__ = [
    "TracingSession",
    "default_operation_name",
    "default_peer_service",
    "install",
    "uninstall",
]

OperationName = Callable[[requests.PreparedRequest], str]
#: ``peer_service=``: a fixed name, a callable naming the service a request
#: goes to (None: none), or None for no remote service name at all.
PeerService = Union[str, Callable[[requests.PreparedRequest], Optional[str]], None]
_Send = Callable[..., requests.Response]

_DEFAULT_PORTS = {"http": 80, "https": 443}

_log = logging.getLogger(__name__)


def default_operation_name(request: requests.PreparedRequest) -> str:
    """The method alone: one span name per method, as for server spans."""
    return request.method or "GET"


def default_peer_service(request: requests.PreparedRequest) -> Optional[str]:
    """The host name the request goes to; None for an IP address, which names no service.

    Zipkin draws a dependency link to a service that sends no spans of its own
    (a database proxy, a third-party API) only from the client span's remote
    service name, so without one such services are missing from the graph.
    """
    host = urlsplit(request.url or "").hostname
    if not host or _ip(host) is not None:
        return None
    return host


class _Options:
    __slots__ = ("tracer", "operation_name", "component", "peer_service")

    def __init__(
        self,
        tracer: Optional[Tracer],
        operation_name: OperationName,
        component: str,
        peer_service: PeerService = default_peer_service,
    ) -> None:
        self.tracer = tracer
        self.operation_name = operation_name
        self.component = component
        self.peer_service = peer_service


_DEFAULTS = _Options(None, default_operation_name, "requests")


def _ip(host: str) -> Union[ipaddress.IPv4Address, ipaddress.IPv6Address, None]:
    if ":" in host or host[-1].isdigit():
        try:
            return ipaddress.ip_address(host)
        except ValueError:
            return None
    return None


def _peer_service(request: requests.PreparedRequest, option: PeerService) -> Optional[str]:
    if option is None or isinstance(option, str):
        return option
    try:
        return option(request)
    except Exception:
        _log.debug("peer_service callback failed", exc_info=True)
        return None


def _peer_tags(span_tags: Dict[str, Any], url: str) -> str:
    """Add peer.* tags; return the URL without user:password."""
    parts = urlsplit(url)
    host = parts.hostname
    if host:
        span_tags[tags.PEER_HOSTNAME] = host
        ip = _ip(host)
        if ip is not None:
            key = tags.PEER_HOST_IPV4 if ip.version == 4 else tags.PEER_HOST_IPV6
            span_tags[key] = host
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = _DEFAULT_PORTS.get(parts.scheme)
    if port is not None:
        span_tags[tags.PEER_PORT] = port
    if "@" in parts.netloc:
        url = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
    return url


def _start_span(request: requests.PreparedRequest, options: _Options) -> Optional[Span]:
    """A started, injected client span; None when not traced or tracing fails."""
    try:
        if request.headers.get("b3") == "0" or is_tracing_suppressed():
            return None
        tracer = options.tracer if options.tracer is not None else opentracing.global_tracer()
        span_tags: Dict[str, Any] = {
            tags.SPAN_KIND: tags.SPAN_KIND_RPC_CLIENT,
            tags.COMPONENT: options.component,
            tags.HTTP_METHOD: request.method,
        }
        span_tags[tags.HTTP_URL] = _peer_tags(span_tags, request.url or "")
        service = _peer_service(request, options.peer_service)
        if service:
            span_tags[tags.PEER_SERVICE] = service
        name = named(options.operation_name, request, default_operation_name, _log)
        span = tracer.start_span(operation_name=name, tags=span_tags)
    except Exception:
        _log.debug("could not start a client span; sending untraced", exc_info=True)
        return None
    try:
        carrier: Dict[str, str] = {}
        tracer.inject(span.context, Format.HTTP_HEADERS, carrier)
        request.headers.update(carrier)
    except Exception:
        _log.debug("could not inject the span context", exc_info=True)
    return span


def _record_response(span: Span, response: requests.Response) -> None:
    try:
        # After redirects, history[0] is this exchange's own response.
        first = response.history[0] if response.history else response
        code = first.status_code
        span.set_tag(tags.HTTP_STATUS_CODE, code)
        if code >= 500:
            span.set_tag(tags.ERROR, True)
    except Exception:
        _log.debug("could not record the response on the client span", exc_info=True)


def _finish(span: Span) -> None:
    try:
        span.finish()
    except Exception:
        _log.debug("could not finish the client span", exc_info=True)


def _traced_send(
    send: _Send, request: requests.PreparedRequest, kwargs: Dict[str, Any], options: _Options
) -> requests.Response:
    span = _start_span(request, options)
    if span is None:
        return send(request, **kwargs)
    try:
        response = send(request, **kwargs)
    except BaseException as error:
        if isinstance(error, Exception):
            record_error(span, error, _log, "client span")
        _finish(span)
        raise
    _record_response(span, response)
    _finish(span)
    return response


class TracingSession(requests.Session):
    """A ``requests.Session`` whose every exchange is a client span.

    ``tracer`` None means :func:`opentracing.global_tracer`, looked up per
    request. ``operation_name(prepared_request)`` names the span.
    ``peer_service`` names the service called (Zipkin's remote service name):
    a string, a callable of the prepared request, or None for none; by
    default the URL's host name.
    """

    def __init__(
        self,
        tracer: Optional[Tracer] = None,
        *,
        operation_name: OperationName = default_operation_name,
        component: str = "requests",
        peer_service: PeerService = default_peer_service,
    ) -> None:
        super().__init__()
        self._tracing = _Options(tracer, operation_name, component, peer_service)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        # A session restored by pickle has no _tracing (Session pickles a fixed
        # attribute list): trace it with the defaults.
        options = getattr(self, "_tracing", _DEFAULTS)
        return _traced_send(super().send, request, kwargs, options)


_lock = threading.Lock()
_original_send: Optional[_Send] = None
_installed: Optional[_Options] = None


def _patched_send(
    self: requests.Session, request: requests.PreparedRequest, **kwargs: Any
) -> requests.Response:
    original = _original_send
    assert original is not None  # set before the patch, never cleared
    options = _installed
    if options is None or isinstance(self, TracingSession):
        # Uninstalled while another patch sat on top of ours, or the session
        # traces itself already: pass through.
        return original(self, request, **kwargs)
    return _traced_send(functools.partial(original, self), request, kwargs, options)


def install(
    tracer: Optional[Tracer] = None,
    *,
    operation_name: OperationName = default_operation_name,
    component: str = "requests",
    peer_service: PeerService = default_peer_service,
) -> None:
    """Trace every ``requests.Session`` (and so ``requests.get`` etc.).

    Idempotent: calling it again only replaces the options (as for
    :class:`TracingSession`).
    """
    global _original_send, _installed
    with _lock:
        _installed = _Options(tracer, operation_name, component, peer_service)
        if requests.Session.send is not _patched_send:
            _original_send = requests.Session.send
            requests.Session.send = _patched_send  # type: ignore[method-assign]


def uninstall() -> None:
    """Undo :func:`install`; harmless when not installed."""
    global _installed
    with _lock:
        _installed = None
        if requests.Session.send is _patched_send and _original_send is not None:
            requests.Session.send = _original_send  # type: ignore[method-assign]
        # Otherwise someone patched on top of us: our wrapper stays in their
        # chain but passes through, because _installed is None.
