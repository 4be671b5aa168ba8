"""HTTP sender: one kept-alive ``requests.Session`` POSTing to a Zipkin collector.

Timeouts: ``connect_timeout`` bounds the TCP connect, ``timeout`` bounds the
whole attempt. ``requests`` alone only bounds each socket operation, so a
collector that trickles its answer a byte at a time could hold the reporter
forever; a one-shot watchdog shuts the attempt's socket down at the deadline.
"""

from __future__ import annotations

import email.utils
import logging
import socket
import threading
import time
import weakref
import zlib
from typing import Any, Dict, Mapping, Optional, Type
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from zipkin_tracer.transport.base import MessageTooLarge, Sender, SendError

logger = logging.getLogger(__name__)

#: Statuses worth the same message again later (besides every 5xx).
RETRYABLE_STATUSES = frozenset({408, 429})


def safe_endpoint(url: str) -> str:
    """The URL without credentials or query string: what logs may show."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def parse_retry_after(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class _SocketTracker:
    """Remembers the sockets of this sender's connections so a watchdog can abort them."""

    def __init__(self) -> None:
        self._sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self._lock = threading.Lock()

    def add(self, sock: Any) -> None:
        if isinstance(sock, socket.socket):
            with self._lock:
                self._sockets.add(sock)

    def abort(self) -> None:
        """Wake any thread blocked on these sockets (EOF/error on its side)."""
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            try:
                # The plain-socket call on purpose: for TLS it leaves the SSL
                # object to the thread that is using it.
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except (OSError, ValueError):
                pass


def _tracked_adapter(tracker: _SocketTracker) -> HTTPAdapter:
    """An adapter whose pools register every socket they open with ``tracker``."""

    def connection_class(base: Type[HTTPConnection]) -> Type[HTTPConnection]:
        class Tracked(base):  # type: ignore[valid-type,misc]
            def _new_conn(self) -> socket.socket:
                sock = super()._new_conn()
                tracker.add(sock)
                return sock

            def connect(self) -> None:
                super().connect()
                tracker.add(self.sock)

        return Tracked

    class Pool(HTTPConnectionPool):
        ConnectionCls = connection_class(HTTPConnection)

    class TlsPool(HTTPSConnectionPool):
        ConnectionCls = connection_class(HTTPSConnection)  # type: ignore[assignment]

    class Adapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": Pool, "https": TlsPool}

    return Adapter(pool_connections=1, pool_maxsize=1, max_retries=0)


class _Watchdog:
    """Calls ``abort`` unless cancelled before ``seconds`` pass."""

    def __init__(self, seconds: float, abort: Any) -> None:
        self.fired = False
        self._abort = abort
        self._timer: Optional[threading.Timer] = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        try:
            self._timer.start()
        except RuntimeError:
            # No new threads at interpreter shutdown (3.12+): per-operation
            # socket timeouts still apply and the exit path is bounded anyway.
            self._timer = None

    def _fire(self) -> None:
        self.fired = True
        self._abort()

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


class HttpSender(Sender):
    """POSTs encoded messages to ``collector_url + path``.

    Gzip is on by default for bodies of ``gzip_min_bytes`` or more (Zipkin
    accepts ``Content-Encoding: gzip``). Every request carries ``b3: 0`` so an
    instrumented proxy in front of the collector does not trace it. Extra
    ``headers`` (e.g. authorization) are sent but never logged.
    """

    def __init__(
        self,
        collector_url: str,
        path: str = "/api/v2/spans",
        content_type: str = "application/json",
        headers: Optional[Mapping[str, str]] = None,
        timeout: float = 10.0,
        connect_timeout: float = 2.0,
        verify: Any = True,
        *,
        gzip: bool = True,
        gzip_min_bytes: int = 1024,
    ) -> None:
        if timeout <= 0 or connect_timeout <= 0:
            raise ValueError("timeout and connect_timeout must be positive")
        self.url = collector_url.rstrip("/") + "/" + path.lstrip("/")
        self.endpoint = safe_endpoint(self.url)
        self.content_type = content_type
        self.timeout = float(timeout)
        self.connect_timeout = float(connect_timeout)
        self.verify = verify
        self.gzip = gzip
        self.gzip_min_bytes = gzip_min_bytes
        self._headers: Dict[str, str] = dict(headers or {})
        self._headers.update({"Content-Type": content_type, "b3": "0"})
        self._tracker = _SocketTracker()
        self._session: Optional[requests.Session] = None

    def __repr__(self) -> str:  # never show the headers: they may hold credentials
        return f"HttpSender({self.endpoint!r})"

    def _get_session(self) -> requests.Session:
        if self._session is None:
            session = requests.Session()
            session.trust_env = True
            adapter = _tracked_adapter(self._tracker)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            self._session = session
        return self._session

    def send(self, body: bytes, timeout: Optional[float] = None) -> None:
        budget = self.timeout if timeout is None else max(0.001, min(timeout, self.timeout))
        headers = dict(self._headers)
        data = body
        if self.gzip and len(body) >= self.gzip_min_bytes:
            compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
            data = compressor.compress(body) + compressor.flush()
            headers["Content-Encoding"] = "gzip"
        session = self._get_session()
        watchdog = _Watchdog(budget, self._tracker.abort)
        try:
            response = session.post(
                self.url,
                data=data,
                headers=headers,
                timeout=(min(self.connect_timeout, budget), budget),
                verify=self.verify,
                allow_redirects=False,
            )
        except requests.exceptions.SSLError as error:
            raise SendError("tls_error", retryable=False, detail=type(error).__name__)
        except requests.exceptions.Timeout as error:
            raise SendError("timeout", retryable=True, detail=type(error).__name__)
        except requests.exceptions.RequestException as error:
            if watchdog.fired:
                self._discard_connections()
                raise SendError("timeout", retryable=True, detail="deadline exceeded")
            raise SendError("connection_error", retryable=True, detail=type(error).__name__)
        finally:
            watchdog.cancel()
        self._check(response)

    @staticmethod
    def _check(response: requests.Response) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        if status == 413:
            raise MessageTooLarge(status)
        retryable = status >= 500 or status in RETRYABLE_STATUSES
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        raise SendError(
            f"http_{status}", retryable=retryable, status=status, retry_after=retry_after
        )

    def _discard_connections(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            session.close()

    def close(self) -> None:
        """Close pooled connections; a later send opens a new one."""
        self._discard_connections()

    def after_fork_in_child(self) -> None:
        """Drop the parent's session unclosed: its sockets are still the parent's.

        The file descriptors are closed when the objects are collected; no
        ``shutdown()`` and no TLS goodbye reach the connection the parent uses.
        """
        self._session = None
        self._tracker = _SocketTracker()  # the old one's lock may be held
