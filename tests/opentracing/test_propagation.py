"""opentracing.propagation: formats and exceptions."""

from __future__ import annotations

import pytest

import opentracing
from opentracing import propagation


def test_format_values() -> None:
    assert propagation.Format.BINARY == "binary"
    assert propagation.Format.TEXT_MAP == "text_map"
    assert propagation.Format.HTTP_HEADERS == "http_headers"


@pytest.mark.parametrize(
    "name",
    ["UnsupportedFormatException", "InvalidCarrierException", "SpanContextCorruptedException"],
)
def test_exceptions(name: str) -> None:
    exc_type = getattr(propagation, name)
    assert getattr(opentracing, name) is exc_type
    assert issubclass(exc_type, Exception)
    assert exc_type.__bases__ == (Exception,)
    with pytest.raises(exc_type):
        raise exc_type("detail")


def test_reexports() -> None:
    assert opentracing.Format is propagation.Format
