"""An in-memory tracer for testing instrumented code (``MockTracer``)."""

from __future__ import annotations

from .propagator import Propagator
from .tracer import MockTracer

__all__ = ["MockTracer", "Propagator"]
