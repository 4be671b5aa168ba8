"""`make demo`: four services in one trace, read back from a real Zipkin.

demo-client → frontend (ours, Flask, JSON v2) → catalog (ours, FastAPI under
uvicorn calling on with httpx, JSON v2) → backend (ours, plain WSGI, Thrift v1)
→ pricing (py_zipkin, JSON v2), each a separate process on 127.0.0.1. The
collector is ``$ZIPKIN_URL`` when set, else one already answering on
127.0.0.1:9411, else a Zipkin server started for the demo and left running so
the printed links work (``python3 scripts/zipkin_server.py stop`` stops it).
"""

from __future__ import annotations

import importlib.util
import signal
import sys
from pathlib import Path
from typing import Any, List, Tuple

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from demo.cluster import Cluster  # noqa: E402
from zipkin_tracer import ZipkinTracer  # noqa: E402
from zipkin_tracer.requests import TracingSession  # noqa: E402
from zipkin_tracer.trace_tree import fetch_trace, format_trace, orphans  # noqa: E402

ITEMS = ("42", "7", "1001")
SPANS_PER_TRACE = 9  # client root + its HTTP call, then a server and a client per hop


def load_zipkin_server():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "zipkin_server", REPO / "scripts" / "zipkin_server.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def collector() -> Tuple[str, bool]:
    """A healthy collector URL, and whether the demo started it."""
    zipkin_server = load_zipkin_server()
    url = zipkin_server.ensure_url()
    if url is not None:
        return url, False
    print("Starting a Zipkin server (the first time, mvn downloads its jar)...", flush=True)
    process = zipkin_server.start()
    zipkin_server.PID_FILE.write_text(str(process.pid))
    return zipkin_server.local_url(), True


def send_requests(collector_url: str, frontend_url: str) -> List[str]:
    """One trace per item, rooted in a span of our own client; returns the trace IDs."""
    tracer = ZipkinTracer(service_name="demo-client", collector_url=collector_url)
    session = TracingSession(tracer)
    trace_ids = []
    try:
        for item in ITEMS:
            with tracer.start_active_span(f"buy item {item}") as scope:
                response = session.get(f"{frontend_url}/work/{item}", timeout=30)
                response.raise_for_status()
                context = scope.span.context
                trace_ids.append(format(context.trace_id, "016x"))
        if not tracer.flush(timeout=10.0):
            print("warning: the demo client could not deliver all of its spans")
    finally:
        session.close()
        tracer.close(timeout=5.0)
    return trace_ids


def run_services(collector_url: str) -> List[str]:
    """Start the chain, send the requests, flush every tracer; always stop the services."""
    with Cluster(collector_url) as cluster:
        try:
            pricing = cluster.start("pricing", tracer="py_zipkin")
            backend = cluster.start("backend", encoding="thrift", downstream=pricing)
            catalog = cluster.start("catalog", framework="fastapi", downstream=backend)
            frontend = cluster.start(
                "frontend", encoding="json", framework="flask", downstream=catalog
            )
            print("Services: " + ", ".join(f"{s.name} {s.url}" for s in cluster.services))
            trace_ids = send_requests(collector_url, frontend.url)
            if not cluster.flush():
                print("warning: a service could not deliver all of its spans")
        except Exception:
            for service in cluster.services:
                tail = service.log_tail()
                if tail:
                    print(f"--- output of {service.name}:\n{tail}", file=sys.stderr)
            raise
    return trace_ids


def show_traces(collector_url: str, trace_ids: List[str]) -> bool:
    """Read each trace back and draw it; True when every one is complete."""
    complete = True
    for trace_id in trace_ids:
        spans = fetch_trace(collector_url, trace_id, SPANS_PER_TRACE)
        print()
        print("\n".join(format_trace(collector_url, trace_id, spans)))
        lost = orphans(spans)
        if len(spans) < SPANS_PER_TRACE or lost:
            complete = False
            print(f"  INCOMPLETE: expected {SPANS_PER_TRACE} spans, orphans: {len(lost)}")
    print()
    return complete


def interrupted(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main() -> int:
    signal.signal(signal.SIGTERM, interrupted)  # `kill` stops the services too, like Ctrl-C
    try:
        collector_url, started = collector()
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        print(f"demo: no Zipkin collector: {error}", file=sys.stderr)
        return 1
    print(f"Zipkin collector: {collector_url}")
    try:
        complete = show_traces(collector_url, run_services(collector_url))
    except KeyboardInterrupt:
        print("demo: interrupted; the services were stopped", file=sys.stderr)
        return 130
    except Exception as error:
        print(f"demo: failed: {error!r}", file=sys.stderr)
        return 1
    finally:
        if started:
            print("The Zipkin server is still running for you to browse the links above;")
            print("stop it with: python3 scripts/zipkin_server.py stop")
    if not complete:
        print("demo: some traces were incomplete", file=sys.stderr)
        return 1
    print("All traces complete.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
