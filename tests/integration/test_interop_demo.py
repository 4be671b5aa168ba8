"""`make demo` as a person runs it: ``demo/run.py`` in its own process, against a real Zipkin."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import List

from tests.integration.zipkin_api import ZipkinApi

REPO = Path(__file__).resolve().parent.parent.parent
RUN = REPO / "demo" / "run.py"
# Each trace, top to bottom: (service, kind) of every line of the drawn tree.
CHAIN = [
    ("demo-client", "LOCAL"),
    ("demo-client", "CLIENT"),
    ("frontend", "SERVER"),
    ("frontend", "CLIENT"),
    ("catalog", "SERVER"),
    ("catalog", "CLIENT"),
    ("backend", "SERVER"),
    ("backend", "CLIENT"),
    ("pricing", "SERVER"),
]


def run_demo(zipkin_url: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, ZIPKIN_URL=zipkin_url)
    return subprocess.run(
        [sys.executable, str(RUN)],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


def tree_lines(stdout: str, trace_id: str) -> List[str]:
    """The lines drawn under ``trace <id>:`` (after the UI link), up to the blank line."""
    block = stdout.split(f"trace {trace_id}: ", 1)[1].split("\n\n", 1)[0]
    return block.splitlines()[2:]


def test_demo_prints_complete_trees_and_links(zipkin_url: str, zipkin: ZipkinApi) -> None:
    result = run_demo(zipkin_url)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.rstrip().endswith("All traces complete.")
    assert "scripts/zipkin_server.py stop" not in result.stdout  # it started no collector
    trace_ids = re.findall(r"^trace ([0-9a-f]{16}): 9 spans$", result.stdout, re.M)
    assert len(trace_ids) == 3
    for trace_id in trace_ids:
        assert f"  {zipkin_url}/zipkin/traces/{trace_id}\n" in result.stdout
        lines = tree_lines(result.stdout, trace_id)
        drawn = [tuple(re.sub(r"^[\s│├└─]+", "", line).split()[:2]) for line in lines]
        assert drawn == CHAIN, lines
        depths = [len(line) - len(re.sub(r"^[\s│├└─]+", "", line)) for line in lines]
        assert depths == sorted(set(depths)), lines  # one level deeper per line
        assert len(zipkin.trace(trace_id)) == 9


def test_demo_says_why_when_the_collector_is_down() -> None:
    result = run_demo("http://127.0.0.1:9")

    assert result.returncode == 1
    assert result.stderr.strip() == (
        "demo: no Zipkin collector: ZIPKIN_URL=http://127.0.0.1:9 does not answer UP on /health"
    )
