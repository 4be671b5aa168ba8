"""Start demo services as separate processes and stop them, always."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Dict, List, Optional

import requests

REPO = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 30.0


class ServiceProcess:
    """A running ``demo.service``; ``url`` is its base URL on 127.0.0.1."""

    def __init__(
        self,
        name: str,
        collector_url: str,
        tracer: str = "ours",
        encoding: str = "json",
        downstream: Optional[str] = None,
        framework: str = "wsgi",
        command: Optional[List[str]] = None,
        environment: Optional[Dict[str, str]] = None,
    ) -> None:
        """``command`` replaces the ``demo.service`` command line and
        ``environment`` this process's (the other services of the test suite
        use the same start and stop)."""
        self.name = name
        if command is None:
            command = [sys.executable, "-m", "demo.service", name, "--tracer", tracer]
            command += ["--encoding", encoding, "--framework", framework]
            if downstream:
                command += ["--downstream", downstream]
        base = os.environ if environment is None else environment
        env = dict(base, ZIPKIN_URL=collector_url, PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(
            command,
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.output: List[str] = []
        try:
            self.port = self._wait_ready()
        except BaseException:  # not ready, Ctrl-C, ...: never leave the process behind
            self.stop()
            raise
        self.url = f"http://127.0.0.1:{self.port}"

    def _wait_ready(self) -> int:
        """Read stdout until ``READY <port>``, bounded by READY_TIMEOUT."""
        found: Dict[str, int] = {}
        done = threading.Event()

        def read() -> None:
            assert self.process.stdout is not None
            for line in self.process.stdout:
                self.output.append(line)
                if line.startswith("READY ") and not done.is_set():
                    found["port"] = int(line.split()[1])
                    done.set()
            done.set()

        threading.Thread(target=read, name=f"{self.name}-stdout", daemon=True).start()
        if not done.wait(READY_TIMEOUT) or "port" not in found:
            raise RuntimeError(f"service {self.name} did not start:\n{''.join(self.output)}")
        return found["port"]

    def get(self, path: str, headers: Optional[Dict[str, str]] = None) -> Any:
        response = requests.get(f"{self.url}{path}", headers=headers or {}, timeout=30)
        response.raise_for_status()
        return response.json()

    def flush(self) -> bool:
        return bool(self.get("/_tracer/flush").get("flushed", True))

    def metrics(self) -> Dict[str, Any]:
        return dict(self.get("/_tracer/metrics"))

    def terminate(self) -> None:
        """Ask the service to stop: it shuts its server down and closes its tracer."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM (the service closes its tracer), then SIGKILL after ``timeout``."""
        self.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return int(self.process.returncode)

    def log_tail(self, lines: int = 20) -> str:
        """The last lines the service printed (its stdout and stderr)."""
        printed = [line for line in self.output if not line.startswith("READY ")]
        return "".join(printed[-lines:])


class Cluster:
    """Services started in order (downstream first); all stopped on exit."""

    def __init__(self, collector_url: str) -> None:
        self.collector_url = collector_url
        self.services: List[ServiceProcess] = []

    def start(
        self,
        name: str,
        tracer: str = "ours",
        encoding: str = "json",
        downstream: Optional[ServiceProcess] = None,
        framework: str = "wsgi",
    ) -> ServiceProcess:
        service = ServiceProcess(
            name,
            self.collector_url,
            tracer=tracer,
            encoding=encoding,
            downstream=downstream.url if downstream else None,
            framework=framework,
        )
        self.services.append(service)
        return service

    def flush(self) -> bool:
        return all([service.flush() for service in self.services])

    def stop(self) -> None:
        """SIGTERM to every service at once, then wait for (or kill) each one."""
        services, self.services = self.services, []
        for service in reversed(services):
            service.terminate()
        for service in reversed(services):
            service.stop()

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()
