"""Every default of the tracer, written once.

``config.Config``, ``config.resolve`` and the README's tables take their
values from here (a test holds the README and the reporter's and sender's
own keyword defaults to these).
"""

from __future__ import annotations

# -- tracer options (Config) ---------------------------------------------------
SERVICE_NAME = "unknown_service"
COLLECTOR_URL = "http://localhost:9411"
ENCODING = "json"
SAMPLER = "const"
#: OTEL_PROPAGATORS names, in order of trust: joins B3 and W3C services
PROPAGATION = ("tracecontext", "baggage", "b3multi")
TRACE_ID_128BIT = False
SUPPORTS_JOIN = True
MAX_TAG_VALUE_LENGTH = 16384
MAX_QUEUE_SIZE = 10000
MESSAGE_MAX_BYTES = 500000
#: Below this not even a small span fits in a message.
MIN_MESSAGE_MAX_BYTES = 1024
FLUSH_INTERVAL = 1.0
TIMEOUT = 10.0
CONNECT_TIMEOUT = 2.0
CLOSE_TIMEOUT = 2.0
VERIFY = True
DISABLED = False
TRANSPORT = "http"
#: The topic Zipkin's Kafka collector reads unless told otherwise.
KAFKA_TOPIC = "zipkin"

# -- reporter only (AsyncReporter keywords) -------------------------------------
RETRY_TIMEOUT = 60.0
INITIAL_BACKOFF = 0.1
MAX_BACKOFF = 10.0
