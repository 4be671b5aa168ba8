"""Exit and fork behaviour, each in a fresh interpreter talking to a fake collector."""

from __future__ import annotations

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


def run(code: str, timeout: float = 20) -> Tuple[subprocess.CompletedProcess, float]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(code)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return result, time.monotonic() - start


@pytest.fixture
def startup() -> float:
    """How long the interpreter takes to import everything and exit, for time budgets."""
    _, seconds = run("pass")
    return seconds


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


def test_exit_with_a_dead_collector_is_bounded_by_close_timeout(startup: float) -> None:
    hole = Blackhole()
    try:
        result, seconds = run(
            f"""
            logging.basicConfig()
            r = reporter({hole.url!r}, close_timeout=1.0)
            for i in range(5000):
                r.report(span(i))
            sys.stderr.close()  # a daemon or pytest capture may have closed it
            sys.exit(4)
            """
        )
        assert result.returncode == 4
        assert seconds < startup + 1.0 + 0.5
        assert "closed file" not in result.stderr and "Traceback" not in result.stderr
    finally:
        hole.close()


def test_without_the_exit_hook_the_daemon_worker_does_not_hold_exit(startup: float) -> None:
    hole = Blackhole()
    try:
        result, seconds = run(
            f"""
            r = reporter({hole.url!r}, close_at_exit=False, flush_interval=0.01)
            for i in range(100):
                r.report(span(i))
            time.sleep(0.1)  # let the worker get stuck in the POST
            """
        )
        assert result.returncode == 0, result.stderr
        assert seconds < startup + 0.1 + 0.5
    finally:
        hole.close()


def test_nothing_pending_means_no_exit_cost(startup: float, server: FakeCollector) -> None:
    result, seconds = run(
        f"""
        r = reporter({server.url!r})
        """
    )
    assert result.returncode == 0
    assert seconds < startup + 0.3
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
