"""Run a small traced program in a fresh interpreter and return what it printed.

A fresh interpreter because the test runner's own logging capture would count
as configuration, and the point is what a program with none sees.
"""

from __future__ import annotations

import subprocess
import sys
from typing import List, Tuple

SCRIPT = """
import logging, sys
if sys.argv[2] == "configured":
    logging.basicConfig(stream=sys.stdout, format="APP %(levelname)s %(name)s: %(message)s")
from zipkin_tracer import ZipkinTracer
options = {"max_queue_size": 2, "flush_interval": 0.05, **eval(sys.argv[3])}
tracer = ZipkinTracer(collector_url=sys.argv[1], **options)
for batch in range(2):
    for _ in range(20):
        tracer.start_span("work").finish()
    tracer.flush(timeout=0.5)
tracer.close(timeout=0.5)
"""


def run_traced(url: str, logging_setup: str, options: str = "{}") -> Tuple[List[str], List[str]]:
    """Two batches of 20 spans to ``url``; ``logging_setup`` "none" or "configured" (stdout).

    ``options`` (tracer keywords, as Python text) default to a two-span queue, which
    overflows: pass a larger ``max_queue_size`` to leave that out.
    """
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, url, logging_setup, options],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines(), done.stderr.splitlines()


def one(lines: List[str], words: str) -> str:
    """The single line holding ``words``."""
    found = [line for line in lines if words in line]
    assert len(found) == 1, (words, lines)
    return found[0]
