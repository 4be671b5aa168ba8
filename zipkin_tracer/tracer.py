"""ZipkinTracer: the OpenTracing tracer that wires sampler, codecs and reporter."""

from __future__ import annotations

import ipaddress
import logging
import socket
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

from opentracing import (
    Format,
    Reference,
    Scope,
    ScopeManager,
    Span,
    SpanContext,
    Tracer,
    UnsupportedFormatException,
)
from opentracing.scope_managers.contextvars import ContextVarsScopeManager
from zipkin_tracer import ids as _ids
from zipkin_tracer.config import Config, resolve
from zipkin_tracer.context import EMPTY_BAGGAGE, ZipkinSpanContext
from zipkin_tracer.encoding import Encoder, encoder_for
from zipkin_tracer.ids import MASK_64, generate_span_id, generate_trace_id
from zipkin_tracer.model import Endpoint
from zipkin_tracer.propagation.binary import BinaryPropagator
from zipkin_tracer.propagation.carrier import DropCounter
from zipkin_tracer.propagation.composite import CompositePropagator
from zipkin_tracer.propagation.tracecontext import ROOT_STATE
from zipkin_tracer.reporting.base import SpanReporter
from zipkin_tracer.sampling import SAMPLING_PRIORITY, ConstSampler, priority_decision
from zipkin_tracer.span import UnsampledSpan, ZipkinSpan
from zipkin_tracer.transport.base import Sender

logger = logging.getLogger(__name__)

_BINARY = BinaryPropagator()
_new_object = object.__new__
_monotonic_ns = time.monotonic_ns


def detect_local_ip() -> str:
    """The first non-loopback address this host's name resolves to; 127.0.0.1 if none.

    Resolving our own host name asks /etc/hosts or the resolver only: no probe
    packet or route lookup towards any outside address. Set ``local_ip`` (or
    ``ZIPKIN_LOCAL_IP``) where this guess is wrong, e.g. in containers.
    """
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return "127.0.0.1"
    for family in (socket.AF_INET, socket.AF_INET6):
        for info_family, _, _, _, sockaddr in infos:
            address = str(sockaddr[0])
            if info_family == family and not ipaddress.ip_address(address).is_loopback:
                return address
    return "127.0.0.1"


def build_sender(config: Config, encoder: Encoder) -> Sender:
    """The sender the default reporter uses, HTTP or Kafka (also ``zipkin-tracer check``'s)."""
    if config.transport == "kafka":
        from zipkin_tracer.transport.kafka import KafkaSender

        assert config.kafka_bootstrap_servers is not None  # config requires it for kafka
        return KafkaSender(
            config.kafka_bootstrap_servers,
            config.kafka_topic,
            message_max_bytes=config.message_max_bytes,
            timeout=config.timeout,
            connect_timeout=config.connect_timeout,
        )
    from zipkin_tracer.transport.http import HttpSender

    return HttpSender(
        config.collector_url,
        path=encoder.path,
        content_type=encoder.content_type,
        headers=config.headers,
        timeout=config.timeout,
        connect_timeout=config.connect_timeout,
        verify=config.verify,
    )


def build_default_reporter(config: Config, encoder: Encoder) -> SpanReporter:
    """The background reporter over HTTP or Kafka (zipkin_tracer.reporting / .transport)."""
    from zipkin_tracer.reporting.reporter import AsyncReporter

    reporter: SpanReporter = AsyncReporter(
        encoder,
        build_sender(config, encoder),
        max_queue_size=config.max_queue_size,
        message_max_bytes=config.message_max_bytes,
        flush_interval=config.flush_interval,
        close_timeout=config.close_timeout,
    )
    return reporter


class DisabledReporter(SpanReporter):
    """A disabled tracer's reporter: counts what it was handed, sends nothing."""

    report_never_raises = True

    def __init__(self) -> None:
        self.spans_disabled = 0

    def report(self, span: Any) -> None:
        self.spans_disabled += 1

    def flush(self, timeout: Optional[float] = None) -> bool:
        return True

    def close(self, timeout: Optional[float] = None) -> bool:
        return True

    @property
    def metrics(self) -> Dict[str, Any]:
        return {"spans_disabled": self.spans_disabled}


def default_scope_manager() -> ScopeManager:
    """A context-variable scope manager: each thread and each asyncio task has its
    own active span, and tasks, ``asyncio.to_thread`` and ``run_in_executor`` work
    inherit their creator's."""
    from zipkin_tracer import executor_context

    executor_context.install()
    return ContextVarsScopeManager()


class ZipkinTracer(Tracer):
    """An ``opentracing.Tracer`` whose sampled spans are reported to Zipkin.

    Every option is resolved by :mod:`zipkin_tracer.config` (explicit
    argument > ``ZIPKIN_*`` environment variable > default). ``reporter``
    replaces the default background HTTP reporter (e.g.
    :class:`zipkin_tracer.testing.InMemoryReporter`); ``scope_manager``
    defaults to ``ContextVarsScopeManager``, right for threads and asyncio
    tasks alike (then ``loop.run_in_executor`` work also inherits the active
    span, see :mod:`zipkin_tracer.executor_context`).
    """

    def __init__(
        self,
        service_name: Optional[str] = None,
        *,
        collector_url: Optional[str] = None,
        encoding: Optional[str] = None,
        sampler: Any = None,
        propagation: Union[str, Sequence[str], None] = None,
        trace_id_128bit: Optional[bool] = None,
        reporter: Optional[SpanReporter] = None,
        scope_manager: Optional[ScopeManager] = None,
        **options: Any,
    ) -> None:
        config = resolve(
            service_name=service_name,
            collector_url=collector_url,
            encoding=encoding,
            sampler=sampler,
            propagation=propagation,
            trace_id_128bit=trace_id_128bit,
            **options,
        )
        if scope_manager is None:
            scope_manager = default_scope_manager()
        super().__init__(scope_manager)
        self.config = config
        self.service_name = config.service_name
        # disabled (OTEL_SDK_DISABLED): starts no trace, reports nothing; a
        # caller's context still travels on, so downstream services stay in its trace
        self.sampler = ConstSampler(False) if config.disabled else config.sampler
        self.trace_id_128bit = config.trace_id_128bit
        self.supports_join = config.supports_join
        self.max_tag_value_length = config.max_tag_value_length
        self.local_endpoint = Endpoint.local(
            config.service_name, config.local_ip or detect_local_ip(), config.local_port
        )
        self.encoder = encoder_for(config.encoding)
        if reporter is None and config.disabled:
            reporter = DisabledReporter()
        if reporter is None:
            reporter = build_default_reporter(config, self.encoder)
        self.reporter = reporter  # also sets _report (see the property)
        self.propagation_drops = DropCounter()
        self._http = CompositePropagator(config.propagation, True, self.propagation_drops)
        self._text = CompositePropagator(config.propagation, False, self.propagation_drops)
        #: the sampler's say over a remote parent's decision (ParentBasedSampler overrides)
        self._parent_hook = getattr(self.sampler, "remote_parent_decision", None)
        self._closed = False
        self.spans_sampled = 0
        self.spans_not_sampled = 0
        self.report_errors = 0

    @property
    def spans_started(self) -> int:
        """Spans started so far (sampled + not sampled)."""
        return self.spans_sampled + self.spans_not_sampled

    # -- spans ----------------------------------------------------------------

    def start_active_span(
        self,
        operation_name: str,
        child_of: Union[Span, SpanContext, None] = None,
        references: Optional[List[Reference]] = None,
        tags: Optional[Dict[str, Any]] = None,
        start_time: Optional[float] = None,
        ignore_active_span: bool = False,
        finish_on_close: bool = True,
    ) -> Scope:
        span = self.start_span(
            operation_name=operation_name,
            child_of=child_of,
            references=references,
            tags=tags,
            start_time=start_time,
            ignore_active_span=ignore_active_span,
        )
        return self.scope_manager.activate(span, finish_on_close)

    def start_span(
        self,
        operation_name: Optional[str] = None,
        child_of: Union[Span, SpanContext, None] = None,
        references: Optional[List[Reference]] = None,
        tags: Optional[Dict[str, Any]] = None,
        start_time: Optional[float] = None,
        ignore_active_span: bool = False,
    ) -> ZipkinSpan:
        parent: Any = None
        if child_of is not None:
            parent = child_of.context if isinstance(child_of, Span) else child_of
        elif references:
            parent = _first_referenced_context(references)
        if parent is None and not ignore_active_span:
            scope = self._scope_manager.active
            if scope is not None and scope.span is not None:
                parent = scope.span.context
        if parent is not None and type(parent) is not ZipkinSpanContext:
            if not isinstance(parent, ZipkinSpanContext):
                parent = None
        name = "" if operation_name is None else operation_name
        shared = False
        sampled: Optional[bool]
        if parent is None:  # a new trace, the common case
            if self.trace_id_128bit:
                trace_id = generate_trace_id(True)
                span_id = generate_span_id()
            else:  # generate_trace_id(False), inlined
                trace_id = span_id = _ids._getrandbits(64) or generate_span_id()
            parent_id = None
            sampled, debug, baggage, w3c = None, False, None, ROOT_STATE
        elif parent.trace_id:
            trace_id = parent.trace_id
            sampled = parent.sampled
            debug = parent.debug
            w3c = parent.w3c
            if parent.remote and self._parent_hook is not None and sampled is not None:
                sampled = self._remote_decision(sampled, debug, trace_id, name)
            if (
                tags
                and parent.remote
                and sampled is not None
                and self.supports_join
                and (w3c is None or w3c.join)
                and tags.get("span.kind") == "server"
            ):
                span_id = parent.span_id
                parent_id = parent.parent_id
                shared = True
            else:
                span_id = generate_span_id()
                parent_id = parent.span_id
            baggage = parent.baggage
        else:  # a decision or baggage without IDs: a new trace that keeps them
            trace_id = generate_trace_id(self.trace_id_128bit)
            span_id = trace_id if trace_id <= MASK_64 else generate_span_id()
            parent_id = None
            sampled, debug, baggage = parent.sampled, parent.debug, parent.baggage
            w3c = ROOT_STATE if parent.w3c is None else parent.w3c.replace(random=True)
        if debug:
            sampled = True
        if tags and SAMPLING_PRIORITY in tags:
            decision = priority_decision(tags[SAMPLING_PRIORITY])
            if decision is not None:
                sampled = debug = decision
        if sampled is None:
            try:
                sampled = bool(self.sampler.is_sampled(trace_id, name))
            except Exception:
                logger.debug("sampler %r failed; not sampling", self.sampler, exc_info=True)
                sampled = False
        # ZipkinSpanContext(trace_id, span_id, parent_id, sampled, debug, baggage),
        # without the __init__ call: this runs for every span.
        context = _new_object(ZipkinSpanContext)
        context.trace_id = trace_id
        context.span_id = span_id
        context.parent_id = parent_id
        context.sampled = sampled
        context.debug = debug
        context._baggage = baggage if baggage else EMPTY_BAGGAGE
        context.remote = False
        context.w3c = w3c
        if sampled:
            self.spans_sampled += 1
            return ZipkinSpan(self, context, name, start_time, tags, shared)
        self.spans_not_sampled += 1
        if start_time is None and not shared:
            # UnsampledSpan(self, context, name), likewise inlined
            span = _new_object(UnsampledSpan)
            span._tracer = self
            span._context = context
            span.operation_name = name
            span._start_mono = _monotonic_ns()
            span.finished = False
            return span
        return ZipkinSpan(self, context, name, start_time, tags, shared)

    def _remote_decision(self, sampled: bool, debug: bool, trace_id: int, name: str) -> bool:
        """The sampler's verdict on a caller's decision; debug always stands."""
        if debug:
            return True
        try:
            return bool(self._parent_hook(sampled, trace_id, name))  # type: ignore[misc]
        except Exception:
            logger.debug("sampler %r failed on a parent decision", self.sampler, exc_info=True)
            return sampled

    @property
    def reporter(self) -> SpanReporter:
        """Where finished sampled spans go; may be replaced (e.g. in tests)."""
        return self._reporter

    @reporter.setter
    def reporter(self, reporter: SpanReporter) -> None:
        self._reporter = reporter
        #: What ZipkinSpan.finish calls: the reporter's own ``report`` when it
        #: never raises, else a guard that counts and logs what it raised.
        self._report: Callable[[ZipkinSpan], None] = (
            reporter.report
            if getattr(reporter, "report_never_raises", False) is True
            else self._report_guarded
        )

    def _report_guarded(self, span: ZipkinSpan) -> None:
        try:
            self._reporter.report(span)
        except Exception:
            self.report_errors += 1
            logger.debug("reporter %r failed to accept a span", self._reporter, exc_info=True)

    # -- propagation ------------------------------------------------------------

    def inject(self, span_context: Any, format: str, carrier: Any) -> None:
        if isinstance(span_context, Span):
            span_context = span_context.context
        if format == Format.HTTP_HEADERS:
            propagator: Any = self._http
        elif format == Format.TEXT_MAP:
            propagator = self._text
        elif format == Format.BINARY:
            propagator = _BINARY
        else:
            raise UnsupportedFormatException(format)
        if not isinstance(span_context, ZipkinSpanContext):
            logger.debug("not injecting a foreign span context %r", span_context)
            return
        propagator.inject(span_context, carrier)

    def extract(self, format: str, carrier: Any) -> Optional[ZipkinSpanContext]:  # type: ignore[override, unused-ignore]
        """The extracted context, or ``None`` when the carrier holds none.

        Malformed B3 in headers or a text map never raises (the context is
        dropped, as Brave does). Raises ``InvalidCarrierException`` for a
        carrier of the wrong type, ``SpanContextCorruptedException`` for a
        ``Format.BINARY`` payload that is not ours, and
        ``UnsupportedFormatException`` for other formats.
        """
        if format == Format.HTTP_HEADERS:
            return self._http.extract(carrier)
        if format == Format.TEXT_MAP:
            return self._text.extract(carrier)
        if format == Format.BINARY:
            return _BINARY.extract(carrier)
        raise UnsupportedFormatException(format)

    # -- lifecycle --------------------------------------------------------------

    def flush(self, timeout: Optional[float] = None) -> bool:
        """True when every span finished before the call reached the collector."""
        return bool(self.reporter.flush(timeout))

    def close(self, timeout: Optional[float] = None) -> bool:
        """Flush, then stop the reporter; idempotent."""
        if self._closed:
            return True
        self._closed = True
        try:
            self.sampler.close()
        except Exception:
            logger.debug("sampler close failed", exc_info=True)
        return bool(self.reporter.close(timeout))

    @property
    def metrics(self) -> Dict[str, Any]:
        """The reporter's counters plus spans started / sampled / not sampled."""
        try:
            snapshot = dict(self.reporter.metrics)
        except Exception:
            logger.debug("reporter metrics failed", exc_info=True)
            snapshot = {}
        snapshot.update(
            spans_started=self.spans_started,
            spans_sampled=self.spans_sampled,
            spans_not_sampled=self.spans_not_sampled,
            spans_report_errors=self.report_errors,
        )
        for reason, count in self.propagation_drops.snapshot().items():
            snapshot["propagation_" + reason] = count
        return snapshot

    def __enter__(self) -> ZipkinTracer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close(self.config.close_timeout)

    def __repr__(self) -> str:
        return (
            f"ZipkinTracer(service_name={self.service_name!r}, encoding={self.config.encoding!r})"
        )


def _first_referenced_context(references: Any) -> Any:
    """The first reference's context; references to None are ignored, as upstream does."""
    try:
        candidates = references if isinstance(references, (list, tuple)) else [references]
        for reference in candidates:
            context = getattr(reference, "referenced_context", None)
            if context is not None:
                return context
    except TypeError:
        pass
    return None
