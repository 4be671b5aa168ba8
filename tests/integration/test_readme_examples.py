"""The README's runnable examples, run as a reader runs them, against the real Zipkin."""

from __future__ import annotations

import os
import random
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, Iterator, List

import pytest
import requests

from tests.integration.zipkin_api import NOT_TRACED, ZipkinApi
from tests.support import readme


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def reader_env(zipkin_url: str, **extra: str) -> Dict[str, str]:
    """The environment of a reader who pointed ZIPKIN_URL at their Zipkin, and nothing else."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZIPKIN_", "OTEL_"))}
    env.update(ZIPKIN_URL=zipkin_url, PYTHONUNBUFFERED="1", **extra)
    return env


def wait_listening(port: int, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            pytest.fail(f"server exited with {process.returncode}:\n{output}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)  # a child process's port: nothing to wait on but the port itself
    pytest.fail(f"nothing listens on {port} after {timeout}s")


@pytest.fixture
def servers() -> Iterator[List[subprocess.Popen]]:
    """Processes a test starts; stopped by pid afterwards."""
    started: List[subprocess.Popen] = []
    yield started
    for process in started:
        process.terminate()
    for process in started:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)


def b3_header() -> Dict[str, str]:
    trace_id, span_id = (f"{random.getrandbits(64) | 1:016x}" for _ in range(2))
    return {"b3": f"{trace_id}-{span_id}-1"}


def test_quickstart_prints_the_id_and_link_of_a_trace_that_is_in_zipkin(
    zipkin: ZipkinApi, zipkin_url: str, tmp_path: Path
) -> None:
    (tmp_path / "quickstart.py").write_text(readme.example("quickstart"))
    done = subprocess.run(
        [sys.executable, "quickstart.py"],
        cwd=tmp_path,
        env=reader_env(zipkin_url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    shown = readme.literal_block("It prints the trace's ID and its page in the Zipkin UI")
    pattern = re.escape(shown).replace("5af7183fb1d4cf5f", "((?:[0-9a-f]{16}){1,2})")
    pattern = pattern.replace(re.escape("http://localhost:9411"), re.escape(zipkin_url))
    match = re.fullmatch(pattern, done.stdout)
    assert match is not None, (pattern, done.stdout)
    spans = zipkin.wait_for_trace(match.group(1), spans=2)
    assert {s["name"] for s in spans} == {"checkout", "charge card"}
    client = next(s for s in spans if s.get("kind") == "CLIENT")
    assert client["remoteEndpoint"]["serviceName"] == "payments"


def test_two_flask_services_as_the_readme_runs_them(
    zipkin: ZipkinApi, zipkin_url: str, tmp_path: Path, servers: List[subprocess.Popen]
) -> None:
    (tmp_path / "inventory.py").write_text(readme.example("inventory"))
    (tmp_path / "frontend.py").write_text(readme.example("frontend"))
    commands = readme.literal_block("Run both and call the frontend").splitlines()
    ports = {"8081": free_port(), "8080": free_port()}
    env = reader_env(zipkin_url, INVENTORY_URL=f"http://127.0.0.1:{ports['8081']}")
    for command in commands[:2]:
        words = command.rstrip(" &").split()
        assert words[0] == "flask", command
        words[-1] = str(ports[words[-1]])
        servers.append(
            subprocess.Popen(
                [sys.executable, "-m", *words],
                cwd=tmp_path,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    for process, port in zip(servers, ports.values()):
        wait_listening(port, process)
    curl = commands[2].split()
    assert curl[0] == "curl"
    url = curl[1].replace(":8080", f":{ports['8080']}")
    headers = b3_header()

    answer = requests.get(url, headers=headers, timeout=10)

    assert answer.json() == {"item": 3, "stock": 12}
    trace_id, caller = headers["b3"].split("-")[:2]
    spans = zipkin.wait_for_trace(trace_id, spans=3)
    by = {(s["localEndpoint"]["serviceName"], s["kind"]): s for s in spans}
    assert set(by) == {("frontend", "SERVER"), ("frontend", "CLIENT"), ("inventory", "SERVER")}
    assert by["frontend", "SERVER"]["id"] == caller
    assert by["frontend", "SERVER"]["name"] == "get /items/<int:item_id>"
    assert by["inventory", "SERVER"]["id"] == by["frontend", "CLIENT"]["id"]
    assert by["inventory", "SERVER"]["name"] == "get /stock/<int:item_id>"
    links = requests.get(
        f"{zipkin_url}/api/v2/dependencies",
        params={"endTs": int(time.time() * 1000) + 60_000, "lookback": 3_600_000},
        headers=NOT_TRACED,
        timeout=10,
    ).json()
    assert any(link["parent"] == "frontend" and link["child"] == "inventory" for link in links)


def test_the_django_site_as_the_readme_runs_it(
    zipkin: ZipkinApi, zipkin_url: str, tmp_path: Path, servers: List[subprocess.Popen]
) -> None:
    (tmp_path / "shop.py").write_text(readme.example("django"))
    command = readme.text().split("run with ``", 1)[1].split("``", 1)[0].split()
    assert command == ["python", "shop.py", "runserver", "8000"]
    port = free_port()
    servers.append(
        subprocess.Popen(
            # --noreload: one process to stop, not a reloader and its child
            [sys.executable, "shop.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=tmp_path,
            env=reader_env(zipkin_url),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    )
    wait_listening(port, servers[0])
    headers = b3_header()

    answer = requests.get(f"http://127.0.0.1:{port}/orders/7", headers=headers, timeout=10)

    assert answer.json() == {"order": 7}
    (span,) = zipkin.wait_for_trace(headers["b3"].split("-")[0], spans=1)
    assert span["localEndpoint"]["serviceName"] == "shop"
    assert span["name"] == "get orders/<int:order_id>"
    assert span["tags"]["http.route"] == "orders/<int:order_id>"
    assert span["tags"]["http.status_code"] == "200"


def test_the_custom_reporter_block_delivers(zipkin_url: str) -> None:
    code = readme.example("custom reporter").replace('"http://zipkin:9411"', repr(zipkin_url))
    namespace: Dict[str, object] = {}
    exec(compile(code, str(readme.README), "exec"), namespace)
    tracer = namespace["tracer"]
    tracer.start_span("custom reporter").finish()  # type: ignore[attr-defined]
    assert tracer.flush(timeout=10.0) is True  # type: ignore[attr-defined]
    tracer.close(timeout=2.0)  # type: ignore[attr-defined]
