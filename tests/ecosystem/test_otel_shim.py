"""The OpenTelemetry OpenTracing shim installs beside our API and builds on it."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.shim.opentracing_shim import create_tracer

import opentracing


def test_shim_imports_our_opentracing() -> None:
    assert importlib.metadata.version("opentracing").endswith("+zipkin.1")
    owners = [
        dist.metadata["Name"]
        for dist in importlib.metadata.distributions()
        if any(str(f) == "opentracing/__init__.py" for f in (dist.files or ()))
    ]
    assert owners == ["opentracing"]
    assert Path(opentracing.__file__).parent.joinpath("py.typed").is_file()  # ours is typed

    shim = create_tracer(TracerProvider())

    assert isinstance(shim, opentracing.Tracer)
    with shim.start_active_span("through the shim") as scope:
        assert shim.active_span is scope.span
        assert isinstance(scope.span, opentracing.Span)
    assert shim.active_span is None
