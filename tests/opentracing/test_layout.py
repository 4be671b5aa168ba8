"""Module layout, exported names and signatures match upstream 2.4."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
import textwrap

import pytest

import opentracing

TOP_LEVEL = [
    "Span",
    "SpanContext",
    "Scope",
    "ScopeManager",
    "child_of",
    "follows_from",
    "Reference",
    "ReferenceType",
    "Tracer",
    "start_child_span",
    "Format",
    "InvalidCarrierException",
    "SpanContextCorruptedException",
    "UnsupportedFormatException",
    "global_tracer",
    "set_global_tracer",
    "is_global_tracer_registered",
    "_reset_global_tracer",
    "tracer",
    "is_tracer_registered",
]

MODULES = [
    "opentracing.tracer",
    "opentracing.span",
    "opentracing.scope",
    "opentracing.scope_manager",
    "opentracing.propagation",
    "opentracing.tags",
    "opentracing.logs",
    "opentracing.ext",
    "opentracing.ext.tags",
    "opentracing.harness",
    "opentracing.harness.api_check",
    "opentracing.harness.scope_check",
    "opentracing.scope_managers",
    "opentracing.scope_managers.constants",
    "opentracing.scope_managers.asyncio",
    "opentracing.scope_managers.contextvars",
    "opentracing.mocktracer",
    "opentracing.mocktracer.context",
    "opentracing.mocktracer.span",
    "opentracing.mocktracer.tracer",
    "opentracing.mocktracer.propagator",
    "opentracing.mocktracer.text_propagator",
    "opentracing.mocktracer.binary_propagator",
]

SIGNATURES = {
    "Tracer.__init__": "(self, scope_manager=None)",
    "Tracer.start_span": "(self, operation_name=None, child_of=None, references=None, tags=None,"
    " start_time=None, ignore_active_span=False)",
    "Tracer.start_active_span": "(self, operation_name, child_of=None, references=None,"
    " tags=None, start_time=None, ignore_active_span=False, finish_on_close=True)",
    "Tracer.inject": "(self, span_context, format, carrier)",
    "Tracer.extract": "(self, format, carrier)",
    "Span.__init__": "(self, tracer, context)",
    "Span.set_operation_name": "(self, operation_name)",
    "Span.finish": "(self, finish_time=None)",
    "Span.set_tag": "(self, key, value)",
    "Span.log_kv": "(self, key_values, timestamp=None)",
    "Span.set_baggage_item": "(self, key, value)",
    "Span.get_baggage_item": "(self, key)",
    "Span.log_event": "(self, event, payload=None)",
    "Span.log": "(self, **kwargs)",
    "Span._on_error": "(span, exc_type, exc_val, exc_tb)",
    "Scope.__init__": "(self, manager, span)",
    "ScopeManager.activate": "(self, span, finish_on_close)",
    "child_of": "(referenced_context=None)",
    "follows_from": "(referenced_context=None)",
    "start_child_span": "(parent_span, operation_name, tags=None, start_time=None)",
}


def _strip_annotations(obj: object) -> str:
    sig = inspect.signature(obj)  # type: ignore[arg-type]
    params = [p.replace(annotation=p.empty) for p in sig.parameters.values()]
    return str(sig.replace(parameters=params, return_annotation=sig.empty))


@pytest.mark.parametrize("name", TOP_LEVEL)
def test_top_level_names(name: str) -> None:
    assert hasattr(opentracing, name)


@pytest.mark.parametrize("module", MODULES)
def test_modules_import(module: str) -> None:
    importlib.import_module(module)


@pytest.mark.parametrize("path,expected", sorted(SIGNATURES.items()))
def test_signatures(path: str, expected: str) -> None:
    obj: object = opentracing
    for part in path.split("."):
        obj = getattr(obj, part)
    assert _strip_annotations(obj) == expected


def test_properties() -> None:
    for cls, names in [
        (opentracing.Tracer, ["scope_manager", "active_span"]),
        (opentracing.Span, ["context", "tracer"]),
        (opentracing.SpanContext, ["baggage"]),
        (opentracing.Scope, ["span", "manager"]),
        (opentracing.ScopeManager, ["active"]),
    ]:
        for name in names:
            assert isinstance(inspect.getattr_static(cls, name), property), (cls, name)


def test_scope_managers_package_reexports() -> None:
    from opentracing import scope_managers

    assert scope_managers.Scope is opentracing.Scope
    assert scope_managers.ScopeManager is opentracing.ScopeManager
    assert scope_managers.constants.ACTIVE_ATTR == "__ot_active"


def test_mocktracer_exports() -> None:
    from opentracing import mocktracer

    assert mocktracer.MockTracer and mocktracer.Propagator


def test_package_imports_no_third_party_modules() -> None:
    """Importing the API (and the stdlib-only extras) loads nothing outside the stdlib."""
    code = textwrap.dedent(
        """
        import sys
        before = set(sys.modules)
        import opentracing, opentracing.scope_managers, opentracing.mocktracer
        import opentracing.scope_managers.asyncio, opentracing.scope_managers.contextvars
        import opentracing.harness.api_check, opentracing.harness.scope_check
        new = {m.split(".")[0] for m in set(sys.modules) - before}
        stdlib = set(getattr(sys, "stdlib_module_names", new))  # 3.10+
        bad = sorted(m for m in new - stdlib if m != "opentracing" and not m.startswith("_"))
        print(bad)
        raise SystemExit(1 if bad else 0)
        """
    )
    import os

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=dict(os.environ, PYTHONPATH=root),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
