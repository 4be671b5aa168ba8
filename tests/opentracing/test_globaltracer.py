"""The process-wide tracer: opentracing.tracer and the 2.x functions."""

from __future__ import annotations

import importlib
from typing import Iterator

import pytest

import opentracing
from opentracing import Tracer


@pytest.fixture(autouse=True)
def _reset() -> Iterator[None]:
    opentracing._reset_global_tracer()
    yield
    opentracing._reset_global_tracer()


def test_default_is_noop_and_unregistered() -> None:
    assert type(opentracing.global_tracer()) is Tracer
    assert opentracing.global_tracer() is opentracing.tracer
    assert opentracing.is_global_tracer_registered() is False
    assert opentracing.is_tracer_registered is False


def test_set_global_tracer() -> None:
    mine = Tracer()
    opentracing.set_global_tracer(mine)
    assert opentracing.global_tracer() is mine
    assert opentracing.tracer is mine
    assert opentracing.is_global_tracer_registered() is True


def test_set_global_tracer_twice_replaces() -> None:
    first, second = Tracer(), Tracer()
    opentracing.set_global_tracer(first)
    opentracing.set_global_tracer(second)
    assert opentracing.global_tracer() is second


def test_set_global_tracer_none_raises() -> None:
    before = opentracing.global_tracer()
    with pytest.raises(ValueError):
        opentracing.set_global_tracer(None)  # type: ignore[arg-type]
    assert opentracing.global_tracer() is before
    assert opentracing.is_global_tracer_registered() is False


def test_assigning_module_attribute_is_seen_by_global_tracer() -> None:
    mine = Tracer()
    opentracing.tracer = mine  # the 1.x way
    assert opentracing.global_tracer() is mine
    # Upstream does not mark a directly assigned tracer as registered.
    assert opentracing.is_global_tracer_registered() is False


def test_reset_gives_a_fresh_noop() -> None:
    mine = Tracer()
    opentracing.set_global_tracer(mine)
    opentracing._reset_global_tracer()
    assert opentracing.global_tracer() is not mine
    assert type(opentracing.global_tracer()) is Tracer
    assert opentracing.is_global_tracer_registered() is False


def test_from_import_is_a_snapshot() -> None:
    from opentracing import tracer as snapshot

    opentracing.set_global_tracer(Tracer())
    assert snapshot is not opentracing.global_tracer()


def test_tracer_submodule_still_importable() -> None:
    # The package attribute "tracer" is the instance, yet the submodule still imports.
    from opentracing.tracer import Reference, ReferenceType, start_child_span

    assert Reference and ReferenceType and start_child_span
    module = importlib.import_module("opentracing.tracer")
    assert module.Tracer is Tracer
    assert isinstance(opentracing.tracer, Tracer)
