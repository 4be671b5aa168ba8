"""Signals landing inside report()/flush()/close(): never a wedged lock, never swallowed.

Each case runs in a fresh interpreter that signals itself flat out while it
reports spans, then checks that the queue lock is free, no flush waiter is
left behind, every exception the handler raised reached the application and
the accounting still adds up.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Dict

import pytest

from tests.support.reporting import assert_invariant

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = """
import faulthandler, json, os, signal, sys, threading, time
faulthandler.dump_traceback_later(20, exit=True)
from tests.support.fakes import DictJsonEncoder, RecordingSender, span
from zipkin_tracer.reporting.reporter import AsyncReporter

KIND = {kind!r}

class Tick(Exception):
    pass

fired = 0
if KIND == "sigint":
    Interrupt = KeyboardInterrupt
    def handler(signum, frame):
        global fired
        if frame.f_globals.get("__name__") != "__main__":  # inside the library
            fired += 1
            raise KeyboardInterrupt
    signal.signal(signal.SIGINT, handler)
    # One stop for every killer: a signal cutting start() short (inside
    # Thread.start) leaves a running killer behind, and start() runs again.
    stopping = threading.Event()
    killers = []
    def stop_all():
        stopping.set()  # a killer not yet running exits at its first check
        for killer in killers:
            if killer.is_alive():
                killer.join()
    def start():
        def kill():
            for _ in range(3000):  # bounded, about 1.5 s
                if stopping.wait(0.0005):
                    return
                os.kill(os.getpid(), signal.SIGINT)
        killer = threading.Thread(target=kill, daemon=True)
        killers.append(killer)
        killer.start()
        return stop_all
else:
    Interrupt = Tick
    def handler(signum, frame):
        global fired
        if frame.f_globals.get("__name__") != "__main__":  # inside the library
            fired += 1
            raise Tick
    signal.signal(signal.SIGALRM, handler)
    def start():
        signal.setitimer(signal.ITIMER_REAL, 0.0005, 0.0005)
        return lambda: signal.setitimer(signal.ITIMER_REAL, 0)

sender = RecordingSender(lambda body: time.sleep(0.002))
r = AsyncReporter(
    DictJsonEncoder(), sender, max_queue_size=200000, flush_interval=0.01, close_at_exit=False
)
one = span(0)

def chained(error):
    # signals that reached us: a second one may land in a cleanup, chaining the first
    count = 0
    while isinstance(error, Interrupt):
        count += 1
        error = error.__context__
    return count

caught = calls = 0
stop = None
while stop is None:
    try:
        stop = start()
    except Interrupt as error:
        caught += chained(error)
end = time.monotonic() + 3
while True:
    try:  # the loop test too: a signal may land anywhere
        if caught >= 1500 or time.monotonic() > end:
            break
        calls += 1
        r.report(one)
        if calls % 200 == 0:
            r.flush(0.002)
        if calls % 997 == 0:
            r.metrics
    except Interrupt as error:
        caught += chained(error)
for _ in range(100):  # a signal may still be pending when the timer stops
    try:
        try:
            stop()
            time.sleep(0.02)
            break
        except Interrupt as error:
            caught += chained(error)
    except Interrupt as error:
        caught += chained(error)
free = r._lock.acquire(timeout=2)
if free:
    r._lock.release()
flushed = r.flush(10)
m = r.metrics
print(json.dumps({{"fired": fired, "caught": caught, "calls": calls, "free": free,
    "waiters": len(r._waiters), "flushed": flushed, "metrics": m,
    "closed": r.close(5)}}))
"""


def run(kind: str) -> Dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SCRIPT.format(kind=kind))],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs POSIX signals")
@pytest.mark.parametrize("kind", ["sigint", "alarm-exception"])
def test_signals_inside_the_reporter_never_wedge_it_and_reach_the_application(kind: str) -> None:
    out = run(kind)
    assert out["caught"] > 100, out  # the signals did land, many inside the reporter
    assert out["free"], "the queue lock was left held"
    assert out["waiters"] == 0, out
    # The standard library's logging swallows an exception landing inside a
    # handler's emit(); the reporter itself lets every one through.
    assert 0 <= out["fired"] - out["caught"] <= 3, "signal handlers' exceptions were swallowed"
    m = out["metrics"]
    assert_invariant(m)
    assert m["queued_spans"] == m["in_flight_spans"] == 0, m
    assert out["flushed"] and out["closed"], out
