"""Both harnesses run on MockTracer (everything checked)."""

from __future__ import annotations

import unittest
from typing import Optional

from opentracing import Span, Tracer
from opentracing.harness.api_check import APICompatibilityCheckMixin
from opentracing.mocktracer import MockTracer
from opentracing.mocktracer.span import MockSpan
from opentracing.scope_managers.contextvars import ContextVarsScopeManager


def is_parent(parent: Optional[Span], span: Span) -> bool:
    """MockTracer parenting: compare the parent's span id with the child's parent_id."""
    assert isinstance(span, MockSpan)
    if parent is None:
        return span.parent_id is None
    return parent.context.span_id == span.parent_id  # type: ignore[attr-defined]


class TestMockTracerAPI(APICompatibilityCheckMixin, unittest.TestCase):
    def tracer(self) -> Tracer:
        return MockTracer()

    def is_parent(self, parent: Optional[Span], span: Span) -> bool:
        return is_parent(parent, span)


class TestMockTracerWithContextVarsAPI(TestMockTracerAPI):
    def tracer(self) -> Tracer:
        return MockTracer(ContextVarsScopeManager())


class TestMockTracerAPIPlainPytest(APICompatibilityCheckMixin):
    """The mixin also works in a plain pytest class, without unittest.TestCase."""

    def tracer(self) -> Tracer:
        return MockTracer()

    def is_parent(self, parent: Optional[Span], span: Span) -> bool:
        return is_parent(parent, span)
