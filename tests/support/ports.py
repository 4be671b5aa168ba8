"""A TCP port on 127.0.0.1 that refuses connections, for as long as the context lasts."""

from __future__ import annotations

import contextlib
import socket
from typing import Iterator


@contextlib.contextmanager
def dead_port() -> Iterator[int]:
    """Bound but never listening: connects are refused at once, and no one else gets it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]
    finally:
        sock.close()
