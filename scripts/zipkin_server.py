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
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Dict, Optional, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))

import services
from services import stop_process

ZIPKIN_VERSION = os.environ.get("ZIPKIN_VERSION", "3.6.1")
STATE_DIR = services.STATE_DIR
PID_FILE = STATE_DIR / "zipkin.pid"
LOG_FILE = STATE_DIR / "zipkin.log"


class ZipkinUnavailable(services.ServiceUnavailable):
    """No collector could be had; the message says why and what to do."""


def port() -> int:
    return int(os.environ.get("ZIPKIN_PORT", "9411"))


def local_url() -> str:
    return f"http://127.0.0.1:{port()}"


def jar_path() -> Path:
    return services.cache_dir() / f"zipkin-server-{ZIPKIN_VERSION}-exec.jar"


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
    if not jar.is_file():
        try:
            services.mvn_copy(f"io.zipkin:zipkin-server:{ZIPKIN_VERSION}:jar:exec", jar.parent)
        except services.ServiceUnavailable as error:
            raise ZipkinUnavailable(str(error)) from None
    if not jar.is_file():
        raise ZipkinUnavailable(f"mvn did not leave {jar.name} in {jar.parent}")
    return jar


def java_command(jar: Path, listen_port: Optional[int] = None, args: Sequence[str] = ()) -> list:
    if shutil.which("java") is None:
        raise ZipkinUnavailable("java is not installed; the Zipkin server needs Java 17+")
    return [
        services.java(),
        "-Xms64m",
        "-Xmx1g",
        "-jar",
        str(jar),
        f"--armeria.ports[0].port={listen_port or port()}",
        "--armeria.ports[0].ip=127.0.0.1",
        "--armeria.ports[0].protocols=http",
        *args,
    ]


def server_env(extra: Optional[Dict[str, str]] = None) -> dict:
    """In-memory storage unless ``extra`` says otherwise (e.g. Kafka and Elasticsearch)."""
    env = dict(os.environ)
    env.update({"STORAGE_TYPE": "mem", "SELF_TRACING_ENABLED": "false"})
    env.update(extra or {})
    return env


def start(
    log: Path = LOG_FILE,
    *,
    listen_port: Optional[int] = None,
    env: Optional[Dict[str, str]] = None,
    args: Sequence[str] = (),
) -> subprocess.Popen:
    """Start a server in the background and wait until it is healthy.

    ``listen_port`` defaults to ``$ZIPKIN_PORT``; ``env`` adds server
    settings (``KAFKA_BOOTSTRAP_SERVERS``, ``STORAGE_TYPE``, ...) and ``args``
    Spring properties (``--name=value``).
    """
    url = f"http://127.0.0.1:{listen_port or port()}"
    if is_healthy(url):
        raise ZipkinUnavailable(f"a collector already answers at {url}")
    jar = fetch_jar()
    process = services.spawn(java_command(jar, listen_port, args), log, env=server_env(env))
    try:
        services.wait_for(
            lambda: is_healthy(url), process, f"Zipkin at {url}", log, services.start_timeout()
        )
    except services.ServiceUnavailable as error:
        stop_process(process.pid)
        raise ZipkinUnavailable(str(error)) from None
    except BaseException:
        stop_process(process.pid)
        raise
    return process


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
