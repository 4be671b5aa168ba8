"""ZipkinSpanContext in its own module, and its one read-only empty baggage."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import pytest

import zipkin_tracer.span
from tests.support.tracers import make_tracer
from zipkin_tracer.context import EMPTY_BAGGAGE, ZipkinSpanContext


def test_span_module_still_exports_the_context() -> None:
    assert zipkin_tracer.span.ZipkinSpanContext is ZipkinSpanContext


def test_writing_into_empty_baggage_raises_and_leaks_nowhere() -> None:
    tracer = make_tracer()
    span = tracer.start_span("a")
    with pytest.raises(TypeError):
        span.context.baggage["leak"] = "yes"  # type: ignore[index]
    other = make_tracer().start_span("b")
    carrier: dict = {}
    other.tracer.inject(other.context, "http_headers", carrier)
    assert not any("leak" in key for key in carrier)
    assert dict(EMPTY_BAGGAGE) == {}


def test_writing_into_non_empty_baggage_raises_and_leaks_nowhere() -> None:
    tracer = make_tracer()
    parent = tracer.start_span("p")
    parent.set_baggage_item("k", "v")
    child, sibling = (tracer.start_span(n, child_of=parent) for n in ("c", "s"))
    extracted = tracer.extract("http_headers", {"baggage": "a=1", "ot-baggage-b": "2"})
    assert extracted is not None
    for context in (parent.context, child.context, extracted):
        with pytest.raises(TypeError):
            context.baggage["leak"] = "yes"  # type: ignore[index]
    assert parent.context.baggage == {"k": "v"} == sibling.context.baggage
    child.set_baggage_item("mine", "1")
    assert "mine" not in parent.context.baggage and "mine" not in sibling.context.baggage


def test_every_context_without_baggage_shares_the_one_constant() -> None:
    tracer = make_tracer()
    new_trace = tracer.start_span("a")
    child = tracer.start_span("b", child_of=new_trace)
    unsampled = make_tracer(sampler="const", sampler_param="false").start_span("c")
    assert new_trace.context.baggage is EMPTY_BAGGAGE
    assert child.context.baggage is EMPTY_BAGGAGE
    assert unsampled.context.baggage is EMPTY_BAGGAGE
    assert ZipkinSpanContext(1, 2).baggage is EMPTY_BAGGAGE


def test_set_baggage_item_still_works_on_a_span_without_baggage() -> None:
    span = make_tracer().start_span("a")
    span.set_baggage_item("k", "v")
    assert span.context.baggage == {"k": "v"}
    assert dict(EMPTY_BAGGAGE) == {}


@pytest.mark.parametrize("baggage", [None, {"k": "v"}])
def test_contexts_pickle_and_copy_by_value(baggage: Any) -> None:
    context = ZipkinSpanContext(1, 2, 3, None, True, baggage, remote=True)
    for copied in (pickle.loads(pickle.dumps(context)), copy.deepcopy(context), copy.copy(context)):
        assert copied == context and copied.remote and copied.sampled is None
    assert pickle.loads(pickle.dumps(ZipkinSpanContext(1, 2))).baggage is EMPTY_BAGGAGE
