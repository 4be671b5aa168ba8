"""The OpenTracing API for Python (drop-in for upstream ``opentracing`` 2.4).

Besides re-exporting the API, this module holds the global tracer. The module
attribute ``tracer`` is the single source of truth: ``global_tracer()`` reads it,
so the 1.x habit of assigning ``opentracing.tracer = X`` keeps working.
"""

from __future__ import annotations

from . import ext, logs, tags  # noqa: F401  (loaded eagerly, as upstream)
from .ext import tags as _ext_tags  # noqa: F401  (makes opentracing.ext.tags available)
from .propagation import (
    Format,
    InvalidCarrierException,
    SpanContextCorruptedException,
    UnsupportedFormatException,
)
from .scope import Scope
from .scope_manager import ScopeManager
from .span import Span, SpanContext
from .tracer import (
    Reference,
    ReferenceType,
    Tracer,
    child_of,
    follows_from,
    start_child_span,
)

__all__ = [
    "Format",
    "InvalidCarrierException",
    "Reference",
    "ReferenceType",
    "Scope",
    "ScopeManager",
    "Span",
    "SpanContext",
    "SpanContextCorruptedException",
    "Tracer",
    "UnsupportedFormatException",
    "child_of",
    "follows_from",
    "global_tracer",
    "is_global_tracer_registered",
    "set_global_tracer",
    "start_child_span",
]

# Deprecated: read it through global_tracer(). This assignment deliberately
# replaces the ``opentracing.tracer`` submodule attribute with the instance, as
# upstream does; ``from opentracing.tracer import X`` still works via sys.modules.
tracer: Tracer = Tracer()
is_tracer_registered: bool = False


def global_tracer() -> Tracer:
    """Return the process-wide tracer (the no-op ``Tracer`` until one is set)."""
    return tracer


def set_global_tracer(value: Tracer) -> None:
    """Install ``value`` as the process-wide tracer and mark it registered.

    Re-registering replaces the previous tracer. Raises ValueError for None.
    """
    if value is None:
        raise ValueError("The global Tracer tracer cannot be None")
    global tracer, is_tracer_registered
    tracer = value
    is_tracer_registered = True


def is_global_tracer_registered() -> bool:
    """True once :func:`set_global_tracer` has been called (and not reset)."""
    return is_tracer_registered


def _reset_global_tracer() -> None:
    """Test helper: put back a fresh no-op tracer and clear the registered flag."""
    global tracer, is_tracer_registered
    tracer = Tracer()
    is_tracer_registered = False
