"""A local collector stand-in: accepts Zipkin POSTs, counts spans, discards.

Run in its own process so it does not take the measured process's GIL::

    python benchmarks/collector.py [--port 0] [--max-seconds 1800]

It prints ``PORT <n>`` once listening. ``POST /api/v1/spans`` (Thrift v1
list) and ``POST /api/v2/spans`` (JSON v2 list) answer 202 and add the spans
in the body to the counters; ``GET /count`` returns them as JSON,
``POST /reset`` zeroes them. It exits by itself after ``--max-seconds``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from workload import count_proto3_spans, count_spans

_lock = threading.Lock()
_counts: Dict[str, int] = {"spans": 0, "messages": 0, "bytes": 0, "errors": 0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real clients use it

    def log_message(self, format, *args):
        pass

    def _reply(self, code: int, body: bytes = b"", ctype: str = "application/json") -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(parts)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/reset":
            self._read_body()
            with _lock:
                for k in _counts:
                    _counts[k] = 0
            self._reply(200, b"{}")
            return
        if path not in ("/api/v1/spans", "/api/v2/spans"):
            self._read_body()
            self._reply(404)
            return
        body = self._read_body()
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            import gzip

            body = gzip.decompress(body)
        try:
            if self.headers.get("Content-Type", "").startswith("application/x-protobuf"):
                n = count_proto3_spans(body)
            else:
                n = count_spans(body, thrift=path == "/api/v1/spans")
        except Exception:
            with _lock:
                _counts["errors"] += 1
            self._reply(400)
            return
        with _lock:
            _counts["spans"] += n
            _counts["messages"] += 1
            _counts["bytes"] += len(body)
        self._reply(202)

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] in ("/count", "/health"):
            with _lock:
                body = json.dumps(_counts).encode()
            self._reply(200, body)
        else:
            self._reply(404)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--max-seconds", type=float, default=1800.0)
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.request_queue_size = 128
    print(f"PORT {server.server_address[1]}", flush=True)
    timer = threading.Timer(args.max_seconds, server.shutdown)
    timer.daemon = True
    timer.start()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
