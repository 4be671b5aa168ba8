"""basictracer 3.2.0 (written against upstream opentracing 2.x) runs on our package.

basictracer is installed without its dependencies, because its requirement on the
PyPI ``opentracing`` distribution would install upstream over ours. It imports
``six`` (always) and ``protobuf`` (only for its BINARY propagator).
"""

from __future__ import annotations

import unittest
from typing import Any, Optional

import basictracer
import pytest
from basictracer import BasicTracer
from basictracer.recorder import InMemoryRecorder
from basictracer.text_propagator import TextPropagator

import opentracing
from opentracing import Format, Span, Tracer
from opentracing.harness.api_check import APICompatibilityCheckMixin

try:
    from basictracer.binary_propagator import BinaryPropagator

    BINARY_REASON = ""
except Exception as exc:  # protobuf missing, or too new for basictracer's generated code
    BinaryPropagator = None
    BINARY_REASON = f"basictracer BINARY propagator unavailable: {str(exc).splitlines()[0]}"


def _basic_tracer(recorder: Any = None) -> BasicTracer:
    tracer = BasicTracer(recorder=recorder)
    if BinaryPropagator is not None:
        tracer.register_required_propagators()
    else:
        tracer.register_propagator(Format.TEXT_MAP, TextPropagator())
        tracer.register_propagator(Format.HTTP_HEADERS, TextPropagator())
    return tracer


def test_basictracer_is_built_on_our_package() -> None:
    assert issubclass(BasicTracer, opentracing.Tracer)
    assert issubclass(basictracer.span.BasicSpan, opentracing.Span)
    assert issubclass(basictracer.context.SpanContext, opentracing.SpanContext)


def test_spans_are_recorded_with_parents_and_errors() -> None:
    recorder = InMemoryRecorder()
    tracer = _basic_tracer(recorder)
    with pytest.raises(ValueError):
        with tracer.start_active_span("parent") as scope:
            with opentracing.start_child_span(scope.span, "child") as child:
                child.set_tag(opentracing.tags.COMPONENT, "test").log_event("hello")
            raise ValueError("boom")
    spans = {s.operation_name: s for s in recorder.get_spans()}
    assert set(spans) == {"parent", "child"}
    assert spans["child"].parent_id == spans["parent"].context.span_id
    assert spans["parent"].tags["error"] is True
    assert spans["parent"].logs[0].key_values["message"] == "boom"
    assert tracer.active_span is None


def test_text_map_round_trip() -> None:
    tracer = _basic_tracer()
    span = tracer.start_span("op").set_baggage_item("k", "v")
    carrier: dict = {}
    tracer.inject(span.context, Format.TEXT_MAP, carrier)
    ctx = tracer.extract(Format.TEXT_MAP, carrier)
    assert ctx.span_id == span.context.span_id
    assert ctx.baggage == {"k": "v"}


class TestBasicTracerAPI(APICompatibilityCheckMixin, unittest.TestCase):
    """Our harness accepts a third-party tracer written for upstream."""

    def tracer(self) -> Tracer:
        return _basic_tracer()

    def is_parent(self, parent: Optional[Span], span: Span) -> bool:
        if parent is None:
            return span.parent_id is None  # type: ignore[attr-defined]
        return span.parent_id == parent.context.span_id  # type: ignore[attr-defined]

    def setUp(self) -> None:
        uses_binary = self._testMethodName in ("test_binary_propagation", "test_mandatory_formats")
        if uses_binary and BinaryPropagator is None:
            self.skipTest(BINARY_REASON)
