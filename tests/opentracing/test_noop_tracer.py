"""The no-op Tracer: shared singletons, defaults and format checks."""

from __future__ import annotations

import pytest

from opentracing import (
    Format,
    Scope,
    ScopeManager,
    Span,
    SpanContext,
    Tracer,
    UnsupportedFormatException,
    child_of,
    start_child_span,
)
from opentracing.scope_managers import ThreadLocalScopeManager


def test_default_scope_manager_is_noop() -> None:
    tracer = Tracer()
    assert type(tracer.scope_manager) is ScopeManager
    assert not isinstance(tracer.scope_manager, ThreadLocalScopeManager)


def test_custom_scope_manager() -> None:
    manager = ThreadLocalScopeManager()
    tracer = Tracer(scope_manager=manager)
    assert tracer.scope_manager is manager
    assert tracer.active_span is None
    assert tracer._noop_scope.manager is manager


def test_singletons() -> None:
    tracer = Tracer()
    assert isinstance(tracer._noop_span_context, SpanContext)
    assert isinstance(tracer._noop_span, Span)
    assert tracer._noop_span.tracer is tracer
    assert tracer._noop_span.context is tracer._noop_span_context
    assert isinstance(tracer._noop_scope, Scope)
    assert tracer._noop_scope.span is tracer._noop_span


def test_start_span_returns_the_same_noop_span() -> None:
    tracer = Tracer()
    parent = tracer.start_span("parent")
    child = tracer.start_span("child", child_of=parent, tags={"a": 1}, start_time=1.0)
    assert parent is child is tracer._noop_span
    assert tracer.start_span() is parent
    assert tracer.start_span(references=child_of(parent)) is parent  # type: ignore[arg-type]
    assert start_child_span(parent, "op") is parent


def test_start_active_span_returns_noop_scope() -> None:
    tracer = Tracer()
    scope = tracer.start_active_span("op", finish_on_close=False, ignore_active_span=True)
    assert scope is tracer._noop_scope
    assert scope is not tracer.scope_manager.active
    with tracer.start_active_span("op") as entered:
        assert entered is scope


def test_active_span_comes_from_the_manager() -> None:
    tracer = Tracer()
    active = tracer.scope_manager.active
    assert active is not None
    assert tracer.active_span is active.span
    assert tracer.active_span is not tracer._noop_span
    assert tracer.active_span.tracer is None


@pytest.mark.parametrize(
    "fmt,carrier",
    [(Format.TEXT_MAP, {}), (Format.HTTP_HEADERS, {}), (Format.BINARY, bytearray())],
)
def test_supported_formats(fmt: str, carrier: object) -> None:
    tracer = Tracer()
    before = repr(carrier)
    assert tracer.inject(tracer._noop_span_context, fmt, carrier) is None
    assert repr(carrier) == before
    assert tracer.extract(fmt, carrier) is tracer._noop_span_context


def test_unsupported_format_carries_the_format() -> None:
    tracer = Tracer()
    for call in (
        lambda: tracer.inject(SpanContext(), "nope", {}),
        lambda: tracer.extract("nope", {}),
    ):
        with pytest.raises(UnsupportedFormatException) as info:
            call()
        assert info.value.args == ("nope",)


def test_subclass_can_extend_formats() -> None:
    class Custom(Tracer):
        _supported_formats = [*Tracer._supported_formats, "custom"]

    Custom().inject(SpanContext(), "custom", {})
    assert Custom().extract("custom", {}) is not None


def test_keyword_argument_names() -> None:
    tracer = Tracer()
    tracer.inject(span_context=SpanContext(), format=Format.TEXT_MAP, carrier={})
    tracer.extract(format=Format.TEXT_MAP, carrier={})
    tracer.start_span(
        operation_name="a",
        child_of=None,
        references=None,
        tags=None,
        start_time=None,
        ignore_active_span=False,
    )
    tracer.start_active_span(
        operation_name="a",
        child_of=None,
        references=None,
        tags=None,
        start_time=None,
        ignore_active_span=False,
        finish_on_close=True,
    )
