#!/usr/bin/env python3
"""Benchmarks against the tracers users would otherwise pick.

    python benchmarks/run.py                      # everything (~5-8 minutes)
    python benchmarks/run.py --quick              # smoke run, a few seconds per section
    python benchmarks/run.py --only cpu,latency   # a subset
    python benchmarks/run.py --spans 20000 --repeats 5

Prints one table per section and one line per target, in the form
``target <name>: ratio <x> (goal <= <y>) PASS|FAIL``. Not a test: it exits 0
whatever the numbers (``--strict`` exits 1 on a FAIL). See
docs/performance.rst for what each number means.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import subprocess
import sys
import threading
import time
import urllib.request
from typing import Any, Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import runners as R  # noqa: E402
import scaling  # noqa: E402
from loop_lag import bench_loop_lag  # noqa: E402, F401 - the loop_lag section
from workload import fmt_us, median, percentile, table  # noqa: E402

SECTIONS = ("cpu", "encode", "latency", "delivery", "kafka", "memory", "loop_lag")
MB = 1024.0 * 1024.0


class Targets:
    """Collects ``target`` lines; printed together at the end."""

    def __init__(self) -> None:
        self.lines: List[str] = []
        self.failed = 0

    def ratio(self, name: str, value: float) -> None:
        """A measured ratio with no goal: printed with the targets."""
        self.lines.append(f"ratio {name}: {value:.3g}")

    def add(self, name: str, value: Optional[float], goal: float, why: str = "") -> None:
        ok = value is not None and value == value and value <= goal
        self.failed += 0 if ok else 1
        shown = "n/a" if value is None or value != value else f"{value:.3g}"
        if why:
            self.lines.append(f"# {name}: {why}")
        self.lines.append(
            f"target {name}: ratio {shown} (goal <= {goal:g}) {'PASS' if ok else 'FAIL'}"
        )


def say(msg: str = "") -> None:
    print(msg, flush=True)


# --------------------------------------------------------------------------
# the collector stand-in, in its own process


class Collector:
    def __init__(self, max_seconds: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "collector.py"), "--max-seconds", str(max_seconds)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().split()
        if len(line) != 2 or line[0] != "PORT":
            self.proc.kill()
            raise RuntimeError("collector stand-in did not start")
        self.url = f"http://127.0.0.1:{line[1]}"

    def counts(self) -> Dict[str, int]:
        return R.collector_counts(self.url)

    def reset(self) -> None:
        urllib.request.urlopen(urllib.request.Request(self.url + "/reset", b"", method="POST"))

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def setup_or_report(r: R.Runner, capacity: int, unavailable: Dict[str, str]) -> bool:
    try:
        r.setup(capacity)
        return True
    except R.Unavailable as e:
        key = r.name
        if key not in unavailable:
            unavailable[key] = str(e)
            say(f"{r.name}: unavailable ({e})")
        return False


# --------------------------------------------------------------------------
# 1 + 2: CPU cost per span, everything encoded


def bench_cpu(args: argparse.Namespace, targets: Targets, unavailable: Dict[str, str]) -> None:
    n, repeats = args.spans, args.repeats
    say(f"== cpu: {n} spans x {repeats} repeats after a warm-up, timed through flush ==")
    live: List[R.Runner] = []
    for r in R.cpu_runners():
        if setup_or_report(r, n, unavailable):
            live.append(r)
    times: Dict[str, List[float]] = {r.label: [] for r in live}
    notes: Dict[str, List[str]] = {r.label: [] for r in live}
    bytes_per_span: Dict[str, float] = {}
    for r in live:  # warm-up: one full repeat each
        r.run(n)
        r.drain(args.drain_timeout)
        r.delta()
    deadline = time.monotonic() + args.cpu_seconds
    # Repeats are interleaved across tracers so machine noise hits them alike.
    for rep in range(repeats):
        if rep and time.monotonic() > deadline:
            say(f"(cpu: time budget of {args.cpu_seconds:.0f}s reached after {rep} repeats)")
            break
        for r in live:
            gc.collect()
            t0 = time.perf_counter()
            r.run(n)
            ok = r.drain(args.drain_timeout)
            dt = time.perf_counter() - t0
            d = r.delta()
            times[r.label].append(dt / n * 1e6)
            if not ok:
                notes[r.label].append(flush_check(d))
            if d:
                expect = n if r.sampled else 0
                if d.get("spans", expect) != expect:
                    notes[r.label].append(f"encoded {d.get('spans')}/{expect}")
                if d.get("dropped"):
                    notes[r.label].append(f"dropped {d['dropped']}")
                if d.get("spans") and d.get("bytes"):
                    bytes_per_span[r.label] = d["bytes"] / d["spans"]
    for r in live:
        r.teardown()

    med = {label: median(v) for label, v in times.items()}
    floor = med.get(R.NoopRunner().label)
    rows = []
    for r in live:
        m = med[r.label]
        rows.append(
            [
                r.name,
                r.mode,
                fmt_us(m),
                fmt_us(min(times[r.label]) if times[r.label] else None),
                f"{m / floor:.1f}x" if floor else "n/a",
                f"{bytes_per_span[r.label]:.0f}" if r.label in bytes_per_span else "-",
                "; ".join(sorted(set(notes[r.label]))) or "ok",
            ]
        )
    say(
        table(
            ["tracer", "mode", "us/span (median)", "min", "vs no-op", "bytes/span", "check"],
            rows,
        )
    )
    say()

    def m(runner: R.Runner) -> Optional[float]:
        return med.get(runner.label)

    def ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
        return a / b if a and b else None

    pz, otel = m(R.PyZipkinRunner(True)), m(R.OTelRunner(True))
    off = m(R.OTelRunner(False))
    why = "ours unavailable" if "ours (zipkin_tracer)" in unavailable else ""
    for enc in ("json", "thrift"):
        ours = m(R.OursRunner(enc, True))
        targets.add(f"sampled-{enc}-vs-py_zipkin", ratio(ours, pz), 0.5, why)
        targets.add(f"sampled-{enc}-vs-otel", ratio(ours, otel), 0.25, why)
    ours_off = m(R.OursRunner("json", False))
    targets.add("unsampled-vs-otel-always-off", ratio(ours_off, off), 1.0, why)
    targets.add("unsampled-vs-noop", ratio(ours_off, floor), 5.0, why)


# --------------------------------------------------------------------------
# encode cost and bytes per span; delivery over Kafka next to HTTP (scaling.py)


def bench_encode(args: argparse.Namespace, targets: Targets, unavailable: Dict[str, str]) -> None:
    scaling.bench_encode(args, say, targets.ratio)


def bench_kafka(args: argparse.Namespace, targets: Targets, unavailable: Dict[str, str]) -> None:
    secs = args.delivery_seconds
    scaling.bench_kafka(args, say, targets.ratio, lambda: Collector(secs * 6 + 300))


# --------------------------------------------------------------------------
# 3: finish() latency on application threads


def bench_latency(args: argparse.Namespace, targets: Targets, unavailable: Dict[str, str]) -> None:
    threads, per_thread, rate = args.threads, args.latency_spans, args.latency_rate
    say(
        f"== latency: finish() on {threads} threads x {per_thread} spans, "
        f"{rate:g} spans/s per thread ({'paced' if rate else 'flat out'}) =="
    )
    collector = Collector(args.latency_seconds * 10 + 120)
    try:
        candidates: List[R.Runner] = [
            R.NoopRunner(),
            R.PyZipkinRunner(True),
            R.OTelRunner(True, endpoint=collector.url + "/api/v2/spans"),
            R.JaegerRunner(True),
            R.OursRunner("json", True, collector_url=collector.url),
            R.OursRunner("thrift", True, collector_url=collector.url),
        ]
        rows = []
        p99: Dict[str, float] = {}
        for r in candidates:
            if not setup_or_report(r, threads * per_thread, unavailable):
                continue
            lat, produced, drained = latency_run(r, threads, per_thread, rate, args)
            r.teardown()
            lat.sort()
            us = [x / 1000.0 for x in lat]
            p99[r.label] = percentile(us, 99)
            rows.append(
                [
                    r.name,
                    r.mode,
                    fmt_us(percentile(us, 50)),
                    fmt_us(percentile(us, 99)),
                    fmt_us(percentile(us, 99.9)),
                    fmt_us(us[-1] if us else None),
                    str(produced),
                    "ok" if drained else "flush timed out",
                ]
            )
        say(
            table(
                ["tracer", "mode", "p50 us", "p99 us", "p99.9 us", "max us", "spans", "check"], rows
            )
        )
        say()
    finally:
        collector.stop()
    why = "ours unavailable" if "ours (zipkin_tracer)" in unavailable else ""
    for enc in ("json", "thrift"):
        targets.add(f"finish-p99-us-{enc}", p99.get(R.OursRunner(enc, True, "x").label), 20.0, why)


def latency_run(
    r: R.Runner, threads: int, per_thread: int, rate: float, args: argparse.Namespace
) -> Tuple[List[int], int, bool]:
    results: List[List[int]] = [[] for _ in range(threads)]
    barrier = threading.Barrier(threads)
    deadline = time.monotonic() + args.latency_seconds
    interval = 1.0 / rate if rate else 0.0
    perf_ns, perf, sleep = time.perf_counter_ns, time.perf_counter, time.sleep

    def work(k: int) -> None:
        lat = results[k]
        barrier.wait()
        nxt = perf()
        for i in range(per_thread):
            span = r.open_span()
            t0 = perf_ns()
            r.close_span(span)
            lat.append(perf_ns() - t0)
            if interval:
                nxt += interval
                d = nxt - perf()
                if d > 0:
                    sleep(d)
            if i % 64 == 0 and time.monotonic() > deadline:
                break

    ts = [threading.Thread(target=work, args=(k,), daemon=True) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(args.latency_seconds + 30)
    drained = r.drain(args.drain_timeout)
    lat = [x for res in results for x in res]
    return lat, len(lat), drained


# --------------------------------------------------------------------------
# 4: delivery throughput to a collector over HTTP


def produce(r: R.Runner, seconds: float, max_spans: int) -> Tuple[int, float]:
    t0 = time.perf_counter()
    end = time.monotonic() + seconds
    done = 0
    while done < max_spans and time.monotonic() < end:
        k = min(500, max_spans - done)
        r.run(k)
        done += k
    return done, time.perf_counter() - t0


def bench_delivery(args: argparse.Namespace, targets: Targets, unavailable: Dict[str, str]) -> None:
    secs, cap = args.delivery_seconds, args.delivery_max_spans
    say(f"== delivery: one thread producing for {secs:g}s (max {cap} spans), then flush ==")
    collector = Collector(secs * 6 + 300)
    rows = []
    rate: Dict[str, float] = {}
    loss: Dict[str, float] = {}
    try:
        sinks: List[Tuple[str, Optional[str]]] = [("stand-in", collector.url)]
        zurl = zipkin_url(args)
        if zurl:
            sinks.append(("real Zipkin", zurl))
        for sink, url in sinks:
            assert url is not None
            candidates: List[R.Runner] = [
                R.OTelRunner(True, endpoint=url + "/api/v2/spans"),
                R.OursRunner("json", True, collector_url=url, max_queue_size=args.queue),
                R.OursRunner("thrift", True, collector_url=url, max_queue_size=args.queue),
            ]
            for r in candidates:
                if not setup_or_report(r, cap, unavailable):
                    continue
                seconds = secs if sink == "stand-in" else args.zipkin_seconds
                r.run(200)
                r.drain(args.drain_timeout)
                r.delta()
                if sink == "stand-in":
                    collector.reset()
                t0 = time.perf_counter()
                produced, t_prod = produce(r, seconds, cap)
                drained = r.drain(args.drain_timeout)
                total = time.perf_counter() - t0
                d = r.delta()
                if sink == "stand-in":
                    delivered = collector.counts()["spans"]
                elif "dropped" in d:  # ours: what was not dropped was accepted (202)
                    delivered = max(0, produced - int(d["dropped"]))
                else:  # OTel: spans in exports that returned SUCCESS
                    delivered = int(d.get("spans", 0))
                r.teardown()
                key = f"{sink}|{r.label}"
                rate[key] = delivered / total if total else 0.0
                loss[key] = 1.0 - delivered / produced if produced else 1.0
                rows.append(
                    [
                        r.name,
                        r.mode,
                        sink,
                        str(produced),
                        str(delivered),
                        str(d.get("dropped", "-")),
                        f"{t_prod:.1f}",
                        f"{total - t_prod:.1f}",
                        f"{rate[key]:.0f}",
                        "ok" if drained else flush_check(d),
                    ]
                )
        say(
            table(
                [
                    "tracer",
                    "mode",
                    "collector",
                    "produced",
                    "delivered",
                    "dropped",
                    "produce s",
                    "flush s",
                    "delivered/s",
                    "check",
                ],
                rows,
            )
        )
        if not zurl:
            say(
                "(real Zipkin: not reachable; "
                "start one with `python3 scripts/zipkin_server.py start`)"
            )
        say()
    finally:
        collector.stop()
    why = "ours unavailable" if "ours (zipkin_tracer)" in unavailable else ""
    otel = rate.get(f"stand-in|{R.OTelRunner(True, endpoint='x').label}")
    for enc in ("json", "thrift"):
        key = f"stand-in|{R.OursRunner(enc, True, collector_url='x').label}"
        ours = rate.get(key)
        targets.add(
            f"delivery-{enc}-otel-over-ours", otel / ours if otel and ours else None, 0.5, why
        )
        targets.add(f"delivery-{enc}-lost-fraction", loss.get(key), 0.0, why)


def flush_check(delta: Dict[str, int]) -> str:
    """Why a flush returned False: ours also says False when spans were dropped."""
    return "spans dropped" if delta.get("dropped") else "flush timed out"


def zipkin_url(args: argparse.Namespace) -> Optional[str]:
    if args.zipkin_url == "none":
        return None
    url = args.zipkin_url
    if url == "auto":
        url = os.environ.get("ZIPKIN_URL", "http://127.0.0.1:9411")
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/health", timeout=2) as resp:
            if b"UP" in resp.read():
                return url.rstrip("/")
    except Exception:
        pass
    return None


# --------------------------------------------------------------------------
# 5: memory against a dead collector, each in a fresh process


def child(args: argparse.Namespace, extra: List[str]) -> Dict[str, Any]:
    cmd = [sys.executable, os.path.join(HERE, "memory_child.py"), *extra]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=args.memory_seconds + 120)
    except subprocess.TimeoutExpired:
        return {"error": "timed out"}
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if p.returncode != 0 or not lines:
        tail = (p.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"exit {p.returncode}: {tail}"}
    return json.loads(lines[-1])


def bench_memory(args: argparse.Namespace, targets: Targets, unavailable: Dict[str, str]) -> None:
    n, q = args.memory_spans, args.queue
    say(f"== memory: {n} spans against a dead collector (closed port), queue bound {q} ==")
    configs = ["ours-json", "ours-thrift"] + (["otel"] if args.memory_peers else [])
    rows = []
    ratios: Dict[str, Optional[float]] = {}
    for cfg in configs:
        common = ["--tracer", cfg, "--queue", str(q), "--max-seconds", str(args.memory_seconds)]
        res = child(args, [*common, "--spans", str(n)])
        if "error" in res:
            if cfg.startswith("ours"):
                unavailable.setdefault("ours (zipkin_tracer)", res["error"])
            say(f"{cfg}: unavailable ({res['error']})")
            continue
        bound_mb: Optional[float] = None
        if cfg.startswith("ours"):
            cal = child(args, [*common, "--calibrate", str(q)])
            if "calibrate_bytes" in cal:
                bound_mb = cal["calibrate_bytes"] / MB
        growth = float(res["peak_growth_mb"])
        if bound_mb is not None:
            ratios[cfg] = growth / (bound_mb + 10.0)
        m = res.get("metrics") or {}
        rows.append(
            [
                cfg,
                str(res["spans"]) + (" (time cap)" if res.get("timed_out") else ""),
                f"{res['seconds']:.1f}",
                f"{res['baseline_mb']:.1f}",
                f"{growth:.1f}",
                f"{bound_mb:.1f}" if bound_mb is not None else "-",
                str(R._dropped(m)) if m else "-",
            ]
        )
    if rows:
        say(
            table(
                [
                    "tracer",
                    "spans",
                    "seconds",
                    "baseline MB",
                    "peak growth MB",
                    "queue bound MB",
                    "dropped",
                ],
                rows,
            )
        )
    say()
    why = "ours unavailable" if "ours (zipkin_tracer)" in unavailable else ""
    for enc in ("json", "thrift"):
        targets.add(f"memory-{enc}-growth-over-bound", ratios.get(f"ours-{enc}"), 1.0, why)


# --------------------------------------------------------------------------


def versions() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover
        return ""
    parts = []
    for dist in (
        "zipkin-opentracing",
        "opentracing",
        "py_zipkin",
        "opentelemetry-sdk",
        "opentelemetry-exporter-zipkin-json",
        "jaeger-client",
    ):
        try:
            parts.append(f"{dist} {version(dist)}")
        except PackageNotFoundError:
            parts.append(f"{dist} -")
    return ", ".join(parts)


def parse(argv: Optional[List[str]] = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument(
        "--only", default=",".join(SECTIONS), help="comma list of: " + ",".join(SECTIONS)
    )
    ap.add_argument("--quick", action="store_true", help="smoke run: tiny counts, short loops")
    ap.add_argument("--spans", type=int, default=20000, help="spans per cpu repeat")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--cpu-seconds", type=float, default=240.0, help="cpu section time budget")
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--latency-spans", type=int, default=2000, help="spans per thread")
    ap.add_argument(
        "--latency-rate", type=float, default=500.0, help="spans/s per thread (0 = flat out)"
    )
    ap.add_argument("--latency-seconds", type=float, default=20.0, help="cap per tracer")
    ap.add_argument("--delivery-seconds", type=float, default=10.0)
    ap.add_argument("--delivery-max-spans", type=int, default=2_000_000)
    ap.add_argument("--zipkin-url", default="auto", help="'auto' ($ZIPKIN_URL or :9411), 'none'")
    ap.add_argument("--zipkin-seconds", type=float, default=10.0)
    ap.add_argument(
        "--queue", type=int, default=10000, help="ours' max_queue_size (delivery, memory)"
    )
    ap.add_argument("--memory-spans", type=int, default=1_000_000)
    ap.add_argument("--memory-seconds", type=float, default=300.0, help="cap per memory child")
    ap.add_argument("--memory-peers", action="store_true", help="also measure OTel's memory")
    ap.add_argument("--drain-timeout", type=float, default=60.0)
    ap.add_argument("--strict", action="store_true", help="exit 1 when a target FAILs")
    args = ap.parse_args(argv)
    if args.quick:
        args.spans, args.repeats, args.cpu_seconds = min(args.spans, 2000), min(args.repeats, 3), 30
        args.latency_spans, args.latency_seconds = min(args.latency_spans, 200), 5.0
        args.delivery_seconds, args.zipkin_seconds = 1.0, 1.0
        args.memory_spans, args.memory_seconds = min(args.memory_spans, 50000), 30.0
        args.drain_timeout = 20.0
    args.sections = [s.strip() for s in args.only.split(",") if s.strip()]
    bad = set(args.sections) - set(SECTIONS)
    if bad:
        ap.error(f"unknown section(s) {sorted(bad)}; choose from {','.join(SECTIONS)}")
    return args


def main(argv: Optional[List[str]] = None) -> int:
    args = parse(argv)
    say(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cpus")
    say(versions())
    try:
        import opentracing

        say(f"opentracing imported from {os.path.dirname(opentracing.__file__)}")
    except ImportError:
        pass
    say()
    targets = Targets()
    unavailable: Dict[str, str] = {}
    for section in SECTIONS:
        if section in args.sections:
            globals()[f"bench_{section}"](args, targets, unavailable)
    for line in targets.lines:
        say(line)
    return 1 if args.strict and targets.failed else 0


if __name__ == "__main__":
    sys.exit(main())
