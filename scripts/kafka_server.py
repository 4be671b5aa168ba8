#!/usr/bin/env python3
"""Fetch, start and stop a single-node Apache Kafka broker without Docker.

Kafka 4 runs in KRaft mode (broker and controller in one process, no
ZooKeeper) from its Maven Central jars, which a throw-away pom copies into
the cache. The broker binds 127.0.0.1 and creates topics on first use.

    python scripts/kafka_server.py run     # foreground, Ctrl-C stops it
    python scripts/kafka_server.py start   # background; prints bootstrap servers
    python scripts/kafka_server.py stop    # stops what `start` started

Environment: ``KAFKA_PORT`` (default 9092), ``KAFKA_CONTROLLER_PORT``
(default 9093), ``KAFKA_VERSION`` (default below), ``ZIPKIN_CACHE_DIR``,
``ZIPKIN_START_TIMEOUT``.
"""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))

import services
from services import ServiceUnavailable

KAFKA_VERSION = os.environ.get("KAFKA_VERSION", "4.4.0")
#: The slf4j-1 binding: Kafka's clients still log through slf4j-api 1.7.
LOG4J_VERSION = "2.24.3"
#: Partitions of an auto-created topic: enough for a few collectors in one group.
PARTITIONS = 4

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.zipkin-opentracing</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>1</version>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>{kafka}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>{log4j}</version>
    </dependency>
  </dependencies>
</project>
"""

_PROPERTIES = """process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{controller}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs={data}
num.partitions={partitions}
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
"""


def libs_dir() -> Path:
    return services.cache_dir() / f"kafka-{KAFKA_VERSION}" / "libs"


def fetch() -> Path:
    """The broker's runtime jars in the cache (copied by Maven once)."""
    libs = libs_dir()
    if libs.is_dir() and any(libs.glob("kafka_2.13-*.jar")):
        return libs
    pom = libs.parent / "pom.xml"
    pom.parent.mkdir(parents=True, exist_ok=True)
    pom.write_text(_POM.format(kafka=KAFKA_VERSION, log4j=LOG4J_VERSION))
    services.mvn(
        [
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={libs}",
        ],
        f"Apache Kafka {KAFKA_VERSION}",
    )
    return libs


def _java(libs: Path, main: str, *args: str, heap: str = "-Xmx128m") -> list:
    return [services.java(), heap, "-cp", str(libs / "*"), main, *args]


def api_versions_ok(port: int, timeout: float = 1.0) -> bool:
    """True when the broker answers an ApiVersions request (it serves clients)."""
    client = b"health"
    request = struct.pack(">hhih", 18, 0, 1, len(client)) + client
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(struct.pack(">i", len(request)) + request)
            header = _recv(sock, 4)
            body = _recv(sock, struct.unpack(">i", header)[0])
    except OSError:
        return False
    correlation, error = struct.unpack(">ih", body[:6])
    return correlation == 1 and error == 0


def _recv(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise OSError("connection closed")
        data += chunk
    return data


class Broker:
    """One broker's ports and data directory; start and restart keep the data."""

    def __init__(self, state: Path, port: int, controller_port: int) -> None:
        self.state = state
        self.port = port
        self.controller_port = controller_port
        self.log = state / "kafka.log"
        self.process: Optional[subprocess.Popen] = None

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _configure(self, libs: Path) -> Path:
        properties = self.state / "server.properties"
        data = self.state / "data"
        properties.write_text(
            _PROPERTIES.format(
                port=self.port,
                controller=self.controller_port,
                data=data,
                partitions=PARTITIONS,
            )
        )
        if not (data / "meta.properties").is_file():
            cluster = subprocess.run(
                _java(libs, "kafka.tools.StorageTool", "random-uuid"),
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            formatted = subprocess.run(
                _java(
                    libs, "kafka.tools.StorageTool", "format", "-t", cluster, "-c", str(properties)
                ),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            if formatted.returncode != 0:
                raise ServiceUnavailable(f"kafka storage format failed:\n{formatted.stdout}")
        return properties

    def start(self) -> None:
        """Start (or restart, same data) and wait until it serves clients."""
        libs = fetch()
        self.state.mkdir(parents=True, exist_ok=True)
        properties = self._configure(libs)
        self.process = services.spawn(
            _java(libs, "kafka.Kafka", str(properties), heap="-Xmx512m"), self.log
        )
        try:
            services.wait_for(
                lambda: api_versions_ok(self.port),
                self.process,
                f"Kafka on 127.0.0.1:{self.port}",
                self.log,
                services.start_timeout(),
            )
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self.process is not None:
            services.stop_process(self.process.pid)
            self.process = None


def main(argv: list) -> int:
    broker = Broker(
        services.STATE_DIR / "kafka",
        services.port_from_env("KAFKA_PORT", 9092),
        services.port_from_env("KAFKA_CONTROLLER_PORT", 9093),
    )
    return services.command_line(
        argv,
        name="kafka",
        title=f"Kafka {KAFKA_VERSION}",
        address=broker.bootstrap_servers,
        already_up=lambda: api_versions_ok(broker.port),
        service=broker,
        usage=__doc__ or "",
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv))
