"""Encoding cost and Kafka delivery, each next to the alternatives in one run.

``encode``: the workload span, finished once, encoded again and again by
each encoder (JSON v2, Thrift v1, proto3): µs per span and bytes per span.
``kafka``: one thread producing flat out for a while, then flush, through
our tracer over HTTP (the stand-in collector) and over Kafka (a real broker
that scripts/kafka_server.py starts on free ports): delivered spans/s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import runners as R
from workload import CACHE_HIT, LOG_FIELDS, OPERATION, START_TAGS, STATUS_CODE, table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

ENCODINGS = ("json", "thrift", "proto3")


def _finished_span() -> Any:
    from zipkin_tracer import ZipkinTracer
    from zipkin_tracer.testing import InMemoryReporter

    reporter = InMemoryReporter()
    tracer = ZipkinTracer("bench", local_ip="127.0.0.1", reporter=reporter)
    span = tracer.start_span(OPERATION, tags=START_TAGS)
    span.set_tag("http.status_code", STATUS_CODE)
    span.set_tag("cache.hit", CACHE_HIT)
    span.log_kv(LOG_FIELDS)
    span.finish()
    return span


def bench_encode(
    args: argparse.Namespace, say: Callable[[str], None], ratio: Callable[[str, float], None]
) -> None:
    from zipkin_tracer.encoding import encoder_for

    n = max(1000, args.spans)
    say(f"== encode: the workload span encoded {n} times per encoder, best of 5 ==")
    span = _finished_span()
    cost: Dict[str, float] = {}
    size: Dict[str, int] = {}
    for encoding in ENCODINGS:
        encoder = encoder_for(encoding)
        encode = encoder.encode_span
        size[encoding] = encoder.message_size([len(encode(span))]) - encoder.message_size([])
        best = float("inf")
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(n):
                encode(span)
            best = min(best, (time.perf_counter() - t0) / n * 1e6)
        cost[encoding] = best
    rows = [
        [e, f"{cost[e]:.2f}", str(size[e]), f"{cost[e] / cost['json']:.2f}x"] for e in ENCODINGS
    ]
    say(table(["encoding", "us/span", "bytes/span (in a message)", "cost vs json"], rows))
    say("")
    ratio("proto3-encode-cost-vs-json", cost["proto3"] / cost["json"])
    ratio("proto3-encode-cost-vs-thrift", cost["proto3"] / cost["thrift"])
    ratio("proto3-bytes-vs-json", size["proto3"] / size["json"])
    ratio("proto3-bytes-vs-thrift", size["proto3"] / size["thrift"])


def _deliver(r: R.Runner, seconds: float, cap: int, drain: float) -> Tuple[int, int, float]:
    """(produced, delivered, seconds through flush) for one warmed-up runner."""
    r.run(200)
    r.drain(drain)
    r.delta()
    t0 = time.perf_counter()
    end = time.monotonic() + seconds
    produced = 0
    while produced < cap and time.monotonic() < end:
        k = min(500, cap - produced)
        r.run(k)
        produced += k
    r.drain(drain)
    total = time.perf_counter() - t0
    dropped = int(r.delta().get("dropped", 0))
    return produced, produced - dropped, total


def bench_kafka(
    args: argparse.Namespace,
    say: Callable[[str], None],
    ratio: Callable[[str, float], None],
    http_collector: Callable[[], Any],
) -> None:
    import kafka_server
    import services

    secs, cap = args.delivery_seconds, args.delivery_max_spans
    say(f"== kafka: one thread producing for {secs:g}s (max {cap} spans), then flush ==")
    broker = kafka_server.Broker(
        Path(tempfile.mkdtemp(prefix="bench-kafka-")), services.free_port(), services.free_port()
    )
    try:
        broker.start()
    except services.ServiceUnavailable as error:
        say(f"(kafka: no broker: {error})")
        return
    collector = http_collector()
    rows: List[List[str]] = []
    rate: Dict[Tuple[str, str], float] = {}
    try:
        for encoding in ("json", "proto3"):
            for transport in ("HTTP", "Kafka"):
                runner = R.OursRunner(
                    encoding,
                    True,
                    collector_url=collector.url if transport == "HTTP" else None,
                    kafka_bootstrap_servers=broker.bootstrap_servers
                    if transport == "Kafka"
                    else None,
                    max_queue_size=args.queue,
                )
                runner.setup(cap)
                try:
                    produced, delivered, total = _deliver(runner, secs, cap, args.drain_timeout)
                finally:
                    runner.teardown()
                rate[(encoding, transport)] = delivered / total if total else 0.0
                rows.append(
                    [
                        encoding,
                        transport,
                        str(produced),
                        str(delivered),
                        f"{total:.1f}",
                        f"{rate[(encoding, transport)]:.0f}",
                    ]
                )
    finally:
        collector.stop()
        broker.stop()
    say(table(["encoding", "transport", "produced", "delivered", "s", "delivered/s"], rows))
    say("")
    for encoding in ("json", "proto3"):
        http: Optional[float] = rate.get((encoding, "HTTP"))
        kafka = rate.get((encoding, "Kafka"))
        if http and kafka:
            ratio(f"kafka-over-http-delivered-{encoding}", kafka / http)
