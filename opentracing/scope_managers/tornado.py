"""``TornadoScopeManager`` and ``tracer_stack_context`` for Tornado applications.

On Tornado 4.5 and 5.x this is upstream's model: the active scope lives in a
``tornado.stack_context`` opened by ``tracer_stack_context()`` (also exported:
``ThreadSafeStackContext``), and follows ``gen.coroutine`` and callbacks; outside
one it is per thread.

Tornado 6 removed ``stack_context`` and runs on asyncio, so there the active scope
lives in a context variable (see :mod:`.contextvars`): it propagates to child
coroutines automatically, with or without ``tracer_stack_context``.
Requires ``tornado``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ContextManager

import tornado

from .contextvars import ContextVarsScopeManager, no_parent_scope

__all__ = ["TornadoScopeManager", "tracer_stack_context"]

if TYPE_CHECKING or tornado.version_info >= (6,):

    class TornadoScopeManager(ContextVarsScopeManager):
        """Context-variable scope manager under the upstream Tornado name."""

    def tracer_stack_context() -> ContextManager[None]:
        """Open a fresh tracing context (no active scope) for one request's work.

        Scopes activated inside and left open are discarded when the block exits.
        """
        return no_parent_scope()

else:
    from ._tornado_stack_context import (
        ThreadSafeStackContext,
        TornadoScopeManager,
        tracer_stack_context,
    )

    __all__ += ["ThreadSafeStackContext"]
