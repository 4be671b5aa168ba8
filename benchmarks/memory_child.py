"""One memory measurement in a fresh process (fresh RSS baseline).

    python benchmarks/memory_child.py --tracer ours-json --spans 1000000 --queue 10000
    python benchmarks/memory_child.py --tracer ours-json --calibrate 10000
    python benchmarks/memory_child.py --tracer otel --spans 1000000

Without ``--calibrate``: the collector URL is a closed port on 127.0.0.1 (a
dead collector); the span loop runs flat out, bounded by ``--spans`` and
``--max-seconds``; peak RSS growth = the peak RSS since just before the loop
minus the RSS then (see ``PeakRss``). With ``--calibrate N``: N finished spans are kept alive by a
list reporter and the RSS growth is what a queue of N spans costs. Prints one
JSON line.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from typing import Any, Dict, List, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from workload import (
    CACHE_HIT,
    LOG_FIELDS,
    OPERATION,
    SERVICE,
    START_TAGS,
    STATUS_CODE,
    closed_port,
)

MB = 1024.0 * 1024.0


def rss() -> int:
    try:
        import psutil

        return int(psutil.Process().memory_info().rss)
    except ImportError:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakRss:
    """The highest RSS since ``reset``.

    Not ``ru_maxrss``: it keeps the high-water mark of the memory the process
    had before ``exec``, and ``subprocess`` starts children with ``vfork``, so
    a child of a big parent reports the parent's peak. On Linux the kernel's
    own mark is reset (``/proc/self/clear_refs``) and read back (``VmHWM``);
    elsewhere RSS is sampled by ``sample``.
    """

    def __init__(self) -> None:
        self.kernel = sys.platform.startswith("linux")
        self.sampled = 0

    def reset(self) -> None:
        self.sampled = rss()
        if self.kernel:
            try:
                with open("/proc/self/clear_refs", "w") as f:
                    f.write("5")
            except OSError:
                self.kernel = False

    def sample(self) -> None:
        if not self.kernel:
            self.sampled = max(self.sampled, rss())

    def peak(self) -> int:
        if self.kernel:
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) * 1024
        return max(self.sampled, rss())


def ours(encoding: str, queue: int, calibrate: Optional[int]) -> Any:
    from zipkin_tracer import ConstSampler, ZipkinTracer

    kwargs: Dict[str, Any] = dict(
        service_name=SERVICE,
        collector_url=f"http://127.0.0.1:{closed_port()}",
        encoding=encoding,
        sampler=ConstSampler(True),
        max_queue_size=queue,
        message_max_bytes=500000,
        flush_interval=1.0,
    )
    if calibrate:
        from zipkin_tracer.reporting.base import SpanReporter

        class ListReporter(SpanReporter):
            def __init__(self) -> None:
                self.spans: List[Any] = []

            def report(self, span: Any) -> None:
                self.spans.append(span)

            def flush(self, timeout: Optional[float] = None) -> bool:
                return True

            def close(self, timeout: Optional[float] = None) -> bool:
                return True

            @property
            def metrics(self) -> Dict[str, Any]:
                return {"spans": len(self.spans), "spans_dropped": 0}

        kwargs["reporter"] = ListReporter()
    return ZipkinTracer(**kwargs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tracer", default="ours-json", choices=["ours-json", "ours-thrift", "otel"])
    ap.add_argument("--spans", type=int, default=1_000_000)
    ap.add_argument("--queue", type=int, default=10000)
    ap.add_argument("--calibrate", type=int, default=0)
    ap.add_argument("--max-seconds", type=float, default=300.0)
    args = ap.parse_args()

    out: Dict[str, Any] = {"tracer": args.tracer, "queue": args.queue}
    if args.tracer.startswith("ours"):
        tracer = ours(args.tracer.split("-")[1], args.queue, args.calibrate)

        def one() -> None:
            span = tracer.start_span(OPERATION, tags=START_TAGS)
            span.set_tag("http.status_code", STATUS_CODE)
            span.set_tag("cache.hit", CACHE_HIT)
            span.log_kv(LOG_FIELDS)
            span.finish()

        def close() -> Dict[str, Any]:
            m = dict(tracer.metrics)
            tracer.close(timeout=1.0)
            return m
    else:
        import logging

        logging.disable(logging.CRITICAL)  # every failed export logs a traceback
        from opentelemetry.exporter.zipkin.json import ZipkinExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        from opentelemetry.trace import SpanKind

        provider = TracerProvider(resource=Resource.create({"service.name": SERVICE}))
        exporter = ZipkinExporter(
            endpoint=f"http://127.0.0.1:{closed_port()}/api/v2/spans", timeout=1
        )
        provider.add_span_processor(BatchSpanProcessor(exporter, max_queue_size=args.queue))
        otracer = provider.get_tracer("bench")
        attrs = {"component": START_TAGS["component"], "http.url": START_TAGS["http.url"]}

        def one() -> None:
            span = otracer.start_span(OPERATION, kind=SpanKind.SERVER, attributes=attrs)
            span.set_attribute("http.status_code", STATUS_CODE)
            span.set_attribute("cache.hit", CACHE_HIT)
            span.add_event("cache.miss", {"key": "user:42"})
            span.end()

        def close() -> Dict[str, Any]:
            provider.shutdown()
            return {}

    for _ in range(1000):  # warm-up: imports, caches, first connection attempt
        one()
    gc.collect()
    time.sleep(0.2)
    peak = PeakRss()
    peak.reset()
    base = rss()
    n = args.calibrate or args.spans
    deadline = time.monotonic() + args.max_seconds
    done = 0
    t0 = time.perf_counter()
    while done < n and time.monotonic() < deadline:
        for _ in range(min(1000, n - done)):
            one()
        done += min(1000, n - done)
        peak.sample()
    elapsed = time.perf_counter() - t0
    if args.calibrate:
        gc.collect()
        out["calibrate_bytes"] = rss() - base
    out.update(
        spans=done,
        seconds=round(elapsed, 3),
        baseline_mb=round(base / MB, 2),
        peak_growth_mb=round(max(0, peak.peak() - base) / MB, 2),
        timed_out=done < n,
    )
    try:
        out["metrics"] = close()
    except Exception as e:
        out["close_error"] = f"{type(e).__name__}: {e}"
    print(json.dumps(out, default=str), flush=True)
    os._exit(0)  # do not wait for a reporter stuck on a dead collector


if __name__ == "__main__":
    main()
