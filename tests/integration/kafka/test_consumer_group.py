"""Four producer processes, two Zipkin collectors in one consumer group: every
span stored exactly once, and both collectors did part of the work."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any, Dict, List

import requests

from tests.integration.kafka.stored import StoredSpans

ROOT = Path(__file__).resolve().parents[3]
SPANS_PER_PROCESS = 400

PRODUCER = """
import json, sys
from zipkin_tracer import ZipkinTracer

servers, encoding, service, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
# small messages: many of them, over every partition (and so both collectors)
tracer = ZipkinTracer(service, transport="kafka", kafka_bootstrap_servers=servers,
                      encoding=encoding, local_ip="127.0.0.1", flush_interval=0.05,
                      message_max_bytes=4096)
for trace in range(count // 5):
    with tracer.start_active_span("request", tags={"trace": trace}):
        for child in range(4):
            tracer.start_span(f"step-{child}").finish()
ok = tracer.flush(timeout=60.0)
metrics = tracer.reporter.metrics
tracer.close(timeout=5.0)
print(json.dumps({"flushed": ok, "metrics": metrics}))
"""


def kafka_spans_collected(url: str) -> float:
    """The collector's own count of spans it read from Kafka (Prometheus text)."""
    text = requests.get(f"{url}/prometheus", timeout=10).text
    total = 0.0
    for line in text.splitlines():
        match = re.match(r'zipkin_collector_spans_total\{.*transport="kafka".*\}\s+(\S+)', line)
        if match:
            total += float(match.group(1))
    return total


def test_four_producers_two_collectors_every_span_stored_once(
    kafka_stack: Any, bootstrap_servers: str, stored: StoredSpans
) -> None:
    run = uuid.uuid4().hex[:6]
    encodings = ["json", "proto3", "thrift", "proto3"]
    services = [f"group-{run}-{index}" for index in range(len(encodings))]
    before = [kafka_spans_collected(url) for url in kafka_stack.zipkin_urls]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                textwrap.dedent(PRODUCER),
                bootstrap_servers,
                encoding,
                service,
                str(SPANS_PER_PROCESS),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for encoding, service in zip(encodings, services)
    ]
    results: List[Dict[str, Any]] = []
    try:
        for process in processes:
            out, _ = process.communicate(timeout=120)
            assert process.returncode == 0
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    for result in results:
        assert result["flushed"] is True, result
        assert result["metrics"]["spans_delivered"] == SPANS_PER_PROCESS, result
        assert result["metrics"]["messages"] >= 8, result

    for service in services:
        copies = stored.wait_for(service, SPANS_PER_PROCESS)
        assert len(copies) == SPANS_PER_PROCESS, (service, len(copies))
        duplicated = {key: n for key, n in copies.items() if n != 1}
        assert not duplicated, (service, duplicated)

    gained = [kafka_spans_collected(url) - b for url, b in zip(kafka_stack.zipkin_urls, before)]
    assert sum(gained) == SPANS_PER_PROCESS * len(services), gained
    assert all(count > 0 for count in gained), gained  # the group split the partitions
