"""Carrying a span context across process boundaries: one module per format, and the composite."""

from zipkin_tracer.propagation.b3 import B3Propagator
from zipkin_tracer.propagation.baggage import BaggagePropagator
from zipkin_tracer.propagation.binary import BinaryPropagator
from zipkin_tracer.propagation.composite import CompositePropagator
from zipkin_tracer.propagation.jaeger import JaegerPropagator
from zipkin_tracer.propagation.tracecontext import TraceContextPropagator

__all__ = [
    "B3Propagator",
    "BaggagePropagator",
    "BinaryPropagator",
    "CompositePropagator",
    "JaegerPropagator",
    "TraceContextPropagator",
]
