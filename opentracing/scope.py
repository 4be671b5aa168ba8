"""``Scope``: the period during which a span is the active one."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Optional, Type

from .span import Span

if TYPE_CHECKING:
    from .scope_manager import ScopeManager


class Scope:
    """Handle returned by ``ScopeManager.activate``; closing it ends the activation.

    A scope is a context manager: leaving the ``with`` block records an escaping
    exception on the span and then calls :meth:`close`. The base is a no-op.
    """

    def __init__(self, manager: ScopeManager, span: Span) -> None:
        self._manager = manager
        self._span = span

    @property
    def span(self) -> Span:
        """The span this scope activated."""
        return self._span

    @property
    def manager(self) -> ScopeManager:
        """The manager that created this scope."""
        return self._manager

    def close(self) -> None:
        """End the activation: restore the previously active scope and, if the scope
        was created with ``finish_on_close``, finish the span. Closing twice is undefined.
        """

    def __enter__(self) -> Scope:
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc_val: Optional[BaseException],
        exc_tb: Optional[TracebackType],
    ) -> None:
        # Tolerates Scope(None, None): _on_error ignores a missing span.
        Span._on_error(self.span, exc_type, exc_val, exc_tb)
        self.close()
