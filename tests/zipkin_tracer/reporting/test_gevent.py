"""The tracer in a gevent-patched process: greenlets instead of threads, every span once.

Each case runs a fresh interpreter that calls ``monkey.patch_all()`` before
anything else (as gevent servers do), so the reporter's worker, sender stage,
locks and sockets are all gevent's, against a collector in this process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

from tests.support.fake_collector import Action, FakeCollector
from tests.support.reporting import assert_invariant

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = """
from gevent import monkey
monkey.patch_all()
import json, sys
import gevent
from zipkin_tracer import ZipkinTracer

tracer = ZipkinTracer(service_name="greenlets", collector_url=sys.argv[1], flush_interval=0.05)

def handle(request):
    for index in range(250):
        with tracer.start_active_span("request") as scope:
            scope.span.set_tag("request", request)
            with tracer.start_active_span("query"):
                pass
        if index % 50 == 0:
            gevent.sleep(0)  # a request waiting on I/O lets the others run

greenlets = [gevent.spawn(handle, request) for request in range(20)]
gevent.joinall(greenlets, timeout=60, raise_error=True)
ending = sys.argv[2]
if ending == "flush":
    print(json.dumps({"flushed": tracer.flush(20), "metrics": tracer.metrics}))
# "exit": no flush, the exit hook delivers what is left
"""


@pytest.fixture
def collector() -> Iterator[FakeCollector]:
    server = FakeCollector(lambda n: Action(delay=0.01))  # a POST takes a while
    yield server
    server.stop()


def run(url: str, ending: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SCRIPT), url, ending],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_greenlets_deliver_every_span_once_and_flush_says_so(collector: FakeCollector) -> None:
    result = run(collector.url, "flush")
    assert result.returncode == 0, result.stderr[-3000:]
    out: Dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["flushed"], out
    metrics = out["metrics"]
    assert_invariant(metrics)
    assert metrics["spans"] == metrics["spans_delivered"] == 10_000, metrics
    ids = collector.received_ids()
    assert len(ids) == len(set(ids)) == 10_000


def test_greenlets_spans_are_delivered_at_exit(collector: FakeCollector) -> None:
    result = run(collector.url, "exit")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    ids = collector.received_ids()
    assert len(ids) == len(set(ids)) == 10_000
