"""What the service scripts share: Maven fetches, free ports, start, wait, stop.

Standard library only (the scripts run before any virtualenv). Every server
binds 127.0.0.1, every wait is bounded, and a process is stopped by its pid.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

REPO_ROOT = Path(__file__).resolve().parent.parent
#: Pid files and logs of what `start` commands run for a person.
STATE_DIR = REPO_ROOT / ".zipkin"


class ServiceUnavailable(RuntimeError):
    """A service could not be had; the message says why and what to do."""


def cache_dir() -> Path:
    """Downloads live outside the repository and survive `make clean`."""
    default = Path.home() / ".cache" / "zipkin-opentracing"
    return Path(os.environ.get("ZIPKIN_CACHE_DIR", default))


def require(tool: str, why: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise ServiceUnavailable(f"{tool} is not installed; {why}")
    return path


def mvn(args: Sequence[str], what: str) -> None:
    """Run Maven in batch mode; a failure names the artifact and shows Maven's tail."""
    command = [require("mvn", f"it fetches {what} from Maven Central"), "--batch-mode", "--quiet"]
    result = subprocess.run(
        [*command, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    if result.returncode != 0:
        raise ServiceUnavailable(f"could not fetch {what} with mvn:\n{result.stdout[-2000:]}")


def mvn_copy(artifact: str, directory: Path) -> None:
    """Copy one artifact (``group:id:version:type[:classifier]``) into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    mvn(["dependency:copy", f"-Dartifact={artifact}", f"-DoutputDirectory={directory}"], artifact)


def free_port() -> int:
    """A TCP port nothing listens on right now (on 127.0.0.1)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_from_env(name: str, default: int) -> int:
    return int(os.environ.get(name, str(default)))


def java() -> str:
    return require("java", "the servers need Java 17+")


def spawn(
    command: List[str],
    log: Path,
    env: Optional[Dict[str, str]] = None,
    cwd: Optional[Path] = None,
) -> subprocess.Popen:
    """Start ``command`` in its own session, output to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as stream:
        return subprocess.Popen(
            command,
            stdout=stream,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )


def wait_for(
    ready: Callable[[], bool],
    process: subprocess.Popen,
    what: str,
    log: Path,
    timeout: float,
) -> None:
    """Poll ``ready`` until it holds; fail if the process exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        if process.poll() is not None:
            raise ServiceUnavailable(
                f"{what} exited with code {process.returncode} before it was ready; see {log}"
            )
        time.sleep(0.25)
    raise ServiceUnavailable(f"{what} was not ready in {timeout:.0f}s; see {log}")


def in_parallel(*starts: Callable[[], None]) -> None:
    """Run the start functions side by side (each waits for its own server);
    the first failure is raised once all have returned."""
    failures: List[BaseException] = []

    def run(start: Callable[[], None]) -> None:
        try:
            start()
        except BaseException as error:  # re-raised below, on the calling thread
            failures.append(error)

    threads = [threading.Thread(target=run, args=(start,)) for start in starts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


def start_timeout(default: float = 120.0) -> float:
    return float(os.environ.get("ZIPKIN_START_TIMEOUT", str(default)))


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
        return
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def write_pid(name: str, pid: int) -> None:
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    (STATE_DIR / f"{name}.pid").write_text(str(pid))


def stop_by_pid_file(name: str) -> None:
    pid_file = STATE_DIR / f"{name}.pid"
    if pid_file.is_file():
        stop_process(int(pid_file.read_text()))
        pid_file.unlink()


def command_line(
    argv: Sequence[str],
    *,
    name: str,
    title: str,
    address: str,
    already_up: Callable[[], bool],
    service: Any,
    usage: str,
) -> int:
    """``run`` (foreground until Ctrl-C), ``start`` (in the background, pid file) or ``stop``.

    ``service`` has ``start()``, ``stop()`` and the ``process`` it started.
    """
    command = argv[1] if len(argv) > 1 else "run"
    try:
        if command in ("run", "start"):
            if already_up():
                print(f"{title} already answers at {address}")
                return 0
            service.start()
            if command == "start":
                write_pid(name, service.process.pid)
                print(address)
                return 0
            print(f"{title} is up at {address}; Ctrl-C stops it.")
            try:
                service.process.wait()
            except KeyboardInterrupt:
                service.stop()
            return 0
        if command == "stop":
            stop_by_pid_file(name)
            return 0
    except ServiceUnavailable as error:
        print(f"{name}_server: {error}", file=sys.stderr)
        return 1
    print(usage, file=sys.stderr)
    return 2
