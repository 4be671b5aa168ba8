"""The direct writers give exactly the bytes of the reference encodings.

JSON: ``model_to_json`` against ``json`` on the dict form. Thrift:
``write_span`` against thriftpy2 serialising the IDL's structs
(``ThriftV1Encoder(fast=False)``), for arbitrary spans.
"""

from __future__ import annotations

from typing import Any, Dict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.span_strategies import endpoints, spans
from tests.support.spans import finished_span
from tests.support.thrift_vectors import (
    VECTOR_B_SPAN,
    vector_b_span,
    vector_b_tracer,
)
from tests.support.tracers import make_tracer
from zipkin_tracer.encoding.json_v2 import JsonV2Encoder, _dumps, model_to_dict
from zipkin_tracer.encoding.thrift_v1 import ThriftV1Encoder
from zipkin_tracer.model import to_model


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spans(), endpoints, st.integers(1, 40))
def test_fast_json_is_the_dict_form(span: Dict[str, Any], endpoint: Any, limit: int) -> None:
    tracer = make_tracer(max_tag_value_length=limit, **endpoint)
    finished = finished_span(tracer, **span)
    expected = _dumps(model_to_dict(to_model(finished))).encode("ascii")
    assert JsonV2Encoder().encode_span(finished) == expected


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spans(), endpoints, st.integers(1, 40))
def test_fast_thrift_is_thriftpy2(span: Dict[str, Any], endpoint: Any, limit: int) -> None:
    tracer = make_tracer(max_tag_value_length=limit, encoding="thrift", **endpoint)
    finished = finished_span(tracer, **span)
    fast, reference = ThriftV1Encoder(), ThriftV1Encoder(fast=False)
    assert fast.fast and not reference.fast
    assert fast.encode_span(finished) == reference.encode_span(finished)


def test_both_thrift_writers_give_vector_b() -> None:
    tracer = vector_b_tracer()
    for fast in (True, False):
        assert ThriftV1Encoder(fast=fast).encode_span(vector_b_span(tracer)) == VECTOR_B_SPAN


def test_the_local_endpoint_is_encoded_once_per_endpoint() -> None:
    encoder = ThriftV1Encoder()
    for name in ("a", "b", "a"):
        tracer = make_tracer(service_name=name, encoding="thrift")
        reference = ThriftV1Encoder(fast=False).encode_span(finished_span(tracer))
        assert encoder.encode_span(finished_span(tracer)) == reference
    assert len(encoder._hosts) == 2


def test_fast_json_falls_back_for_numbers_that_are_not_ints() -> None:
    tracer = make_tracer()
    span = finished_span(tracer, start_us=1.5e15, logs=[(True, {"event": "x"})])  # type: ignore[arg-type]
    expected = _dumps(model_to_dict(to_model(span))).encode("ascii")
    assert JsonV2Encoder().encode_span(span) == expected
    assert b'"timestamp":1500000000000000.0' in expected
