"""Exit and fork behaviour, each in a fresh interpreter talking to a fake collector."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Iterator, Tuple

import pytest

from tests.support.fake_collector import Action, Blackhole, FakeCollector
from tests.support.reporting import assert_invariant
from zipkin_tracer.reporting.process import fork_sentinel

ROOT = Path(__file__).resolve().parents[3]

PRELUDE = """
import logging, os, sys, time
from tests.support.fakes import DictJsonEncoder, span
import zipkin_tracer.reporting.process as process
import zipkin_tracer.reporting.reporter as rr
from zipkin_tracer.transport.http import HttpSender

def reporter(url, **kwargs):
    return rr.AsyncReporter(DictJsonEncoder(), HttpSender(url, timeout=5), **kwargs)
"""

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")


def run(
    code: str, timeout: float = 20, before: str = ""
) -> Tuple[subprocess.CompletedProcess, float]:
    """``code`` after the prelude; ``before`` ahead of it, before the reporter is imported."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(before) + PRELUDE + textwrap.dedent(code)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return result, time.monotonic() - start


@pytest.fixture
def server() -> Iterator[FakeCollector]:
    collector = FakeCollector()
    yield collector
    collector.stop()


def test_exit_flushes_everything_and_keeps_the_exit_code(server: FakeCollector) -> None:
    result, _ = run(
        f"""
        r = reporter({server.url!r}, flush_interval=30)
        for i in range(5000):
            r.report(span(i))
        sys.exit(3)
        """
    )
    assert result.returncode == 3, result.stderr
    ids = server.received_ids()
    assert len(ids) == len(set(ids)) == 5000
    assert "Traceback" not in result.stderr


# Registered before the reporter module installs its exit hook, so it runs after it.
AFTER_EXIT_HOOK = """
import atexit, json, threading
@atexit.register
def after_the_exit_hook():
    r = globals()["r"]
    print(json.dumps({"closed": r._closed, "worker_started": r._worker is not None,
        "threads": threading.active_count(), "metrics": r.metrics}))
"""


def test_exit_with_a_dead_collector_is_bounded_by_close_timeout() -> None:
    hole = Blackhole()
    try:
        # The POST waits a minute for an answer: an exit hook that waited for
        # it, not for its one-second budget, would overrun the run's timeout.
        result, _ = run(
            f"""
            logging.basicConfig()
            r = rr.AsyncReporter(
                DictJsonEncoder(), HttpSender({hole.url!r}, timeout=60), close_timeout=1.0
            )
            for i in range(5000):
                r.report(span(i))
            sys.stderr.close()  # a daemon or pytest capture may have closed it
            sys.exit(4)
            """,
            before=AFTER_EXIT_HOOK,
        )
        assert result.returncode == 4
        assert "closed file" not in result.stderr and "Traceback" not in result.stderr
        out = json.loads(result.stdout)
        m = out["metrics"]
        assert out["closed"] and m["spans"] == 5000 and m["spans_delivered"] == 0, out
        # given up at the budget, with the POST still unanswered
        assert m["in_flight_spans"] > 0 and m["queued_spans"] == 0, m
        assert_invariant(m)
    finally:
        hole.close()


def test_without_the_exit_hook_the_daemon_worker_does_not_hold_exit() -> None:
    hole = Blackhole()
    try:
        # The worker's POST waits a minute: had it held exit, the run would time out.
        result, _ = run(
            f"""
            r = rr.AsyncReporter(
                DictJsonEncoder(), HttpSender({hole.url!r}, timeout=60),
                close_at_exit=False, flush_interval=0.01,
            )
            for i in range(100):
                r.report(span(i))
            deadline = time.monotonic() + 10  # bounded: until the worker is in the POST
            while r.metrics["in_flight_spans"] < 100 and time.monotonic() < deadline:
                time.sleep(0.01)
            """,
            before=AFTER_EXIT_HOOK,
        )
        assert result.returncode == 0, result.stderr
        out = json.loads(result.stdout)
        assert not out["closed"], "the exit hook closed a reporter that opted out"
        assert out["metrics"]["in_flight_spans"] == 100, out  # exited mid-POST
    finally:
        hole.close()


def test_nothing_pending_means_no_exit_cost(server: FakeCollector) -> None:
    # An hour's budget: an exit hook that waited at all would hang the run.
    result, _ = run(f"r = reporter({server.url!r}, close_timeout=3600)", before=AFTER_EXIT_HOOK)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["closed"], "the exit hook did not close the reporter"
    # no worker thread was started (so none was joined) and nothing was sent
    assert not out["worker_started"] and out["threads"] == 1, out
    assert out["metrics"]["messages"] == out["metrics"]["spans"] == 0, out
    assert server.requests == 0


def test_flush_then_hard_exit_delivers(server: FakeCollector) -> None:
    result, _ = run(
        f"""
        r = reporter({server.url!r}, flush_interval=30)
        r.report(span(0))
        os._exit(0 if r.flush(5) else 1)
        """
    )
    assert result.returncode == 0, result.stderr
    assert server.received_ids() == [span_id(0)]


def span_id(i: int) -> str:
    return f"{i + 1:016x}"


FORK = """
hooks = {hooks}
process.fork_hooks_enabled = hooks
r = reporter({url!r}, flush_interval=30)
for i in range(1000):
    r.report(span(i))
r.metrics  # the parent's spans are queued or in flight, none sent yet
pid = os.fork()
if pid == 0:
    assert r.metrics["spans"] == 0 or not hooks
    for i in range(10):
        r.report(span(100000 + i))
    ok = r.flush(5)
    os._exit(0 if ok and r.metrics["spans_delivered"] == 10 else 1)
_, status = os.waitpid(pid, 0)
sys.exit(0 if r.flush(5) and status == 0 else 1)
"""


@pytest.mark.parametrize("hooks", [True, False], ids=["fork-hooks", "pid-check-only"])
def test_fork_parent_and_child_spans_each_delivered_once(
    server: FakeCollector, hooks: bool
) -> None:
    result, _ = run(FORK.format(hooks=hooks, url=server.url))
    assert result.returncode == 0, result.stderr
    ids = server.received_ids()
    assert len(ids) == len(set(ids)) == 1010
    assert set(ids) == {span_id(i) for i in range(1000)} | {span_id(100000 + i) for i in range(10)}


def test_fork_during_sends_deadlocks_neither_side() -> None:
    collector = FakeCollector(lambda n: Action(delay=0.3))
    try:
        result, _ = run(
            f"""
            r = reporter({collector.url!r}, flush_interval=0.01)
            children = []
            for round in range(5):
                for i in range(200):
                    r.report(span(round * 1000 + i))
                time.sleep(0.05)  # let the worker be mid-POST when we fork
                pid = os.fork()
                if pid == 0:
                    start = time.monotonic()
                    r.report(span(900000 + round))
                    ok = r.flush(3)
                    os._exit(0 if ok and time.monotonic() - start < 2 else 1)
                children.append(pid)
            codes = [os.waitpid(pid, 0)[1] for pid in children]
            sys.exit(0 if r.flush(10) and not any(codes) else 1)
            """,
            timeout=40,
        )
        assert result.returncode == 0, result.stderr
        ids = collector.received_ids()
        assert len(ids) == len(set(ids)) == 5 * 200 + 5
    finally:
        collector.stop()


def test_an_unused_reporter_starts_no_thread_so_fork_stays_quiet() -> None:
    # On 3.12+ forking a multi-threaded process warns; a pre-fork master that
    # built a reporter but never traced must stay single-threaded.
    result, _ = run(
        """
        import threading, warnings
        warnings.simplefilter("error", DeprecationWarning)
        r = reporter("http://127.0.0.1:9")
        r.metrics
        r.flush(0.1)
        assert threading.active_count() == 1
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        sys.exit(os.waitpid(pid, 0)[1])
        """
    )
    assert result.returncode == 0, result.stderr


def test_a_forked_child_sees_the_fork_sentinel_zeroed() -> None:
    page = fork_sentinel()
    if not sys.platform.startswith("linux") or platform.machine() != "x86_64":
        pytest.skip("MADV_WIPEONFORK is only used on Linux")
    assert page is not None and page[0] == 1
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.write(write, bytes([page[0]]))
        os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read, 1) == b"\x00" and page[0] == 1
    os.close(read)
    os.close(write)
