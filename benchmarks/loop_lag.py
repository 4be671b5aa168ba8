"""Event-loop lag: does finishing spans ever hold up an asyncio event loop?

A 1 ms ticker task records how late each of its wake-ups is while request
tasks on the same loop finish 10 000 spans against a *stalled* collector (a
socket that accepts connections and never answers, so the reporter's worker
sits in a send until its timeout and the queue fills and drops). The same
workload with the no-op ``opentracing.Tracer`` is the baseline: what the
loop's own scheduling costs on this machine. The figure is the ticker's
worst delay, ours and the baseline's, side by side.

    python benchmarks/loop_lag.py [--spans 10000] [--tasks 100]

Also the ``loop_lag`` section of ``benchmarks/run.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
import threading
import time
from typing import Any, Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

from workload import START_TAGS, median, percentile, table  # noqa: E402

TICK = 0.001
# The reporter's worker encodes on its own thread; the loop's thread may wait
# for the GIL up to one switch interval each time it asks, and once more when
# the OS runs the worker first. A call that waited on the stalled collector
# would wait its 5 s send timeout instead.
GOAL_MS = 2 * sys.getswitchinterval() * 1e3


class StalledCollector:
    """Accepts connections and holds them without reading or answering."""

    def __init__(self) -> None:
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._held: List[socket.socket] = []
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="stalled-collector", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self._held.append(conn)

    def close(self) -> None:
        self._closed.set()
        self._listener.close()
        for conn in self._held:
            conn.close()
        self._thread.join(5)


async def _ticker(stop: asyncio.Event, delays: List[float]) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        due = loop.time() + TICK
        await asyncio.sleep(TICK)
        delays.append(loop.time() - due)


async def _request(tracer: Any, spans: int, calls: List[float]) -> None:
    clock = time.perf_counter
    for _ in range(spans):
        started = clock()
        with tracer.start_active_span("GET /items/{item_id}", tags=START_TAGS) as scope:
            scope.span.set_tag("http.status_code", 200)
        calls.append(clock() - started)
        await asyncio.sleep(0)  # a request yields to the loop between its spans


async def _measure(tracer: Any, spans: int, tasks: int) -> Tuple[List[float], List[float], float]:
    """Tick delays, the duration of each span's start-to-finish, and the elapsed time."""
    stop = asyncio.Event()
    delays: List[float] = []
    calls: List[float] = []
    ticker = asyncio.ensure_future(_ticker(stop, delays))
    await asyncio.sleep(0.05)  # the ticker is running before the first span
    started = time.perf_counter()
    per_task, extra = divmod(spans, tasks)
    await asyncio.gather(*(_request(tracer, per_task + (i < extra), calls) for i in range(tasks)))
    elapsed = time.perf_counter() - started
    await asyncio.sleep(0.05)  # and a little after the last one
    stop.set()
    await ticker
    return delays, calls, elapsed


def run(spans: int = 10000, tasks: int = 10, repeats: int = 3) -> Dict[str, Dict[str, Any]]:
    """Alternating runs of both; per kind: the median over repeats of the worst,
    p99 and median tick delay, of the longest span call (s), elapsed (s), counters."""
    import opentracing
    from zipkin_tracer import ZipkinTracer

    runs: Dict[str, List[Dict[str, Any]]] = {"no-op tracer": [], "ours, stalled collector": []}
    collector = StalledCollector()
    try:
        for _ in range(repeats):
            runs["no-op tracer"].append(
                _summary(*asyncio.run(_measure(opentracing.Tracer(), spans, tasks)), {})
            )
            # A fresh tracer each time: an empty queue, the first send stalling.
            tracer = ZipkinTracer(service_name="loop-lag", collector_url=collector.url, timeout=5.0)
            try:
                measured = asyncio.run(_measure(tracer, spans, tasks))
                counters = tracer.metrics
            finally:
                tracer.close(timeout=0.2)
            runs["ours, stalled collector"].append(_summary(*measured, counters))
    finally:
        collector.close()
    return {name: {key: median([r[key] for r in rs]) for key in rs[0]} for name, rs in runs.items()}


def _summary(
    delays: List[float], calls: List[float], elapsed: float, counters: Dict[str, Any]
) -> Dict[str, Any]:
    ordered = sorted(delays)
    return {
        "ticks": len(ordered),
        "worst": ordered[-1] if ordered else float("nan"),
        "p99": percentile(ordered, 99),
        "p50": percentile(ordered, 50),
        "longest_call": max(calls) if calls else float("nan"),
        "elapsed": elapsed,
        "spans_started": counters.get("spans_started", 0),
        "spans_dropped": counters.get("spans_dropped_total", 0),
        "undelivered": counters.get("queued_spans", 0) + counters.get("in_flight_spans", 0),
    }


def report(results: Dict[str, Dict[str, Any]], say: Any = print) -> None:
    rows = [
        [
            name,
            f"{r['ticks']:.0f}",
            f"{r['worst'] * 1e3:.2f}",
            f"{r['p99'] * 1e3:.2f}",
            f"{r['p50'] * 1e3:.3f}",
            f"{r['longest_call'] * 1e3:.2f}",
            f"{r['elapsed'] * 1e3:.0f}",
        ]
        for name, r in results.items()
    ]
    header = ["run", "ticks", "worst ms", "p99 ms", "p50 ms", "longest span ms", "spans took ms"]
    say(table(header, rows))


def bench_loop_lag(args: argparse.Namespace, targets: Any, unavailable: Dict[str, str]) -> None:
    """The ``loop_lag`` section of run.py: the worst tick delay in ms against a goal."""
    spans = 2000 if args.quick else 10000
    print(f"== loop_lag: a 1 ms ticker while {spans} spans finish against a stalled collector ==")
    results = run(spans, repeats=2 if args.quick else 3)
    report(results)
    ours = results["ours, stalled collector"]
    base = results["no-op tracer"]
    targets.add(
        "loop_lag_excess_ms",
        (ours["worst"] - base["worst"]) * 1e3,
        GOAL_MS,
        f"worst 1 ms tick delay with ours {ours['worst'] * 1e3:.2f} ms, no-op "
        f"{base['worst'] * 1e3:.2f} ms (medians of repeats); goal: within two GIL switch "
        "intervals of the baseline, so no call waited on the stalled collector",
    )
    print()


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--spans", type=int, default=10000)
    ap.add_argument("--tasks", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    report(run(args.spans, args.tasks, args.repeats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
