"""``TornadoScopeManager`` and ``tracer_stack_context`` for Tornado applications.

Upstream built this on ``tornado.stack_context``, which Tornado 6 removed. Tornado
now runs on asyncio, so this version keeps the upstream names but stores the active
scope in a context variable (see :mod:`.contextvars`): it propagates to child
coroutines automatically, with or without ``tracer_stack_context``. Requires ``tornado``.
"""

from __future__ import annotations

from typing import ContextManager

import tornado  # noqa: F401  (fail at import time, as upstream, when Tornado is absent)

from .contextvars import ContextVarsScopeManager, no_parent_scope


class TornadoScopeManager(ContextVarsScopeManager):
    """Context-variable scope manager under the upstream Tornado name."""


def tracer_stack_context() -> ContextManager[None]:
    """Open a fresh tracing context (no active scope) for one request's work.

    Scopes activated inside and left open are discarded when the block exits.
    """
    return no_parent_scope()
