"""A threading WSGI server that logs nothing, for tests that serve real HTTP on 127.0.0.1.

Here rather than imported from demo/: the unit tests also run from a copy of
tests/ outside the checkout, where demo/ does not exist.
"""

from __future__ import annotations

import socketserver
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer


class ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass
