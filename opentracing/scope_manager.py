"""``ScopeManager``: decides which span is active (the implicit parent)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional, cast

from .scope import Scope
from .span import Span, SpanContext

if TYPE_CHECKING:
    from .tracer import Tracer


class ScopeManager:
    """No-op base: ``activate`` and ``active`` both return one shared no-op scope.

    Real managers (see :mod:`opentracing.scope_managers`) return None from
    :attr:`active` when nothing is active.
    """

    def __init__(self) -> None:
        # The no-op span has no tracer; the cast keeps the public Span type simple.
        self._noop_span = Span(tracer=cast("Tracer", None), context=SpanContext())
        self._noop_scope = Scope(self, self._noop_span)

    def activate(self, span: Span, finish_on_close: bool) -> Scope:
        """Make ``span`` the active span and return the :class:`Scope` that undoes it.

        With ``finish_on_close`` the span is finished when the scope is closed.
        """
        return self._noop_scope

    @property
    def active(self) -> Optional[Scope]:
        """The currently active :class:`Scope`, or None (the no-op never returns None)."""
        return self._noop_scope
