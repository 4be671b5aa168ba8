"""``Tracer`` (the no-op base), span references and ``start_child_span``."""

from __future__ import annotations

from typing import Any, Dict, List, NamedTuple, Optional, Union

from .propagation import Format, UnsupportedFormatException
from .scope import Scope
from .scope_manager import ScopeManager
from .span import Span, SpanContext


class Tracer:
    """Starts spans and moves span contexts in and out of carriers.

    The base is a working no-op: it hands back shared no-op objects, so code
    instrumented against it runs unchanged when no real tracer is installed.
    """

    _supported_formats = [Format.TEXT_MAP, Format.BINARY, Format.HTTP_HEADERS]

    def __init__(self, scope_manager: Optional[ScopeManager] = None) -> None:
        # The default is the no-op manager, not the thread-local one (as upstream).
        self._scope_manager = ScopeManager() if scope_manager is None else scope_manager
        self._noop_span_context = SpanContext()
        self._noop_span = Span(tracer=self, context=self._noop_span_context)
        self._noop_scope = Scope(self._scope_manager, self._noop_span)

    @property
    def scope_manager(self) -> ScopeManager:
        """The :class:`ScopeManager` that tracks the active span."""
        return self._scope_manager

    @property
    def active_span(self) -> Optional[Span]:
        """The span of the active scope, or None when nothing is active."""
        scope = self._scope_manager.active
        return None if scope is None else scope.span

    def start_active_span(
        self,
        operation_name: str,
        child_of: Optional[Union[Span, SpanContext]] = None,
        references: Optional[List[Reference]] = None,
        tags: Optional[Dict[Any, Any]] = None,
        start_time: Optional[float] = None,
        ignore_active_span: bool = False,
        finish_on_close: bool = True,
    ) -> Scope:
        """Start a span, activate it and return its :class:`Scope`.

        Arguments are as for :meth:`start_span`. With ``finish_on_close`` (the
        default) closing the scope also finishes the span.
        """
        return self._noop_scope

    def start_span(
        self,
        operation_name: Optional[str] = None,
        child_of: Optional[Union[Span, SpanContext]] = None,
        references: Optional[List[Reference]] = None,
        tags: Optional[Dict[Any, Any]] = None,
        start_time: Optional[float] = None,
        ignore_active_span: bool = False,
    ) -> Span:
        """Start (but do not activate) a new span.

        ``child_of`` is a Span or SpanContext and excludes ``references`` (a list of
        :class:`Reference`; those with a None context are ignored). Without either,
        the active span is the parent unless ``ignore_active_span`` is set. ``tags``
        is handed over to the tracer; ``start_time`` is a unix timestamp.
        """
        return self._noop_span

    def inject(self, span_context: SpanContext, format: str, carrier: Any) -> None:
        """Write ``span_context`` into ``carrier`` using ``format``.

        Raises :class:`UnsupportedFormatException` for an unknown format.
        """
        if format in self._supported_formats:
            return
        raise UnsupportedFormatException(format)

    def extract(self, format: str, carrier: Any) -> Optional[SpanContext]:
        """Read a span context from ``carrier``; None when the carrier holds none.

        Raises :class:`UnsupportedFormatException` for an unknown format; tracers may
        also raise ``InvalidCarrierException`` or ``SpanContextCorruptedException``.
        """
        if format in self._supported_formats:
            return self._noop_span_context
        raise UnsupportedFormatException(format)


class ReferenceType:
    """The kinds of causal relationship a :class:`Reference` can express."""

    CHILD_OF = "child_of"
    FOLLOWS_FROM = "follows_from"


class Reference(NamedTuple):
    """An immutable (type, referenced_context) pair passed in ``references=``.

    Tracers must ignore a reference whose ``referenced_context`` is None, so that
    ``child_of(tracer.extract(...))`` is safe when nothing was extracted.
    """

    type: str
    referenced_context: Optional[SpanContext]


def child_of(referenced_context: Optional[SpanContext] = None) -> Reference:
    """A CHILD_OF reference: the new span depends on the referenced one."""
    return Reference(type=ReferenceType.CHILD_OF, referenced_context=referenced_context)


def follows_from(referenced_context: Optional[SpanContext] = None) -> Reference:
    """A FOLLOWS_FROM reference: the referenced span does not wait for the new one."""
    return Reference(type=ReferenceType.FOLLOWS_FROM, referenced_context=referenced_context)


def start_child_span(
    parent_span: Span,
    operation_name: str,
    tags: Optional[Dict[Any, Any]] = None,
    start_time: Optional[float] = None,
) -> Span:
    """Shorthand for ``parent_span.tracer.start_span(..., child_of=parent_span)``."""
    return parent_span.tracer.start_span(
        operation_name=operation_name,
        child_of=parent_span,
        tags=tags,
        start_time=start_time,
    )
