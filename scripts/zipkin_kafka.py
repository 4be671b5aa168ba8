#!/usr/bin/env python3
"""Zipkin's production shape on one machine: Kafka → Zipkin collectors → OpenSearch.

Starts a single-node Kafka broker, a single-node OpenSearch, and one or more
Zipkin servers that consume the ``zipkin`` topic in one consumer group and
store into OpenSearch (``STORAGE_TYPE=elasticsearch``). Everything binds
127.0.0.1 and is fetched from Maven Central on first use.

    python scripts/zipkin_kafka.py run     # foreground, Ctrl-C stops it all

Environment: ``KAFKA_PORT`` (9092), ``KAFKA_CONTROLLER_PORT`` (9093),
``OPENSEARCH_PORT`` (9200), ``ZIPKIN_PORT`` (9411, the first collector;
more take the next ports), ``ZIPKIN_COLLECTORS`` (1).
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import List, Optional, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))

import kafka_server
import opensearch_server
import services
import zipkin_server

#: A new consumer group starts at the oldest message: spans produced before
#: the collectors joined are not skipped.
_COLLECTOR_ARGS = ("--zipkin.collector.kafka.overrides.auto.offset.reset=earliest",)


class Stack:
    """A broker, a search node and ``len(zipkin_ports)`` collectors in one group."""

    def __init__(
        self,
        state: Path,
        kafka_port: int,
        controller_port: int,
        opensearch_port: int,
        zipkin_ports: Sequence[int],
        opensearch_state: Path,
        temporary: bool = False,
    ) -> None:
        self.state = state
        self.temporary = temporary
        self.kafka = kafka_server.Broker(state / "kafka", kafka_port, controller_port)
        self.opensearch = opensearch_server.OpenSearch(opensearch_state, opensearch_port)
        self.zipkin_ports = list(zipkin_ports)
        self.collectors: List[subprocess.Popen] = []

    @classmethod
    def on_free_ports(cls, collectors: int = 2) -> Stack:
        """A stack on ports nothing uses, its state in new temporary directories
        (removed by :meth:`stop`)."""
        state = Path(tempfile.mkdtemp(prefix="zipkin-kafka-"))
        search = Path(tempfile.mkdtemp(prefix="opensearch-", dir=opensearch_server.runtime_root()))
        ports = [services.free_port() for _ in range(3 + collectors)]
        return cls(state, ports[0], ports[1], ports[2], ports[3:], search, temporary=True)

    @property
    def zipkin_urls(self) -> List[str]:
        return [f"http://127.0.0.1:{port}" for port in self.zipkin_ports]

    def collector_env(self) -> dict:
        return {
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka.bootstrap_servers,
            "STORAGE_TYPE": "elasticsearch",
            "ES_HOSTS": self.opensearch.url,
        }

    def start(self) -> None:
        """Broker and search node side by side, then the collectors; all or nothing."""
        try:
            services.in_parallel(self.kafka.start, self.opensearch.start)
            services.in_parallel(
                *(
                    functools.partial(self._start_collector, index, port)
                    for index, port in enumerate(self.zipkin_ports)
                )
            )
        except BaseException:
            self.stop()
            raise

    def _start_collector(self, index: int, port: int) -> None:
        process = zipkin_server.start(
            self.state / f"zipkin-{index}.log",
            listen_port=port,
            env=self.collector_env(),
            args=_COLLECTOR_ARGS,
        )
        self.collectors.append(process)

    def stop(self) -> None:
        for process in self.collectors:
            services.stop_process(process.pid)
        self.collectors.clear()
        self.kafka.stop()
        self.opensearch.stop()
        if self.temporary:
            shutil.rmtree(self.state, ignore_errors=True)
            shutil.rmtree(self.opensearch.state, ignore_errors=True)


def main(argv: list) -> int:
    command = argv[1] if len(argv) > 1 else "run"
    if command != "run":
        print(__doc__, file=sys.stderr)
        return 2
    first = services.port_from_env("ZIPKIN_PORT", 9411)
    collectors = services.port_from_env("ZIPKIN_COLLECTORS", 1)
    stack = Stack(
        services.STATE_DIR / "zipkin-kafka",
        services.port_from_env("KAFKA_PORT", 9092),
        services.port_from_env("KAFKA_CONTROLLER_PORT", 9093),
        services.port_from_env("OPENSEARCH_PORT", 9200),
        range(first, first + collectors),
        opensearch_server.runtime_root() / "zipkin-kafka-opensearch",
    )
    process: Optional[subprocess.Popen] = None
    try:
        stack.start()
        process = stack.collectors[0]
        print(f"Kafka at {stack.kafka.bootstrap_servers} (topic zipkin)")
        print(f"OpenSearch at {stack.opensearch.url}")
        for url in stack.zipkin_urls:
            print(f"Zipkin collector, UI at {url}/zipkin/")
        print(
            "Send spans with ZIPKIN_TRANSPORT=kafka "
            f"ZIPKIN_KAFKA_BOOTSTRAP_SERVERS={stack.kafka.bootstrap_servers}. Ctrl-C stops it all."
        )
        process.wait()
    except services.ServiceUnavailable as error:
        print(f"zipkin_kafka: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
