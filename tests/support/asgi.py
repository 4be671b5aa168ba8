"""A tiny ASGI server stand-in for unit tests: one request, messages recorded."""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, Dict, List, MutableMapping, Optional, Sequence, Tuple

Message = MutableMapping[str, Any]


def http_scope(
    path: str = "/things/42",
    method: str = "GET",
    headers: Sequence[Tuple[str, str]] = (),
    query: bytes = b"",
    **extra: Any,
) -> Dict[str, Any]:
    scope: Dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query,
        "headers": [(b"host", b"svc.test:8000")]
        + [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
        "client": ("10.1.2.3", 50123),
        "server": ("127.0.0.1", 8000),
    }
    scope.update(extra)
    return scope


class Exchange:
    """Feeds ``incoming`` messages to the app (then waits forever) and records what it sends.

    ``on_send(message)`` runs before each sent message is recorded, so a test
    can look at the tracer's state at that moment.
    """

    def __init__(
        self,
        incoming: Sequence[Message] = ({"type": "http.request", "body": b""},),
        on_send: Optional[Callable[[Message], None]] = None,
    ) -> None:
        self.incoming = list(incoming)
        self.sent: List[Message] = []
        self.on_send = on_send
        self._never = asyncio.Event()

    async def receive(self) -> Message:
        if self.incoming:
            return self.incoming.pop(0)
        await self._never.wait()
        raise AssertionError("unreachable")

    async def send(self, message: Message) -> None:
        if self.on_send is not None:
            self.on_send(message)
        self.sent.append(message)

    @property
    def status(self) -> Optional[int]:
        for message in self.sent:
            if message["type"] == "http.response.start":
                return int(message["status"])
        return None

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body")


def run(
    app: Callable[[Any, Any, Any], Awaitable[None]],
    scope: Optional[Dict[str, Any]] = None,
    exchange: Optional[Exchange] = None,
) -> Exchange:
    exchange = exchange or Exchange()
    asyncio.run(app(scope or http_scope(), exchange.receive, exchange.send))
    return exchange
