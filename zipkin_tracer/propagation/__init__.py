"""Carrying a span context across process boundaries (B3 + ``ot-baggage-``)."""

from zipkin_tracer.propagation.b3 import B3Propagator
from zipkin_tracer.propagation.binary import BinaryPropagator

__all__ = ["B3Propagator", "BinaryPropagator"]
