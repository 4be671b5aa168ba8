"""``zipkin-tracer`` against the real Zipkin: check, trace and send, as a person runs them."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Tuple

import pytest

from tests.integration.zipkin_api import ZipkinApi
from zipkin_tracer import ZipkinTracer, cli
from zipkin_tracer.logs import format_id

TRACE_LINE = re.compile(r"trace ((?:[0-9a-f]{16}){1,2})\b")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("ZIPKIN_", "OTEL_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ZIPKIN_SERVICE_NAME", "cli-e2e")


def run(*argv: str) -> Tuple[int, str]:
    out = io.StringIO()
    return cli.main(list(argv), out=out), out.getvalue()


@pytest.mark.parametrize("encoding", ["json", "thrift"])
def test_check_passes_and_its_span_is_in_zipkin(
    zipkin: ZipkinApi, zipkin_url: str, encoding: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZIPKIN_URL", zipkin_url)
    monkeypatch.setenv("ZIPKIN_ENCODING", encoding)
    code, out = run("check")
    assert code == cli.OK, out
    assert "ok     collector health: GET /health: UP" in out
    assert out.rstrip().endswith("zipkin-tracer check: everything works")
    match = TRACE_LINE.search(out)
    assert match is not None
    trace_id = match.group(1)
    assert f"{zipkin_url}/zipkin/traces/{trace_id}" in out
    (span,) = zipkin.trace(trace_id)
    assert span["name"] == "zipkin-tracer check"
    assert span["localEndpoint"]["serviceName"] == "cli-e2e"


def test_check_with_the_ui_url_fails_and_says_so(zipkin_url: str) -> None:
    code, out = run("check", "--collector-url", f"{zipkin_url}/zipkin/")
    assert code == cli.FAILED
    assert "answered 404 (http_404)" in out and "not the UI's" in out


def test_trace_prints_a_stored_trace_as_a_tree(zipkin: ZipkinApi, zipkin_url: str) -> None:
    tracer = ZipkinTracer("cli-tree", collector_url=zipkin_url)
    with tracer.start_active_span("checkout") as scope:
        with tracer.start_active_span("charge", tags={"span.kind": "client"}):
            pass
        trace_id = format_id(scope.span.context.trace_id)
    assert tracer.flush(timeout=10.0) is True
    tracer.close(timeout=2.0)
    zipkin.wait_for_trace(trace_id, spans=2)

    code, out = run("trace", "--collector-url", zipkin_url, trace_id)

    assert code == cli.OK, out
    lines = out.splitlines()
    assert lines[0] == f"trace {trace_id}: 2 spans"
    assert lines[1].strip() == f"{zipkin_url}/zipkin/traces/{trace_id}"
    assert re.match(r"  cli-tree +LOCAL +checkout ", lines[2])
    assert re.match(r"  └─ cli-tree +CLIENT +charge ", lines[3])


def test_trace_of_an_unknown_id_fails(zipkin_url: str) -> None:
    code, out = run("trace", "--collector-url", zipkin_url, "00000000000000aa")
    assert code == cli.FAILED
    assert out.startswith("trace 00000000000000aa is not in Zipkin")


def test_send_prints_the_ui_link_of_a_stored_three_span_trace(
    zipkin: ZipkinApi, zipkin_url: str
) -> None:
    code, out = run("send", "--collector-url", zipkin_url)
    assert code == cli.OK, out
    match = re.fullmatch(r"sent trace ((?:[0-9a-f]{16}){1,2}): (\S+)\n", out)
    assert match is not None, out
    assert match.group(2) == f"{zipkin_url}/zipkin/traces/{match.group(1)}"
    spans = zipkin.wait_for_trace(match.group(1), spans=3)
    client = next(s for s in spans if s.get("kind") == "CLIENT")
    assert client["remoteEndpoint"]["serviceName"] == "zipkin-tracer-peer"


@pytest.mark.parametrize("how", ["module", "console script"])
def test_the_command_runs_as_a_program(zipkin_url: str, how: str) -> None:
    if how == "module":
        command = [sys.executable, "-m", "zipkin_tracer"]
    else:
        command = [str(Path(sys.executable).with_name("zipkin-tracer"))]
    env = {**os.environ, "ZIPKIN_URL": zipkin_url}
    done = subprocess.run([*command, "check"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "zipkin-tracer check: everything works" in done.stdout
