"""A controllable Zipkin collector on 127.0.0.1 for fault tests.

``script(n)`` decides what the n-th request (0-based) gets: a status, a stall
(accept, never answer), a reset, a slow read of the body, or an answer
trickled a byte at a time. Accepted bodies are inflated and their span ids
recorded, so tests can check "each span exactly once". With ``tls=True`` it
speaks HTTPS with the self-signed test certificate in ``tests/support/tls``
(for 127.0.0.1 and localhost; :data:`TLS_CA` is the bundle that trusts it).
"""

from __future__ import annotations

import dataclasses
import json
import socket
import ssl
import struct
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

_TLS = Path(__file__).resolve().parent / "tls"
#: A CA bundle that trusts the TLS collector's certificate (it is its own CA).
TLS_CA = str(_TLS / "collector-cert.pem")


@dataclasses.dataclass
class Action:
    status: int = 202
    headers: Dict[str, str] = dataclasses.field(default_factory=dict)
    stall: bool = False
    reset: bool = False
    slow_read: float = 0.0  # seconds between 1 KiB reads of the body
    trickle: float = 0.0  # seconds between bytes of the answer
    max_body: Optional[int] = None  # larger (inflated) bodies get 413
    delay: float = 0.0  # seconds before answering
    hang_up: bool = False  # close the kept-alive connection right after answering


ACCEPT = Action()


def _ids(body: bytes) -> List[str]:
    """Span ids of a JSON v2 list; other bodies (timeout tests) carry none."""
    try:
        return [s["id"] for s in json.loads(body)]
    except (ValueError, TypeError, KeyError):
        return []


class FakeCollector:
    def __init__(self, script: Optional[Callable[[int], Action]] = None, tls: bool = False) -> None:
        self.script = script or (lambda n: ACCEPT)
        self.lock = threading.Lock()
        self.requests = 0
        self.ids: List[str] = []
        self.bodies: List[bytes] = []
        self.headers: List[Dict[str, str]] = []
        self.peers: set = set()
        self.release = threading.Event()
        self.got_request = threading.Event()
        collector = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                with collector.lock:
                    n = collector.requests
                    collector.requests += 1
                    collector.peers.add(self.client_address)
                    collector.headers.append(dict(self.headers))
                collector.got_request.set()
                action = collector.script(n)
                length = int(self.headers.get("Content-Length", 0))
                if action.slow_read:
                    raw = b""
                    while len(raw) < length and not collector.release.is_set():
                        raw += self.rfile.read(min(1024, length - len(raw)))
                        time.sleep(action.slow_read)
                else:
                    raw = self.rfile.read(length)
                if action.stall:
                    collector.release.wait(30)
                    self.close_connection = True
                    return
                if action.reset:
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                    self.connection.close()
                    self.close_connection = True
                    return
                body = raw
                if self.headers.get("Content-Encoding") == "gzip":
                    body = zlib.decompress(raw, 31)
                status = action.status
                if action.max_body is not None and len(body) > action.max_body:
                    status = 413
                if 200 <= status < 300:
                    with collector.lock:
                        collector.bodies.append(body)
                        collector.ids.extend(_ids(body))
                if action.delay:
                    collector.release.wait(action.delay)
                if action.trickle:
                    head = f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n".encode()
                    for i in range(len(head)):
                        if collector.release.wait(action.trickle):
                            break
                        self.wfile.write(head[i : i + 1])
                        self.wfile.flush()
                    self.close_connection = True
                    return
                self.send_response(status)
                for key, value in action.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if action.hang_up:  # no "Connection: close": the client learns too late
                    self.wfile.flush()
                    self.close_connection = True

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(TLS_CA, str(_TLS / "collector-key.pem"))
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        #: Set each time the server has closed a connection.
        self.connection_closed = threading.Event()
        close_request = self.server.shutdown_request

        def shutdown_request(request: Any) -> None:
            close_request(request)
            self.connection_closed.set()

        self.server.shutdown_request = shutdown_request  # type: ignore[method-assign]
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def received_ids(self) -> List[str]:
        with self.lock:
            return list(self.ids)

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def refused_url() -> str:
    """A 127.0.0.1 port nothing listens on."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"


class Blackhole:
    """Listens but never accepts: connects succeed, nothing is ever answered."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def close(self) -> None:
        self.sock.close()
