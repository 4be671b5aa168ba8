"""The import paths and names the README documents stay where they are.

Modules may move inside the package; these names must keep importing from
the paths users were told about.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

README = Path(__file__).resolve().parents[1] / "README.rst"

#: module → names the README (and the package docstrings) promise there.
PUBLIC: Dict[str, Tuple[str, ...]] = {
    "zipkin_tracer": (
        "ConstSampler",
        "ParentBasedSampler",
        "ProbabilisticSampler",
        "RateLimitingSampler",
        "Sampler",
        "ZipkinSpan",
        "ZipkinSpanContext",
        "ZipkinTracer",
        "__version__",
    ),
    "zipkin_tracer.config": ("Config", "resolve", "explain"),
    "zipkin_tracer.span": ("ZipkinSpan", "ZipkinSpanContext", "UnsampledSpan"),
    "zipkin_tracer.sampling": (
        "ConstSampler",
        "ParentBasedSampler",
        "ProbabilisticSampler",
        "RateLimitingSampler",
        "Sampler",
    ),
    "zipkin_tracer.propagation": (
        "B3Propagator",
        "BaggagePropagator",
        "BinaryPropagator",
        "CompositePropagator",
        "JaegerPropagator",
        "TraceContextPropagator",
    ),
    "zipkin_tracer.encoding": ("Encoder", "encoder_for"),
    "zipkin_tracer.encoding.json_v2": ("JsonV2Encoder", "span_to_dict"),
    "zipkin_tracer.encoding.thrift_v1": ("ThriftV1Encoder", "idl_path", "load_thrift"),
    "zipkin_tracer.model": ("Endpoint", "ZipkinModelSpan", "to_model"),
    "zipkin_tracer.reporting.reporter": ("AsyncReporter",),
    "zipkin_tracer.reporting.base": ("SpanReporter",),
    "zipkin_tracer.transport.http": ("HttpSender",),
    "zipkin_tracer.transport.base": (
        "TRACING_SUPPRESSED",
        "is_tracing_suppressed",
        "MessageTooLarge",
        "SendError",
        "Sender",
    ),
    "zipkin_tracer.wsgi": (
        "SPAN_ENVIRON_KEY",
        "TracingMiddleware",
        "install_flask_hooks",
        "record_exception",
        "set_route",
    ),
    "zipkin_tracer.requests": ("TracingSession", "default_peer_service", "install", "uninstall"),
    "zipkin_tracer.asgi": ("SPAN_SCOPE_KEY", "TracingMiddleware", "set_route"),
    "zipkin_tracer.httpx": ("AsyncTracingTransport", "TracingTransport", "install", "uninstall"),
    "zipkin_tracer.aiohttp": ("make_middleware", "middleware", "trace_config"),
    "zipkin_tracer.executor_context": ("install", "installed", "uninstall"),
    "zipkin_tracer.logs": ("LOG_FORMAT", "TraceContextFilter", "format_id"),
    "zipkin_tracer.cli": ("main",),
    "zipkin_tracer.testing": ("InMemoryReporter",),
}

_ALL = sorted((module, name) for module, names in PUBLIC.items() for name in names)


@pytest.mark.parametrize(("module", "name"), _ALL)
def test_public_name_imports_from_its_documented_path(module: str, name: str) -> None:
    assert hasattr(importlib.import_module(module), name)


def test_package_all_is_unchanged() -> None:
    import zipkin_tracer

    assert sorted(zipkin_tracer.__all__) == sorted(PUBLIC["zipkin_tracer"][:-1])


def test_span_context_is_one_class_wherever_it_is_imported_from() -> None:
    import zipkin_tracer
    import zipkin_tracer.span

    assert zipkin_tracer.ZipkinSpanContext is zipkin_tracer.span.ZipkinSpanContext


def _readme_imports() -> List[Tuple[str, str]]:
    found = []
    pattern = re.compile(r"^\s*from (zipkin_tracer[\w.]*) import ([\w, ]+)$", re.M)
    for module, names in pattern.findall(README.read_text(encoding="utf-8")):
        found += [(module, name.strip()) for name in names.split(",") if name.strip()]
    return found


def test_readme_imports_are_all_frozen_here() -> None:
    imports = _readme_imports()
    assert imports, "the README shows no imports: the pattern is stale"
    for module, name in imports:
        assert name in PUBLIC.get(module, ()), f"{module}.{name} is documented but not frozen"


def test_readme_dotted_names_resolve() -> None:
    text = README.read_text(encoding="utf-8")
    for dotted in set(re.findall(r"``(zipkin_tracer(?:\.\w+)+)``", text)):
        parts = dotted.split(".")
        for split in range(len(parts), 0, -1):
            try:
                target = importlib.import_module(".".join(parts[:split]))
            except ImportError:
                continue
            for attribute in parts[split:]:
                target = getattr(target, attribute)
            break
