"""The urllib3 connection kit behind ``HttpSender``: a few overrides, one adapter.

Every pooled connection registers its socket with a ``SocketTracker``, so the
watchdog can abort an attempt that outlives its deadline. The same
connection class also sends the header block and a ``bytes`` body in one
``send`` (one wait for the GIL instead of two), skips the liveness poll for a
connection that answered within ``FRESH_SECONDS``, and, while a watchdog
bounds the attempt, lets its socket block without a timeout of its own. It
overrides urllib3 2.x internals (``is_connected``, ``_new_conn``, ``send``,
``pool_classes_by_scheme``), hence the ``urllib3>=2`` requirement.
"""

from __future__ import annotations

import socket
import threading
import time
import weakref
from typing import Any, Optional, Type

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

#: A pooled connection that answered this recently is reused without a liveness
#: poll (one wait for the GIL less per message); if it turns out closed, the
#: message goes again at once on a new connection (see ``HttpSender._post``).
FRESH_SECONDS = 1.0


class SocketTracker:
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


def tracked_adapter(tracker: SocketTracker) -> HTTPAdapter:
    """An adapter whose pools register every socket they open with ``tracker``."""

    def connection_class(base: Type[HTTPConnection]) -> Type[HTTPConnection]:
        class Tracked(base):  # type: ignore[valid-type,misc]
            """Also: one ``send`` for the header block and a ``bytes`` body, and,
            while watched, a blocking socket (no poll before each call)."""

            _coalescing = False
            _header_block: Optional[bytes] = None
            _answered_at = -FRESH_SECONDS

            @property
            def is_connected(self) -> bool:
                if self.sock is not None and time.monotonic() - self._answered_at < FRESH_SECONDS:
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
