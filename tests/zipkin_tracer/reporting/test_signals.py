"""Signals landing inside report()/flush()/close(): never a wedged lock, never swallowed.

Each case runs in a fresh interpreter that signals itself flat out while it
reports spans, then checks that the queue lock is free, no flush waiter is
left behind, every exception the handler raised reached the application and
the accounting still adds up. One in-process case covers a worker start
interrupted after the thread was created.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest

from tests.support.fakes import DictJsonEncoder, RecordingSender, span
from tests.support.reporting import assert_invariant
from zipkin_tracer.reporting.reporter import AsyncReporter

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
    # Plain locks, not threading.Event or Thread.start() once signals fly:
    # those run Python code in threading.py, where the handler raises. A
    # start() cut short that way left its killer running unstopped (it
    # interrupted close() at the end); a set() cut short inside
    # Condition.__enter__ would leave the event's lock held for good. Each
    # step here is a single C call made from __main__, where the handler
    # never raises.
    go, halt = threading.Lock(), threading.Lock()
    go.acquire()
    halt.acquire()
    def kill():
        go.acquire()
        for _ in range(3000):  # bounded, about 1.5 s
            if halt.acquire(timeout=0.0005):
                return
            os.kill(os.getpid(), signal.SIGINT)
    killer = threading.Thread(target=kill, daemon=True)
    killer.start()  # no signal until go is released
    def start():
        go.release()
        def stop():
            if halt.locked():
                halt.release()
            killer.join()  # may be interrupted: the caller retries
        return stop
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


def test_a_worker_whose_start_a_signal_cut_short_never_runs_beside_its_successor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The thread may exist yet not have run when ``start()`` is interrupted."""
    real_start = threading.Thread.start
    late: List[threading.Thread] = []
    go = threading.Event()
    starter = threading.Thread(target=lambda: go.wait(10) and real_start(late[0]), daemon=True)

    def start(thread: threading.Thread) -> None:
        if thread.name == "zipkin-reporter" and not late:
            late.append(thread)
            real_start(starter)
            raise KeyboardInterrupt  # as a SIGINT handler's would, after the thread began
        real_start(thread)

    monkeypatch.setattr(threading.Thread, "start", start)
    sender = RecordingSender()
    reporter = AsyncReporter(DictJsonEncoder(), sender, close_at_exit=False)
    try:
        with pytest.raises(KeyboardInterrupt):
            reporter.report(span(0))
        assert reporter.flush(5)  # the next worker delivers it
        go.set()
        starter.join(10)
        late[0].join(10)
        assert not late[0].is_alive(), "the late thread became a second worker"
        reporter.report(span(1))
        assert reporter.flush(5) and reporter.close(5)
        assert sender.ids() == [f"{i + 1:016x}" for i in range(2)]
    finally:
        go.set()
        reporter.close(1)


def test_a_worker_a_signal_marked_stopped_still_delivers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before Python 3.13 a signal handler's exception raised inside ``Thread.is_alive()``
    or ``join()`` marks the running thread stopped for good (CPython gh-90882): from
    then on both say it is dead. The reporter must not believe them."""
    sender = RecordingSender()
    reporter = AsyncReporter(DictJsonEncoder(), sender, close_at_exit=False)
    try:
        reporter.report(span(0))
        assert reporter.flush(5)
        worker = next(t for t in threading.enumerate() if t.name == "zipkin-reporter")
        monkeypatch.setattr(threading.Thread, "is_alive", lambda self: False)
        monkeypatch.setattr(threading.Thread, "join", lambda self, timeout=None: None)
        reporter.report(span(1))
        started = time.monotonic()
        assert reporter.flush(20), reporter.metrics
        # The worker sent it at once. Believing it dead, flush() would instead
        # try to deliver on this thread and wait its whole timeout for the
        # worker's claim on delivery.
        assert time.monotonic() - started < 10
        assert reporter.close(5)
        monkeypatch.undo()
        worker.join(5)
        assert not worker.is_alive(), "close() returned before the worker ended"
        assert sender.ids() == [f"{i + 1:016x}" for i in range(2)]
        assert_invariant(reporter.metrics)
    finally:
        monkeypatch.undo()
        reporter.close(1)
