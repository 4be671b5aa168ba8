#!/usr/bin/env python3
"""Fetch, start and stop a real Zipkin server without Docker.

The official ``io.zipkin:zipkin-server`` exec jar comes from Maven Central
through ``mvn`` and runs on the machine's Java (17+) on 127.0.0.1 with
in-memory storage. Standard library only: it runs before any virtualenv.

    python scripts/zipkin_server.py run     # foreground, Ctrl-C stops it
    python scripts/zipkin_server.py start   # background; prints the URL
    python scripts/zipkin_server.py stop    # stops what `start` started
    python scripts/zipkin_server.py url     # a healthy URL, starting one if needed

Environment: ``ZIPKIN_URL`` (use that collector, start nothing),
``ZIPKIN_PORT`` (default 9411), ``ZIPKIN_VERSION`` (default below),
``ZIPKIN_CACHE_DIR`` (where the jar is kept, default ~/.cache/zipkin-opentracing),
``ZIPKIN_START_TIMEOUT`` (seconds to wait for /health, default 120).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Optional

ZIPKIN_VERSION = os.environ.get("ZIPKIN_VERSION", "3.6.1")
REPO_ROOT = Path(__file__).resolve().parent.parent
STATE_DIR = REPO_ROOT / ".zipkin"
PID_FILE = STATE_DIR / "zipkin.pid"
LOG_FILE = STATE_DIR / "zipkin.log"


class ZipkinUnavailable(RuntimeError):
    """No collector could be had; the message says why and what to do."""


def port() -> int:
    return int(os.environ.get("ZIPKIN_PORT", "9411"))


def local_url() -> str:
    return f"http://127.0.0.1:{port()}"


def cache_dir() -> Path:
    default = Path.home() / ".cache" / "zipkin-opentracing"
    return Path(os.environ.get("ZIPKIN_CACHE_DIR", default))


def jar_path() -> Path:
    return cache_dir() / f"zipkin-server-{ZIPKIN_VERSION}-exec.jar"


def is_healthy(url: str, timeout: float = 2.0) -> bool:
    """True when ``url``/health answers UP (the probe itself is not traced)."""
    request = urllib.request.Request(url.rstrip("/") + "/health", headers={"b3": "0"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.load(response).get("status") == "UP"
    except (OSError, ValueError, urllib.error.URLError):
        return False


def fetch_jar() -> Path:
    """Copy the exec jar from Maven Central into the cache (once)."""
    jar = jar_path()
    if jar.is_file():
        return jar
    if shutil.which("mvn") is None:
        raise ZipkinUnavailable("mvn is not installed; it fetches the Zipkin server jar")
    jar.parent.mkdir(parents=True, exist_ok=True)
    artifact = f"io.zipkin:zipkin-server:{ZIPKIN_VERSION}:jar:exec"
    command = [
        "mvn",
        "--batch-mode",
        "--quiet",
        "dependency:copy",
        f"-Dartifact={artifact}",
        f"-DoutputDirectory={jar.parent}",
    ]
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0 or not jar.is_file():
        raise ZipkinUnavailable(f"could not fetch {artifact} with mvn:\n{result.stdout[-2000:]}")
    return jar


def java_command(jar: Path) -> list:
    java = shutil.which("java")
    if java is None:
        raise ZipkinUnavailable("java is not installed; the Zipkin server needs Java 17+")
    return [
        java,
        "-Xms64m",
        "-Xmx1g",
        "-jar",
        str(jar),
        f"--armeria.ports[0].port={port()}",
        "--armeria.ports[0].ip=127.0.0.1",
        "--armeria.ports[0].protocols=http",
    ]


def server_env() -> dict:
    env = dict(os.environ)
    env.update({"STORAGE_TYPE": "mem", "SELF_TRACING_ENABLED": "false"})
    return env


def wait_healthy(url: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_healthy(url):
            return
        if process.poll() is not None:
            raise ZipkinUnavailable(
                f"Zipkin exited with code {process.returncode} before it was healthy; see {log}"
            )
        time.sleep(0.5)
    raise ZipkinUnavailable(
        f"Zipkin did not report UP at {url}/health in {timeout:.0f}s; see {log}"
    )


def start(log: Path = LOG_FILE) -> subprocess.Popen:
    """Start a server in the background and wait until it is healthy."""
    url = local_url()
    if is_healthy(url):
        raise ZipkinUnavailable(f"a collector already answers at {url}")
    jar = fetch_jar()
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as log_stream:
        process = subprocess.Popen(
            java_command(jar),
            stdout=log_stream,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=server_env(),
            start_new_session=True,
        )
    try:
        wait_healthy(url, process, log, float(os.environ.get("ZIPKIN_START_TIMEOUT", "120")))
    except BaseException:
        stop_process(process.pid)
        raise
    return process


def stop_process(pid: int, timeout: float = 20.0) -> None:
    """SIGTERM, then SIGKILL after ``timeout`` seconds."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            finished, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # not our child: poll for existence instead
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            finished = 0
        if finished:
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def ensure_url() -> Optional[str]:
    """A healthy collector URL: $ZIPKIN_URL, one already running, or None."""
    url = os.environ.get("ZIPKIN_URL")
    if url:
        if not is_healthy(url):
            raise ZipkinUnavailable(f"ZIPKIN_URL={url} does not answer UP on /health")
        return url.rstrip("/")
    return local_url() if is_healthy(local_url()) else None


def main(argv: list) -> int:
    command = argv[1] if len(argv) > 1 else "run"
    try:
        if command == "run":
            if ensure_url():
                print(f"A Zipkin server already answers at {ensure_url()}")
                return 0
            process = start()
            print(f"Zipkin {ZIPKIN_VERSION} is up: UI at {local_url()}/zipkin/ (log: {LOG_FILE})")
            print("Ctrl-C stops it.")
            try:
                process.wait()
            except KeyboardInterrupt:
                stop_process(process.pid)
            return 0
        if command in ("start", "url"):
            url = ensure_url()
            if url is None:
                process = start()
                PID_FILE.write_text(str(process.pid))
                url = local_url()
            print(url)
            return 0
        if command == "stop":
            if PID_FILE.is_file():
                stop_process(int(PID_FILE.read_text()))
                PID_FILE.unlink()
            return 0
    except ZipkinUnavailable as error:
        print(f"zipkin_server: {error}", file=sys.stderr)
        return 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
