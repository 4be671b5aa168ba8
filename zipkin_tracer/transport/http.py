"""HTTP sender: one kept-alive ``requests.Session`` POSTing to a Zipkin collector.

Timeouts: ``connect_timeout`` bounds the TCP connect, ``timeout`` bounds the
whole attempt. ``requests`` alone only bounds each socket operation, so a
collector that trickles its answer a byte at a time could hold the reporter
forever; a watchdog thread shuts the attempt's socket down at the deadline.
"""

from __future__ import annotations

import email.utils
import functools
import logging
import socket
import sys
import threading
import time
import weakref
import zlib
from typing import Any, Callable, Dict, Mapping, Optional, Tuple, Type
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from zipkin_tracer.transport.base import MessageTooLarge, Sender, SendError

logger = logging.getLogger(__name__)

#: A pooled connection that answered this recently is reused without a liveness
#: poll (one wait for the GIL less per message); if it turns out closed, the
#: message goes again at once on a new connection (see ``HttpSender._post``).
_FRESH_SECONDS = 1.0

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


def api_url(collector_url: str, path: str) -> str:
    """``path`` appended to the collector URL's path, before any query string."""
    parts = urlsplit(collector_url)
    full = parts.path.rstrip("/") + "/" + path.lstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, full, parts.query, ""))


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


def gzip_fast(data: bytes) -> bytes:
    """A gzip member at level 1: a few percent larger than the default level at
    a fraction of the CPU (spans compress well anyway), in one zlib call where
    Python has it (3.11+), because every zlib call waits for the GIL again."""
    if sys.version_info >= (3, 11):
        return zlib.compress(data, 1, 31)
    compressor = zlib.compressobj(1, zlib.DEFLATED, 31)
    return compressor.compress(data) + compressor.flush()


class _SocketTracker:
    """Remembers the sockets of this sender's connections so a watchdog can abort them."""

    def __init__(self) -> None:
        self._sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self._lock = threading.Lock()
        #: Set while a watchdog bounds the attempt: its sockets may block (see send).
        self.blocking = False
        #: Set when a request goes out on a pooled (kept-alive) connection.
        self.reused = False

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
            """Also: one ``send`` for the header block and a ``bytes`` body, and,
            while watched, a blocking socket (no poll before each call)."""

            _coalescing = False
            _header_block: Optional[bytes] = None
            _answered_at = -_FRESH_SECONDS

            @property
            def is_connected(self) -> bool:
                if self.sock is not None and time.monotonic() - self._answered_at < _FRESH_SECONDS:
                    return True
                return bool(super().is_connected)

            def getresponse(self, *args: Any, **kwargs: Any) -> Any:
                response = super().getresponse(*args, **kwargs)
                self._answered_at = time.monotonic()
                return response

            def request(
                self, method: str, url: str, body: Any = None, *args: Any, **kw: Any
            ) -> None:
                tracker.reused = self.sock is not None
                if tracker.blocking:
                    if self.sock is None:
                        self.connect()  # still bounded by the connect timeout
                    self.timeout = None
                self._coalescing = isinstance(body, bytes) and bool(body)
                try:
                    super().request(method, url, body, *args, **kw)
                finally:
                    self._coalescing = False
                    self._header_block = None

            def send(self, data: Any) -> None:
                if self._coalescing:
                    if self._header_block is None:  # http.client sends the headers first
                        self._header_block = bytes(data)
                        return
                    data = self._header_block + data
                    self._coalescing = False
                    self._header_block = None
                super().send(data)

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
    """One long-lived daemon thread that aborts an attempt still running at its deadline.

    A thread per attempt would cost two thread hand-offs per message, and
    under a busy application each hand-off waits for the GIL; arming this
    one costs a lock and, only when it sleeps longer than the new deadline,
    one wake-up. The thread ends after ``idle_exit`` seconds without an
    attempt and starts again with the next one.
    """

    idle_exit = 30.0

    def __init__(self, abort: Callable[[], None]) -> None:
        self._abort = abort
        self._cond = threading.Condition(threading.Lock())
        self._deadline: Optional[float] = None  # of the armed attempt
        self._sleeps_until: Optional[float] = None  # what the thread waits for; None = idle
        self._attempt = 0
        self._fired_attempt = -1
        self._thread: Optional[threading.Thread] = None
        self._stopped = False

    def arm(self, seconds: float) -> Tuple[int, bool]:
        """Start watching one attempt: its token for ``disarm``, and whether a thread watches."""
        deadline = time.monotonic() + seconds
        with self._cond:
            self._attempt += 1
            self._deadline = deadline
            if self._stopped:
                return self._attempt, False
            if self._thread is None and not self._start_locked():
                return self._attempt, False  # interpreter shutdown: no new threads
            until = self._sleeps_until
            if until is None or deadline < until:
                self._cond.notify()
            return self._attempt, True

    def fired(self, token: int) -> bool:
        """True if this attempt's deadline passed and the sockets were aborted."""
        with self._cond:
            return self._fired_attempt == token

    def disarm(self, token: int) -> bool:
        """Stop watching; True if the deadline passed and the sockets were aborted."""
        with self._cond:
            if self._attempt == token:
                self._deadline = None
            return self._fired_attempt == token

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._deadline = None
            self._cond.notify()

    def _start_locked(self) -> bool:
        thread = threading.Thread(target=self._run, name="zipkin-sender-watchdog", daemon=True)
        try:
            thread.start()
        except RuntimeError:  # interpreter shutdown (3.12+)
            return False
        self._thread = thread
        return True

    def _run(self) -> None:
        cond = self._cond
        with cond:
            while not self._stopped:
                deadline = self._deadline
                if deadline is None:
                    self._sleeps_until = None
                    if not cond.wait(self.idle_exit) and self._deadline is None:
                        break
                    continue
                remaining = deadline - time.monotonic()
                if remaining > 0:
                    self._sleeps_until = deadline
                    cond.wait(remaining)
                    continue
                self._fired_attempt = self._attempt
                self._deadline = None
                self._abort()  # shutdown() only: never blocks
            self._thread = None


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
        self.url = api_url(collector_url, path)
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
        self._watchdog = _Watchdog(self._tracker.abort)
        self._session: Optional[requests.Session] = None

    def __repr__(self) -> str:  # never show the headers: they may hold credentials
        return f"HttpSender({self.endpoint!r})"

    def _get_session(self) -> requests.Session:
        if self._session is None:
            session = requests.Session()
            # The environment (proxies, CA bundle, ~/.netrc) is read once, here:
            # with trust_env every request would stat files, and each such
            # syscall makes the worker wait for the GIL again.
            settings = session.merge_environment_settings(self.url, {}, None, self.verify, None)
            session.proxies.update(settings["proxies"])
            # Plain HTTP has nothing to verify; a CA bundle path would only be
            # stat'ed again on every request.
            tls = self.url.lower().startswith("https:")
            session.verify = settings["verify"] if tls else True
            session.auth = requests.utils.get_netrc_auth(self.url)
            session.trust_env = False
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
            data = gzip_fast(body)
            headers["Content-Encoding"] = "gzip"
        session = self._get_session()
        watchdog = self._watchdog
        token, watched = watchdog.arm(budget)
        # While the watchdog bounds the attempt, the socket blocks without a
        # timeout of its own: a timeout turns every send and receive into a
        # poll plus the call, two waits for the GIL instead of one.
        read_timeout = None if watched else budget
        self._tracker.blocking = watched
        try:
            response = self._post(
                session, data, headers, (min(self.connect_timeout, budget), read_timeout), token
            )
        except requests.exceptions.RequestException as error:
            if watchdog.disarm(token):
                self._discard_connections()
                raise SendError("timeout", retryable=True, detail="deadline exceeded")
            if isinstance(error, requests.exceptions.SSLError):
                raise SendError("tls_error", retryable=False, detail=type(error).__name__)
            if isinstance(error, requests.exceptions.Timeout):
                raise SendError("timeout", retryable=True, detail=type(error).__name__)
            raise SendError("connection_error", retryable=True, detail=type(error).__name__)
        finally:
            fired = watchdog.disarm(token)
        if fired:  # aborted just as the answer arrived: the connection is unusable
            self._discard_connections()
        self._check(response)

    def _post(
        self,
        session: requests.Session,
        data: bytes,
        headers: Dict[str, str],
        timeout: Tuple[float, Optional[float]],
        token: int,
    ) -> requests.Response:
        """One POST; again at once, once, if a pooled connection turned out closed.

        A kept-alive connection reused without a check, or closed between the
        check and the write, was almost always closed by the collector before
        the message arrived, so it never saw it (OkHttp retries the same way). Only
        a collector that read the message and then dropped the connection
        without answering sees it twice, which Zipkin absorbs: it merges spans
        that share an ID.
        """
        post = functools.partial(
            session.post,
            self.url,
            data=data,
            headers=headers,
            timeout=timeout,
            verify=session.verify,
            allow_redirects=False,
        )
        self._tracker.reused = False
        try:
            return post()
        except requests.exceptions.ConnectionError as error:
            stale = self._tracker.reused and not isinstance(error, requests.exceptions.Timeout)
            if not stale or self._watchdog.fired(token):
                raise
        return post()

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
        """Close pooled connections and stop the watchdog; a later send starts over."""
        self._discard_connections()
        watchdog, self._watchdog = self._watchdog, _Watchdog(self._tracker.abort)
        watchdog.stop()

    def after_fork_in_child(self) -> None:
        """Drop the parent's session unclosed: its sockets are still the parent's.

        The file descriptors are closed when the objects are collected; no
        ``shutdown()`` and no TLS goodbye reach the connection the parent uses.
        """
        self._session = None
        self._tracker = _SocketTracker()  # the old one's lock may be held
        self._watchdog = _Watchdog(self._tracker.abort)  # its thread did not survive
