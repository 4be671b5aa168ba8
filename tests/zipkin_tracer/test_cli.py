"""The command line against collectors that fail: each failure named, exit status non-zero."""

from __future__ import annotations

import io
import os
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Iterator, List, Tuple

import pytest

from tests.support.ports import dead_port
from zipkin_tracer import cli


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests' own ZIPKIN_URL/ZIPKIN_PORT must not leak into the configuration shown."""
    for name in list(os.environ):
        if name.startswith(("ZIPKIN_", "OTEL_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ZIPKIN_SERVICE_NAME", "cli-test")


@pytest.fixture
def dead_url() -> Iterator[str]:
    with dead_port() as port:
        yield f"http://127.0.0.1:{port}"


def run(*argv: str) -> Tuple[int, str]:
    out = io.StringIO()
    code = cli.main(list(argv), out=out)
    return code, out.getvalue()


def lines_with(text: str, word: str) -> List[str]:
    return [line for line in text.splitlines() if word in line]


def test_check_against_a_dead_port_fails_at_the_health_probe(dead_url: str) -> None:
    code, out = run("check", "--collector-url", dead_url)
    assert code == cli.FAILED
    (failed,) = lines_with(out, "FAILED")
    assert failed.startswith(f"FAILED collector health: nothing answers at {dead_url}/health")
    assert "is Zipkin running" in failed
    assert "test span" not in out  # it stops at the first failing step


def test_check_prints_every_value_and_where_it_came_from(
    dead_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZIPKIN_URL", dead_url)
    monkeypatch.setenv("ZIPKIN_HEADERS", "Authorization=Bearer s3cr3t")
    code, out = run("check", "--encoding", "thrift")
    assert code == cli.FAILED
    assert lines_with(out, "collector_url")[0].split() == ["collector_url", dead_url, "$ZIPKIN_URL"]
    assert lines_with(out, "encoding")[0].split() == ["encoding", "thrift", "argument"]
    assert lines_with(out, "service_name")[0].split()[-1] == "$ZIPKIN_SERVICE_NAME"
    assert lines_with(out, "max_queue_size")[0].split() == ["max_queue_size", "10000", "default"]
    assert "Authorization" in out and "s3cr3t" not in out


def test_check_notes_a_missing_service_name_and_an_unread_zipkin_port(
    dead_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ZIPKIN_SERVICE_NAME")
    monkeypatch.setenv("ZIPKIN_PORT", "9481")
    code, out = run("check", "--collector-url", dead_url)
    assert code == cli.FAILED
    assert "note: no service name" in out
    # given explicitly, the URL wins: ZIPKIN_PORT is not what was meant
    assert "ZIPKIN_PORT" not in out

    code, out = run("check")
    assert "note: $ZIPKIN_PORT=9481 is set, but the tracer does not read it" in out
    assert "ZIPKIN_URL=http://127.0.0.1:9481" in out


def test_check_names_a_host_that_does_not_resolve() -> None:
    code, out = run("check", "--collector-url", "http://no-such-host.invalid:9411")
    assert code == cli.FAILED
    assert "cannot resolve the host name 'no-such-host.invalid'" in out


def test_a_bad_option_exits_2_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZIPKIN_SAMPLER_PARAM", "0.1")
    code, out = run("check")
    assert code == cli.USAGE
    assert out.startswith("configuration error: sampler_param (from $ZIPKIN_SAMPLER_PARAM)")
    assert "ZIPKIN_SAMPLER=probabilistic" in out


def test_send_to_a_dead_port_fails_within_its_wait(dead_url: str) -> None:
    code, out = run("send", "--collector-url", dead_url, "--wait", "0.5")
    assert code == cli.FAILED
    assert out.startswith(f"FAILED: the spans did not reach {dead_url} within 0.5s")


def test_trace_from_a_dead_port_fails(dead_url: str) -> None:
    code, out = run("trace", "--collector-url", dead_url, "463ac35c9f6413ad")
    assert code == cli.FAILED
    assert out.startswith(f"could not ask {dead_url} for trace 463ac35c9f6413ad")


@pytest.mark.parametrize("bad", ["xyz", "463ac35c9f6413a", "463AC35C9F6413AD0"])
def test_trace_refuses_what_is_not_a_trace_id(bad: str) -> None:
    code, out = run("trace", bad)
    assert code == cli.USAGE
    assert out.startswith(f"not a trace ID: {bad!r}")


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main([])
    assert exited.value.code == 2
    assert "COMMAND" in capsys.readouterr().err


def test_an_encoding_implied_by_the_url_path_says_so(dead_url: str) -> None:
    code, out = run("check", "--collector-url", f"{dead_url}/api/v1/spans")
    assert code == cli.FAILED
    assert lines_with(out, "encoding")[0].split() == [
        "encoding",
        "thrift",
        "collector_url's",
        "path",
    ]


class _NotZipkin(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"[1, 2]" if self.path == "/health" else b""
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_a_server_that_is_not_zipkin_is_named_as_such() -> None:
    server = HTTPServer(("127.0.0.1", 0), _NotZipkin)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        code, out = run("check", "--collector-url", f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    assert code == cli.FAILED
    assert "answered, but not as a Zipkin server (status None)" in out
