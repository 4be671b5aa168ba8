"""A process forks after its Kafka producer has run: parent and child both
deliver afterwards, and the child exits promptly (the inherited producer is
abandoned, never destroyed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from tests.integration.kafka.stored import StoredSpans

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = """
import json, os, sys, time
from zipkin_tracer import ZipkinTracer

servers, service = sys.argv[1], sys.argv[2]
tracer = ZipkinTracer(service, transport="kafka", kafka_bootstrap_servers=servers,
                      encoding="proto3", local_ip="127.0.0.1", flush_interval=0.05)
tracer.start_span("before-fork").finish()
assert tracer.flush(timeout=20.0)
pid = os.fork()
if pid == 0:
    tracer.start_span("in-child").finish()
    ok = tracer.flush(timeout=20.0)
    tracer.close(timeout=5.0)
    sys.exit(0 if ok else 3)  # a normal exit: interpreter shutdown runs
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        break
    time.sleep(0.05)
else:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    status = -1
tracer.start_span("in-parent").finish()
ok = tracer.flush(timeout=20.0)
tracer.close(timeout=5.0)
print(json.dumps({"child_status": status, "parent_flushed": ok}))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_parent_and_child_deliver_after_a_fork(bootstrap_servers: str, stored: StoredSpans) -> None:
    service = f"fork-{uuid.uuid4().hex[:6]}"
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SCRIPT), bootstrap_servers, service],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome == {"child_status": 0, "parent_flushed": True}, result.stderr
    copies = stored.wait_for(service, 3)
    assert len(copies) == 3 and set(copies.values()) == {1}, copies
