"""A Zipkin tracer for the OpenTracing API."""

from zipkin_tracer.context import ZipkinSpanContext
from zipkin_tracer.sampling import (
    ConstSampler,
    ParentBasedSampler,
    ProbabilisticSampler,
    RateLimitingSampler,
    Sampler,
)
from zipkin_tracer.span import ZipkinSpan
from zipkin_tracer.tracer import ZipkinTracer

__version__ = "0.1.0.dev0"

__all__ = [
    "ConstSampler",
    "ParentBasedSampler",
    "ProbabilisticSampler",
    "RateLimitingSampler",
    "Sampler",
    "ZipkinSpan",
    "ZipkinSpanContext",
    "ZipkinTracer",
]
