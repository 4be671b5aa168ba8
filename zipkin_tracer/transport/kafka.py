"""Kafka sender: one encoded list of spans per Kafka message, to Zipkin's topic.

Zipkin's Kafka collector reads a topic (``zipkin`` by default) in a consumer
group and detects each message's encoding (JSON, proto3 or Thrift list), so
a message here is exactly what the HTTP sender would POST.

The client is confluent-kafka (librdkafka). :meth:`KafkaSender.send` hands
the message to the producer and waits for its delivery report at most the
attempt's timeout: the reporter's worker keeps the same contract as over
HTTP (delivered, or a classified :class:`SendError` that it retries or
counts), and application threads never wait for the broker. The producer
is idempotent with ``acks=all``, so librdkafka's own retries while the
broker is briefly away do not duplicate a message; a message still
unacknowledged at the deadline is purged from the producer before the
attempt fails, so the reporter's retry is the only copy left to send, and
the retry goes out on a new producer.

A message above the broker's limit is refused with ``MSG_SIZE_TOO_LARGE``,
which is raised as :class:`MessageTooLarge` so the reporter splits it, as
for an HTTP 413.

Fork: librdkafka's threads do not survive ``fork()``, and destroying the
inherited producer in the child would wait for them forever. A child
therefore abandons the parent's producer without touching it (it is never
freed) and creates its own on its first message.
"""

from __future__ import annotations

import ctypes
import logging
import threading
import time
from typing import Any, Dict, List, Optional

from zipkin_tracer import defaults
from zipkin_tracer.transport.base import MessageTooLarge, Sender, SendError

logger = logging.getLogger(__name__)

#: Framing a record batch adds around one message (librdkafka's own limit
#: applies to the whole batch): a message the reporter packed always fits.
_RECORD_OVERHEAD = 4096
#: How long one poll for the delivery report may block (close stays prompt).
_POLL_SECONDS = 0.05
#: librdkafka's ceiling for ``message.max.bytes``.
_CLIENT_MAX_BYTES = 1_000_000_000
#: Producers inherited across fork: kept alive forever, see the module doc.
_ABANDONED: List[Any] = []

_SIZE_ERRORS = frozenset(("MSG_SIZE_TOO_LARGE", "RECORD_LIST_TOO_LARGE"))


def _client() -> Any:
    try:
        import confluent_kafka
    except ImportError as error:
        raise ImportError(
            "transport='kafka' needs confluent-kafka: pip install 'zipkin-opentracing[kafka]'"
        ) from error
    return confluent_kafka


class _LibrdkafkaLog:
    """librdkafka's log lines at DEBUG: while a broker is down it logs every
    reconnect, and the reporter already logs each kind of failure once."""

    def log(self, level: int, message: str, *args: Any) -> None:
        logger.debug("librdkafka: " + message, *args)


def _cause(error: Any) -> str:
    name = str(error.name()).lstrip("_").lower()
    return f"kafka_{name}"


class KafkaSender(Sender):
    """Produces each message to ``topic`` and waits for the broker's acknowledgement.

    ``timeout`` bounds one attempt (the delivery report), ``connect_timeout``
    a broker connection; ``message_max_bytes`` is the reporter's largest
    message. ``producer_config`` adds or overrides librdkafka settings
    (e.g. ``security.protocol``); ``bootstrap.servers`` always comes from
    ``bootstrap_servers``.
    """

    def __init__(
        self,
        bootstrap_servers: str,
        topic: str = defaults.KAFKA_TOPIC,
        *,
        message_max_bytes: int = defaults.MESSAGE_MAX_BYTES,
        timeout: float = defaults.TIMEOUT,
        connect_timeout: float = defaults.CONNECT_TIMEOUT,
        producer_config: Optional[Dict[str, Any]] = None,
    ) -> None:
        self._kafka = _client()  # fail at build time when the extra is missing
        self.bootstrap_servers = bootstrap_servers
        self.topic = topic
        self.timeout = float(timeout)
        self.endpoint = f"kafka://{bootstrap_servers}/{topic}"
        config: Dict[str, Any] = {
            "client.id": "zipkin-tracer",
            "acks": "all",
            "enable.idempotence": True,
            "linger.ms": 0,  # the reporter has batched already
            # each message to a random partition (not sticky): a message is a
            # batch already, and spreading them spreads the collectors' work
            "sticky.partitioning.linger.ms": 0,
            "message.max.bytes": min(message_max_bytes + _RECORD_OVERHEAD, _CLIENT_MAX_BYTES),
            "message.timeout.ms": max(1, int(self.timeout * 1000)),
            "socket.connection.setup.timeout.ms": max(1000, int(connect_timeout * 1000)),
            "reconnect.backoff.ms": 100,
            "reconnect.backoff.max.ms": 1000,
            "logger": _LibrdkafkaLog(),
            "error_cb": self._on_error,
        }
        config.update(producer_config or {})
        config["bootstrap.servers"] = bootstrap_servers
        self._config = config
        self._lock = threading.Lock()
        self._producer: Any = None

    def _on_error(self, error: Any) -> None:
        """Client-wide errors (broker down, ...): each send reports its own outcome."""
        logger.debug("Kafka client error for %s: %s", self.endpoint, error)

    def _get_producer(self) -> Any:
        with self._lock:
            if self._producer is None:
                self._producer = self._kafka.Producer(self._config)
            return self._producer

    def send(self, body: bytes, timeout: Optional[float] = None) -> None:
        limit = self.timeout if timeout is None else min(self.timeout, timeout)
        deadline = time.monotonic() + max(0.0, limit)
        producer = self._get_producer()
        reports: List[Any] = []
        try:
            producer.produce(self.topic, body, on_delivery=lambda err, _msg: reports.append(err))
        except BufferError:  # the local queue is full: only after abandoned attempts
            producer.poll(0)
            raise SendError("kafka_queue_full", retryable=True)
        except self._kafka.KafkaException as error:
            raise self._classify(error.args[0]) from None
        while not reports:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            producer.poll(min(remaining, _POLL_SECONDS))
        if not reports:
            self._abandon(producer)
            raise SendError("timeout", retryable=True, detail=f"no acknowledgement in {limit:.3g}s")
        if reports[0] is not None:
            raise self._classify(reports[0])

    def _abandon(self, producer: Any) -> None:
        """Purge what the producer still holds, so no late copy joins the retry,
        and start the next attempt on a new producer: one whose in-flight
        messages were purged must reset its idempotence state with a broker,
        and could stall there after the broker came back."""
        with self._lock:
            if self._producer is producer:
                self._producer = None
        try:
            producer.purge(in_queue=True, in_flight=True, blocking=False)
            producer.poll(0)  # serves the purged message's report
        except Exception:
            logger.debug("Kafka purge failed for %s", self.endpoint, exc_info=True)

    def _classify(self, error: Any) -> SendError:
        if error.name() in _SIZE_ERRORS:
            return MessageTooLarge(status=None)
        # librdkafka's own (negative) codes are local conditions such as a broker
        # being away: worth the same message later unless the client is fatal
        retryable = bool(error.retriable()) or (error.code() < 0 and not error.fatal())
        return SendError(_cause(error), retryable=retryable, detail=str(error.str()))

    def close(self) -> None:
        with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            try:
                producer.purge(in_queue=True, in_flight=True, blocking=False)
                producer.poll(0)
            except Exception:
                logger.debug("Kafka producer close failed for %s", self.endpoint, exc_info=True)

    def after_fork_in_child(self) -> None:
        producer, self._producer = self._producer, None
        self._lock = threading.Lock()  # the parent's may be held by a thread gone in the child
        if producer is not None:
            # Never freed: its destructor would join librdkafka threads that
            # do not exist in this process.
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(producer))
            _ABANDONED.append(producer)
