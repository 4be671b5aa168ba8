"""HTTP sender: one kept-alive ``requests.Session`` POSTing to a Zipkin collector.

Timeouts: ``connect_timeout`` bounds the TCP connect, ``timeout`` bounds the
whole attempt. ``requests`` alone only bounds each socket operation, so a
collector that trickles its answer a byte at a time could hold the reporter
forever; a watchdog thread shuts the attempt's socket down at the deadline
(:mod:`._watchdog`), through the sockets the connection kit tracks
(:mod:`._urllib3_kit`).
"""

from __future__ import annotations

import email.utils
import functools
import logging
import sys
import time
import zlib
from typing import Any, Dict, Mapping, Optional, Tuple
from urllib.parse import urlsplit, urlunsplit

import requests

from zipkin_tracer import defaults
from zipkin_tracer.transport._urllib3_kit import SocketTracker, tracked_adapter
from zipkin_tracer.transport._watchdog import Watchdog
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
        timeout: float = defaults.TIMEOUT,
        connect_timeout: float = defaults.CONNECT_TIMEOUT,
        verify: Any = defaults.VERIFY,
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
        self._tracker = SocketTracker()
        self._watchdog = Watchdog(self._tracker.abort)
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
            adapter = tracked_adapter(self._tracker)
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
        watchdog, self._watchdog = self._watchdog, Watchdog(self._tracker.abort)
        watchdog.stop()

    def after_fork_in_child(self) -> None:
        """Drop the parent's session unclosed: its sockets are still the parent's.

        The file descriptors are closed when the objects are collected; no
        ``shutdown()`` and no TLS goodbye reach the connection the parent uses.
        """
        self._session = None
        self._tracker = SocketTracker()  # the old one's lock may be held
        self._watchdog = Watchdog(self._tracker.abort)  # its thread did not survive
