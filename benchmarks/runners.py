"""One runner per tracer and mode, all driving the same workload.

A runner is built once (``setup``), then each repeat calls ``run(n)`` and
``drain()``; the timed region is both, so work a tracer does on a background
thread (encoding, flushing) is counted wherever it happens. ``delta()``
returns what the sink saw since the last call so the harness can check that
every span was encoded (a runner that dropped spans would look cheaper).

A runner whose library is missing raises ``Unavailable`` from ``setup``; the
harness prints ``<name>: unavailable (<reason>)`` and carries on.
"""

from __future__ import annotations

import copy
import inspect
import threading
import urllib.request
from typing import Any, Dict, List, Optional

from workload import (
    CACHE_HIT,
    HOST,
    LOG_ANNOTATION,
    LOG_EVENT,
    LOG_FIELDS,
    OPERATION,
    PORT,
    SERVICE,
    START_TAGS,
    STATUS_CODE,
    closed_port,
    count_proto3_spans,
    count_spans,
    wait_until,
)


class Unavailable(Exception):
    """The library behind a runner cannot be imported or wired."""


class Runner:
    name = "?"
    mode = "?"
    #: Whether ``delta()["spans"]`` is expected to equal the spans produced.
    sampled = True

    def setup(self, capacity: int) -> None:
        """Build the tracer; ``capacity`` spans must fit its queue undropped."""

    def one_span(self) -> None:
        raise NotImplementedError

    def open_span(self) -> Any:
        """Everything but finishing (for the finish() latency benchmark)."""
        raise NotImplementedError

    def close_span(self, span: Any) -> None:
        raise NotImplementedError

    def run(self, n: int) -> None:
        one = self.one_span
        for _ in range(n):
            one()

    def drain(self, timeout: float = 60.0) -> bool:
        """Block until everything finished so far is encoded (bounded)."""
        return True

    def delta(self) -> Dict[str, int]:
        """Spans/bytes encoded and spans dropped since the last call."""
        return {}

    def teardown(self) -> None:
        pass

    @property
    def label(self) -> str:
        return f"{self.name} [{self.mode}]"


class _Counter:
    """Thread-safe byte/span/message counter with a delta() helper."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.spans = 0
        self.bytes = 0
        self.messages = 0
        self._last = (0, 0, 0)

    def add(self, spans: int, nbytes: int) -> None:
        with self.lock:
            self.spans += spans
            self.bytes += nbytes
            self.messages += 1

    def delta(self) -> Dict[str, int]:
        with self.lock:
            now = (self.spans, self.bytes, self.messages)
        last, self._last = self._last, now
        return {
            "spans": now[0] - last[0],
            "bytes": now[1] - last[1],
            "messages": now[2] - last[2],
        }


# --------------------------------------------------------------------------
# opentracing no-op (the floor)


class NoopRunner(Runner):
    name = "opentracing no-op"
    mode = "floor"
    sampled = False

    def setup(self, capacity: int) -> None:
        try:
            import opentracing
        except ImportError as e:
            raise Unavailable(f"opentracing not importable: {e}")
        self.tracer = opentracing.Tracer()

    def one_span(self) -> None:
        span = self.tracer.start_span(OPERATION, tags=START_TAGS)
        span.set_tag("http.status_code", STATUS_CODE)
        span.set_tag("cache.hit", CACHE_HIT)
        span.log_kv(LOG_FIELDS)
        span.finish()

    def open_span(self) -> Any:
        span = self.tracer.start_span(OPERATION, tags=START_TAGS)
        span.set_tag("http.status_code", STATUS_CODE)
        span.set_tag("cache.hit", CACHE_HIT)
        span.log_kv(LOG_FIELDS)
        return span

    def close_span(self, span: Any) -> None:
        span.finish()


# --------------------------------------------------------------------------
# py_zipkin 1.x: V2 JSON, encoding in the caller, host given


class PyZipkinRunner(Runner):
    name = "py_zipkin"

    def __init__(self, sampled: bool = True) -> None:
        self.sampled = sampled
        self.mode = "json, sampled" if sampled else "unsampled"

    def setup(self, capacity: int) -> None:
        try:
            import py_zipkin
            from py_zipkin import Encoding, Kind
            from py_zipkin.transport import BaseTransportHandler
            from py_zipkin.zipkin import zipkin_span
        except ImportError as e:
            raise Unavailable(f"py_zipkin not importable: {e}")
        self.version = getattr(py_zipkin, "__version__", "")
        counter = self.counter = _Counter()

        class CountingTransport(BaseTransportHandler):
            def get_max_payload_bytes(self) -> Optional[int]:
                return None

            def send(self, payload: Any) -> None:
                if isinstance(payload, str):
                    payload = payload.encode()
                counter.add(count_spans(payload, thrift=False), len(payload))

        self.zipkin_span = zipkin_span
        self.kwargs = dict(
            service_name=SERVICE,
            span_name=OPERATION,
            transport_handler=CountingTransport(),
            sample_rate=100.0 if self.sampled else 0.0,
            encoding=Encoding.V2_JSON,
            host=HOST,
            port=PORT,
            kind=Kind.SERVER,
        )
        self.binary = {"component": START_TAGS["component"], "http.url": START_TAGS["http.url"]}
        self.later = {"http.status_code": STATUS_CODE, "cache.hit": CACHE_HIT}

    def one_span(self) -> None:
        with self.zipkin_span(binary_annotations=dict(self.binary), **self.kwargs) as span:
            span.update_binary_annotations(self.later)
            span.add_annotation(LOG_ANNOTATION)

    def open_span(self) -> Any:
        span = self.zipkin_span(binary_annotations=dict(self.binary), **self.kwargs)
        span.start()
        span.update_binary_annotations(self.later)
        span.add_annotation(LOG_ANNOTATION)
        return span

    def close_span(self, span: Any) -> None:
        span.stop()

    def delta(self) -> Dict[str, int]:
        return self.counter.delta()


# --------------------------------------------------------------------------
# OpenTelemetry SDK: BatchSpanProcessor + Zipkin JSON exporter


class OTelRunner(Runner):
    name = "opentelemetry-sdk"

    def __init__(self, sampled: bool = True, endpoint: Optional[str] = None) -> None:
        self.sampled = sampled
        self.endpoint = endpoint
        if not sampled:
            self.mode = "ALWAYS_OFF"
        elif endpoint:
            self.mode = "json, HTTP"
        else:
            self.mode = "json, bytes dropped"

    def setup(self, capacity: int) -> None:
        try:
            from opentelemetry.exporter.zipkin.json import ZipkinExporter
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExportResult
            from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON
            from opentelemetry.trace import SpanKind
        except ImportError as e:
            raise Unavailable(f"opentelemetry-sdk / exporter-zipkin-json not importable: {e}")
        counter = self.counter = _Counter()
        drop = self.endpoint is None

        class CountingExporter(ZipkinExporter):
            """Encodes exactly as ZipkinExporter does; drops or POSTs the bytes."""

            def export(self, spans):  # type: ignore[no-untyped-def]
                if drop:
                    if spans:
                        name = spans[0].resource.attributes.get("service.name")
                        if name:
                            self.local_node.service_name = name
                    data = self.encoder.serialize(spans, self.local_node)
                    counter.add(len(spans), len(data))
                    return SpanExportResult.SUCCESS
                result = super().export(spans)
                if result == SpanExportResult.SUCCESS:
                    counter.add(len(spans), 0)
                return result

        exporter = CountingExporter(
            endpoint=self.endpoint or f"http://127.0.0.1:{closed_port()}/api/v2/spans",
            local_node_ipv4=HOST,
            local_node_port=PORT,
        )
        self.processor = BatchSpanProcessor(exporter, max_queue_size=max(2048, capacity + 1024))
        self.provider = TracerProvider(
            sampler=ALWAYS_ON if self.sampled else ALWAYS_OFF,
            resource=Resource.create({"service.name": SERVICE}),
        )
        self.provider.add_span_processor(self.processor)
        self.tracer = self.provider.get_tracer("bench")
        self.kind = SpanKind.SERVER
        self.attrs = {"component": START_TAGS["component"], "http.url": START_TAGS["http.url"]}

    def one_span(self) -> None:
        span = self.tracer.start_span(OPERATION, kind=self.kind, attributes=self.attrs)
        span.set_attribute("http.status_code", STATUS_CODE)
        span.set_attribute("cache.hit", CACHE_HIT)
        span.add_event(LOG_EVENT, {"key": LOG_FIELDS["key"]})
        span.end()

    def open_span(self) -> Any:
        span = self.tracer.start_span(OPERATION, kind=self.kind, attributes=self.attrs)
        span.set_attribute("http.status_code", STATUS_CODE)
        span.set_attribute("cache.hit", CACHE_HIT)
        span.add_event(LOG_EVENT, {"key": LOG_FIELDS["key"]})
        return span

    def close_span(self, span: Any) -> None:
        span.end()

    def drain(self, timeout: float = 60.0) -> bool:
        return bool(self.provider.force_flush(timeout_millis=int(timeout * 1000)))

    def delta(self) -> Dict[str, int]:
        return self.counter.delta()

    def teardown(self) -> None:
        try:
            self.provider.shutdown()
        except Exception:
            pass


# --------------------------------------------------------------------------
# jaeger-client: its Reporter, UDP send replaced by a byte counter


class JaegerRunner(Runner):
    name = "jaeger-client"

    def __init__(self, sampled: bool = True) -> None:
        self.sampled = sampled
        self.mode = "thrift/UDP, bytes counted" if sampled else "unsampled"

    def setup(self, capacity: int) -> None:
        try:
            from jaeger_client import Tracer
            from jaeger_client.local_agent_net import LocalAgentSender
            from jaeger_client.metrics import MetricsFactory
            from jaeger_client.reporter import Reporter
            from jaeger_client.sampler import ConstSampler
        except Exception as e:  # ImportError, or a dependency broken on this Python
            raise Unavailable(f"{type(e).__name__}: {e}")
        counter = self.counter = _Counter()
        results: Dict[str, int] = {"ok": 0, "err": 0, "dropped": 0}
        self.results = results
        self._last = dict(results)

        class CountingMetrics(MetricsFactory):
            def create_counter(self, name, tags=None):  # type: ignore[no-untyped-def]
                if name == "jaeger:reporter_spans" and tags and tags.get("result") in results:
                    key = tags["result"]

                    def inc(value: int) -> None:
                        results[key] += value

                    return inc
                return super().create_counter(name, tags)

        # The channel is jaeger's own LocalAgentSender (a TBufferedTransport on
        # a TUDPTransport, with its ThreadLoop); only the socket send is
        # replaced, so thrift encoding, batching and the IOLoop all run.
        self.channel = LocalAgentSender(HOST, closed_port(), closed_port())
        udp = self.channel._TBufferedTransport__trans  # type: ignore[attr-defined]

        def write(buf: bytes) -> int:
            counter.add(0, len(buf))
            return len(buf)

        udp.write = write
        self.reporter = Reporter(
            self.channel,
            queue_capacity=max(100, capacity + 1024),
            batch_size=10,  # jaeger Config's default reporter_batch_size
            flush_interval=1.0,
            metrics_factory=CountingMetrics(),
        )
        self.tracer = Tracer(
            service_name=SERVICE, reporter=self.reporter, sampler=ConstSampler(self.sampled)
        )

    def one_span(self) -> None:
        span = self.tracer.start_span(OPERATION, tags=START_TAGS)
        span.set_tag("http.status_code", STATUS_CODE)
        span.set_tag("cache.hit", CACHE_HIT)
        span.log_kv(LOG_FIELDS)
        span.finish()

    def open_span(self) -> Any:
        span = self.tracer.start_span(OPERATION, tags=START_TAGS)
        span.set_tag("http.status_code", STATUS_CODE)
        span.set_tag("cache.hit", CACHE_HIT)
        span.log_kv(LOG_FIELDS)
        return span

    def close_span(self, span: Any) -> None:
        span.finish()

    def run(self, n: int) -> None:
        self._expected = getattr(self, "_expected", 0) + (n if self.sampled else 0)
        super().run(n)

    def drain(self, timeout: float = 60.0) -> bool:
        # Reporter.close() would stop it; instead wait until every finished
        # span has been submitted (sent, failed or dropped).
        r = self.results
        target = getattr(self, "_expected", 0)
        return wait_until(lambda: r["ok"] + r["err"] + r["dropped"] >= target, timeout)

    def delta(self) -> Dict[str, int]:
        d = self.counter.delta()
        now = dict(self.results)
        d["spans"] = now["ok"] - self._last["ok"]
        d["dropped"] = (now["dropped"] + now["err"]) - (self._last["dropped"] + self._last["err"])
        self._last = now
        return d

    def teardown(self) -> None:
        try:
            self.tracer.close()
        except Exception:
            pass


# --------------------------------------------------------------------------
# ours: zipkin_tracer.ZipkinTracer, against the agreed public API


def _import_ours() -> Any:
    try:
        import zipkin_tracer
        from zipkin_tracer import ConstSampler, ZipkinTracer
    except Exception as e:
        raise Unavailable(f"zipkin_tracer not importable: {type(e).__name__}: {e}")
    return zipkin_tracer, ZipkinTracer, ConstSampler


def _dropped(metrics: Dict[str, Any]) -> int:
    d = metrics.get("spans_dropped", 0)
    if isinstance(d, dict):
        return int(sum(int(v) for v in d.values()))
    return int(d or 0)


def make_encoder(encoding: str) -> Any:
    if encoding == "json":
        from zipkin_tracer.encoding.json_v2 import JsonV2Encoder as cls
    elif encoding == "proto3":
        from zipkin_tracer.encoding.proto3 import Proto3Encoder as cls
    else:
        from zipkin_tracer.encoding.thrift_v1 import ThriftV1Encoder as cls
    try:
        return cls()
    except TypeError:
        return cls(service_name=SERVICE)


def make_counting_sender(encoding: str, counter: _Counter) -> Any:
    """A ``Sender`` that counts the bytes it is given and sends nothing.

    The transport ABC's method names were not fixed when this was written, so
    every abstract method is implemented generically: bytes-like arguments are
    counted as one message, anything else is accepted. Replace with an explicit
    subclass once ``zipkin_tracer/transport/base.py`` is final.
    """
    from zipkin_tracer.transport.base import Sender

    thrift = encoding == "thrift"
    proto3 = encoding == "proto3"

    def generic(self: Any, *args: Any, **kwargs: Any) -> Any:
        for a in list(args) + list(kwargs.values()):
            if isinstance(a, (bytes, bytearray, memoryview)):
                body = bytes(a)
                spans = count_proto3_spans(body) if proto3 else count_spans(body, thrift=thrift)
                counter.add(spans, len(body))
                break
            if isinstance(a, (list, tuple)) and a and isinstance(a[0], (bytes, bytearray)):
                counter.add(len(a), sum(len(x) for x in a))
                break
        return True

    ns: Dict[str, Any] = {}
    for name in getattr(Sender, "__abstractmethods__", ()):
        attr = inspect.getattr_static(Sender, name)
        if isinstance(attr, property):
            ns[name] = property(lambda self: {})
        else:
            ns[name] = generic
    ns["__init__"] = lambda self, *a, **k: None
    return type("CountingSender", (Sender,), ns)()


class OursRunner(Runner):
    name = "ours (zipkin_tracer)"

    def __init__(
        self,
        encoding: str = "json",
        sampled: bool = True,
        collector_url: Optional[str] = None,
        max_queue_size: Optional[int] = None,
        kafka_bootstrap_servers: Optional[str] = None,
    ) -> None:
        self.encoding = encoding
        self.sampled = sampled
        self.collector_url = collector_url
        self.max_queue_size = max_queue_size
        self.kafka_bootstrap_servers = kafka_bootstrap_servers
        #: Spans leave the process (delivery counted from the tracer's metrics).
        self.remote = bool(collector_url or kafka_bootstrap_servers)
        if not sampled:
            self.mode = f"{encoding}, unsampled"
        elif kafka_bootstrap_servers:
            self.mode = f"{encoding}, Kafka"
        elif collector_url:
            self.mode = f"{encoding}, HTTP"
        else:
            self.mode = f"{encoding}, bytes dropped"

    def setup(self, capacity: int) -> None:
        _, ZipkinTracer, ConstSampler = _import_ours()
        self.counter = _Counter()
        queue = self.max_queue_size or max(10000, capacity + 1024)
        kwargs: Dict[str, Any] = dict(
            service_name=SERVICE,
            collector_url=self.collector_url or f"http://127.0.0.1:{closed_port()}",
            encoding=self.encoding,
            sampler=ConstSampler(self.sampled),
            max_queue_size=queue,
            message_max_bytes=500000,
            flush_interval=1.0,
        )
        self.via = "collector_url"
        if self.kafka_bootstrap_servers:
            kwargs["transport"] = "kafka"
            kwargs["kafka_bootstrap_servers"] = self.kafka_bootstrap_servers
            self.via = "Kafka"
        elif not self.collector_url:
            try:
                from zipkin_tracer.reporting.reporter import AsyncReporter

                reporter = AsyncReporter(
                    make_encoder(self.encoding),
                    make_counting_sender(self.encoding, self.counter),
                    max_queue_size=queue,
                    message_max_bytes=500000,
                    flush_interval=1.0,
                    close_timeout=5.0,
                )
            except Exception as e:
                raise Unavailable(
                    f"AsyncReporter/counting Sender could not be wired: {type(e).__name__}: {e}"
                )
            kwargs["reporter"] = reporter
            self.via = "injected AsyncReporter + counting Sender"
        try:
            self.tracer = ZipkinTracer(**kwargs)
        except Exception as e:
            raise Unavailable(f"ZipkinTracer(...) failed: {type(e).__name__}: {e}")
        self._last_metrics: Dict[str, Any] = self.metrics()

    def one_span(self) -> None:
        span = self.tracer.start_span(OPERATION, tags=START_TAGS)
        span.set_tag("http.status_code", STATUS_CODE)
        span.set_tag("cache.hit", CACHE_HIT)
        span.log_kv(LOG_FIELDS)
        span.finish()

    def open_span(self) -> Any:
        span = self.tracer.start_span(OPERATION, tags=START_TAGS)
        span.set_tag("http.status_code", STATUS_CODE)
        span.set_tag("cache.hit", CACHE_HIT)
        span.log_kv(LOG_FIELDS)
        return span

    def close_span(self, span: Any) -> None:
        span.finish()

    def drain(self, timeout: float = 60.0) -> bool:
        return bool(self.tracer.flush(timeout=timeout))

    def metrics(self) -> Dict[str, Any]:
        # deep copy: nested counters (spans_dropped by reason) may be live dicts
        return copy.deepcopy(dict(self.tracer.metrics))

    def delta(self) -> Dict[str, int]:
        now = self.metrics()
        last, self._last_metrics = self._last_metrics, now
        d = self.counter.delta()
        d["dropped"] = _dropped(now) - _dropped(last)
        if self.remote:  # nothing counted locally: use the tracer's counters
            d["bytes"] = int(now.get("message_bytes", 0)) - int(last.get("message_bytes", 0))
            d["messages"] = int(now.get("messages", 0)) - int(last.get("messages", 0))
            d["spans"] = int(now.get("spans", 0)) - int(last.get("spans", 0)) - d["dropped"]
        return d

    def teardown(self) -> None:
        try:
            self.tracer.close(timeout=5.0)
        except Exception:
            pass


def collector_counts(base_url: str) -> Dict[str, int]:
    with urllib.request.urlopen(base_url + "/count", timeout=5) as r:
        import json

        return json.loads(r.read())


def cpu_runners(include_ours: bool = True) -> List[Runner]:
    runners: List[Runner] = [
        NoopRunner(),
        PyZipkinRunner(True),
        PyZipkinRunner(False),
        OTelRunner(True),
        OTelRunner(False),
        JaegerRunner(True),
        JaegerRunner(False),
    ]
    if include_ours:
        runners += [
            OursRunner("json", True),
            OursRunner("thrift", True),
            OursRunner("proto3", True),
            OursRunner("json", False),
            OursRunner("thrift", False),
        ]
    return runners
