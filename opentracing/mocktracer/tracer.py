"""``MockTracer``: an in-memory tracer for tests of instrumented code."""

from __future__ import annotations

import time
from threading import Lock
from typing import Any, Dict, List, Optional, Union

import opentracing
from opentracing import Format, Scope, ScopeManager, UnsupportedFormatException
from opentracing.scope_managers import ThreadLocalScopeManager

from .binary_propagator import BinaryPropagator
from .context import SpanContext
from .propagator import Propagator
from .span import MockSpan
from .text_propagator import TextPropagator


class MockTracer(opentracing.Tracer):
    """Records finished spans in memory; ids are consecutive integers from 1.

    Uses :class:`ThreadLocalScopeManager` by default and supports TEXT_MAP,
    HTTP_HEADERS and BINARY propagation out of the box.
    """

    def __init__(self, scope_manager: Optional[ScopeManager] = None) -> None:
        super().__init__(ThreadLocalScopeManager() if scope_manager is None else scope_manager)
        self._propagators: Dict[Any, Propagator] = {}
        self._finished_spans: List[MockSpan] = []
        self._spans_lock = Lock()
        self._next_id = 1
        self._next_id_lock = Lock()
        self.register_propagator(Format.TEXT_MAP, TextPropagator())
        self.register_propagator(Format.HTTP_HEADERS, TextPropagator())
        self.register_propagator(Format.BINARY, BinaryPropagator())

    def register_propagator(self, format: Any, propagator: Propagator) -> None:
        """Handle ``format`` in inject/extract with ``propagator`` (replacing any other)."""
        self._propagators[format] = propagator

    def finished_spans(self) -> List[MockSpan]:
        """A copy of the list of finished spans, in finish order."""
        with self._spans_lock:
            return list(self._finished_spans)

    def reset(self) -> None:
        """Forget the finished spans (ids keep counting)."""
        with self._spans_lock:
            self._finished_spans = []

    def _append_finished_span(self, span: MockSpan) -> None:
        with self._spans_lock:
            self._finished_spans.append(span)

    def _generate_id(self) -> int:
        with self._next_id_lock:
            new_id = self._next_id
            self._next_id += 1
            return new_id

    def start_active_span(
        self,
        operation_name: str,
        child_of: Optional[Union[opentracing.Span, opentracing.SpanContext]] = None,
        references: Optional[List[opentracing.Reference]] = None,
        tags: Optional[Dict[Any, Any]] = None,
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
        child_of: Optional[Union[opentracing.Span, opentracing.SpanContext]] = None,
        references: Optional[List[opentracing.Reference]] = None,
        tags: Optional[Dict[Any, Any]] = None,
        start_time: Optional[float] = None,
        ignore_active_span: bool = False,
    ) -> MockSpan:
        start_time = time.time() if start_time is None else start_time
        parent_ctx = self._parent_context(child_of, references, ignore_active_span)
        span_id = self._generate_id()
        if isinstance(parent_ctx, SpanContext):
            ctx = SpanContext(
                trace_id=parent_ctx.trace_id,
                span_id=span_id,
                baggage=dict(parent_ctx.baggage),
            )
            parent_id = parent_ctx.span_id
        else:
            ctx = SpanContext(trace_id=self._generate_id(), span_id=span_id)
            parent_id = None
        return MockSpan(
            self,
            operation_name=operation_name,
            context=ctx,
            parent_id=parent_id,
            tags=tags,
            start_time=start_time,
        )

    def _parent_context(
        self,
        child_of: Optional[Union[opentracing.Span, opentracing.SpanContext]],
        references: Optional[List[opentracing.Reference]],
        ignore_active_span: bool,
    ) -> Optional[opentracing.SpanContext]:
        # Precedence: child_of, then the first reference with a context, then the active span.
        if child_of is not None:
            if isinstance(child_of, opentracing.Span):
                return child_of.context
            return child_of
        for reference in references or ():
            if reference.referenced_context is not None:
                return reference.referenced_context
        if not ignore_active_span:
            active = self.active_span
            if active is not None:
                return active.context
        return None

    def inject(self, span_context: opentracing.SpanContext, format: Any, carrier: Any) -> None:
        propagator = self._propagators.get(format)
        if propagator is None:
            raise UnsupportedFormatException(format)
        if not isinstance(span_context, SpanContext):
            # A foreign or no-op context carries nothing to propagate.
            return
        propagator.inject(span_context, carrier)

    def extract(self, format: Any, carrier: Any) -> Optional[SpanContext]:
        propagator = self._propagators.get(format)
        if propagator is None:
            raise UnsupportedFormatException(format)
        return propagator.extract(carrier)
