#!/usr/bin/env python3
"""Fetch, start and stop a single-node OpenSearch without Docker.

The minimal distribution (``integ-test-zip``, no plugins, no bundled JDK)
comes from Maven Central and runs on the machine's Java, bound to
127.0.0.1, as Zipkin's ``STORAGE_TYPE=elasticsearch`` backend. OpenSearch
refuses to run as root: under root it runs as ``nobody`` (``setpriv``), with
its tree and data owned by that user.

    python scripts/opensearch_server.py run     # foreground, Ctrl-C stops it
    python scripts/opensearch_server.py start   # background; prints the URL
    python scripts/opensearch_server.py stop    # stops what `start` started

Environment: ``OPENSEARCH_PORT`` (default 9200), ``OPENSEARCH_VERSION``
(default below), ``OPENSEARCH_RUNTIME_DIR`` (under root, where the node is
unpacked and keeps its data; default /var/tmp/zipkin-opentracing),
``ZIPKIN_CACHE_DIR``, ``ZIPKIN_START_TIMEOUT``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from typing import List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))

import services

OPENSEARCH_VERSION = os.environ.get("OPENSEARCH_VERSION", "2.19.6")
ARTIFACT = "org.opensearch.distribution.integ-test-zip:opensearch"
#: The user OpenSearch runs as when we are root.
RUN_AS = ("nobody", "nogroup")
HEAP = "-Xms384m -Xmx384m"


def runtime_root() -> Path:
    """Where the unpacked node and its data live: the cache, or, under root,
    a directory the unprivileged user can reach (a home directory is often
    closed to others)."""
    if os.geteuid() != 0:
        return services.cache_dir()
    root = Path(os.environ.get("OPENSEARCH_RUNTIME_DIR", "/var/tmp/zipkin-opentracing"))
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    return root


def home() -> Path:
    return runtime_root() / f"opensearch-{OPENSEARCH_VERSION}"


def fetch() -> Path:
    """The unpacked distribution in the cache (fetched by Maven once)."""
    target = home()
    if (target / "bin" / "opensearch").is_file():
        return target
    downloads = services.cache_dir() / "downloads"
    services.mvn_copy(f"{ARTIFACT}:{OPENSEARCH_VERSION}:zip", downloads)
    archive = downloads / f"opensearch-{OPENSEARCH_VERSION}.zip"
    unpack = target.with_name(target.name + ".partial")
    shutil.rmtree(unpack, ignore_errors=True)
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(unpack)
    (inner,) = list(unpack.iterdir())  # the zip holds one top directory
    for script in (inner / "bin").iterdir():
        script.chmod(0o755)
    inner.rename(target)
    unpack.rmdir()
    return target


def _as_user() -> List[str]:
    """A command prefix that drops root for OpenSearch, or nothing when not root."""
    if os.geteuid() != 0:
        return []
    user, group = RUN_AS
    setpriv = services.require("setpriv", "OpenSearch refuses root and setpriv drops it")
    return [setpriv, f"--reuid={user}", f"--regid={group}", "--clear-groups"]


def _chown_tree(path: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chown", "-R", ":".join(RUN_AS), str(path)], check=True)


def health(url: str, timeout: float = 2.0) -> bool:
    """True when the cluster is yellow or green (a single node is yellow at best)."""
    try:
        with urllib.request.urlopen(f"{url}/_cluster/health", timeout=timeout) as response:
            return json.load(response).get("status") in ("yellow", "green")
    except (OSError, ValueError, urllib.error.URLError):
        return False


class OpenSearch:
    """One node on ``port`` with its data under ``state``."""

    def __init__(self, state: Path, port: int) -> None:
        self.state = state
        self.port = port
        self.log = state / "opensearch.log"
        self.process: Optional[subprocess.Popen] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        install = fetch()
        java = services.java()
        self.state.mkdir(parents=True, exist_ok=True)
        # A config directory of our own: the node writes into it (keystore).
        config = self.state / "config"
        if not config.is_dir():
            shutil.copytree(install / "config", config)
        (config / "opensearch.yml").write_text(
            "\n".join(
                [
                    "cluster.name: zipkin-opentracing",
                    "node.name: node-1",
                    "network.host: 127.0.0.1",
                    f"http.port: {self.port}",
                    "transport.port: 0",
                    "discovery.type: single-node",
                    f"path.data: {self.state / 'data'}",
                    f"path.logs: {self.state / 'logs'}",
                    "cluster.routing.allocation.disk.threshold_enabled: false",
                    "",
                ]
            )
        )
        _chown_tree(self.state)
        _chown_tree(install)
        env = dict(os.environ)
        env.update(
            {
                "OPENSEARCH_JAVA_HOME": str(Path(os.path.realpath(java)).parent.parent),
                "OPENSEARCH_PATH_CONF": str(config),
                "OPENSEARCH_JAVA_OPTS": HEAP,
            }
        )
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.process = services.spawn(
            [*_as_user(), str(install / "bin" / "opensearch")], self.log, env=env
        )
        try:
            services.wait_for(
                lambda: health(self.url),
                self.process,
                f"OpenSearch on {self.url}",
                self.log,
                services.start_timeout(180.0),
            )
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self.process is not None:
            services.stop_process(self.process.pid, timeout=30.0)
            self.process = None


def main(argv: list) -> int:
    node = OpenSearch(
        runtime_root() / "opensearch-state", services.port_from_env("OPENSEARCH_PORT", 9200)
    )
    return services.command_line(
        argv,
        name="opensearch",
        title=f"OpenSearch {OPENSEARCH_VERSION}",
        address=node.url,
        already_up=lambda: health(node.url),
        service=node,
        usage=__doc__ or "",
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv))
