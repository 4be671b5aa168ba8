"""Reference, ReferenceType, child_of(), follows_from() and start_child_span()."""

from __future__ import annotations

from unittest import mock

import pytest

import opentracing
from opentracing import Reference, ReferenceType, Span, SpanContext, Tracer


def test_reference_types() -> None:
    assert ReferenceType.CHILD_OF == "child_of"
    assert ReferenceType.FOLLOWS_FROM == "follows_from"


def test_reference_is_an_immutable_named_tuple() -> None:
    ctx = SpanContext()
    ref = Reference(type=ReferenceType.CHILD_OF, referenced_context=ctx)
    assert isinstance(ref, tuple)
    assert ref == (ReferenceType.CHILD_OF, ctx)
    assert ref._fields == ("type", "referenced_context")
    with pytest.raises(AttributeError):
        ref.type = "x"  # type: ignore[misc]


def test_child_of_and_follows_from() -> None:
    ctx = SpanContext()
    assert opentracing.child_of(ctx) == Reference(ReferenceType.CHILD_OF, ctx)
    assert opentracing.follows_from(ctx) == Reference(ReferenceType.FOLLOWS_FROM, ctx)
    assert opentracing.child_of().referenced_context is None
    assert opentracing.follows_from().referenced_context is None
    assert opentracing.child_of(None).type == ReferenceType.CHILD_OF


def test_start_child_span_delegates_to_the_parents_tracer() -> None:
    tracer = mock.MagicMock(spec=Tracer)
    parent = Span(tracer=tracer, context=SpanContext())
    result = opentracing.start_child_span(parent, "op", tags={"k": "v"}, start_time=3.0)
    tracer.start_span.assert_called_once_with(
        operation_name="op", child_of=parent, tags={"k": "v"}, start_time=3.0
    )
    assert result is tracer.start_span.return_value


def test_start_child_span_defaults() -> None:
    tracer = mock.MagicMock(spec=Tracer)
    parent = Span(tracer=tracer, context=SpanContext())
    opentracing.start_child_span(parent, operation_name="op")
    tracer.start_span.assert_called_once_with(
        operation_name="op", child_of=parent, tags=None, start_time=None
    )
