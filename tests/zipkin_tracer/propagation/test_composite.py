"""Composed propagation: names, the default, which format wins, stale headers, jaeger."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest

from opentracing import Format, InvalidCarrierException
from tests.support.tracers import make_tracer
from zipkin_tracer.context import ZipkinSpanContext
from zipkin_tracer.propagation.composite import parse_names

T = "463ac35c9f6413ad48485a3953bb6124"
S = "a2fb4a1d1a96d312"
T2 = "0af7651916cd43dd8448eb211c80319c"
S2 = "b7ad6b7169203331"
TP = f"00-{T}-{S}-01"


@pytest.mark.parametrize(
    "value, legacy, names",
    [
        ("b3", True, ("b3multi",)),  # our option's old meaning
        ("b3-single", True, ("b3",)),
        ("b3", False, ("b3",)),  # OTEL_PROPAGATORS: OpenTelemetry's meaning, B3 single
        ("tracecontext,baggage,b3", True, ("tracecontext", "baggage", "b3")),  # in a list: single
        (" TraceContext , b3multi,tracecontext ", True, ("tracecontext", "b3multi")),
        (["jaeger", "b3-single"], True, ("jaeger", "b3")),
        ("none", False, ("none",)),
    ],
)
def test_names(value: Any, legacy: bool, names: Any) -> None:
    assert parse_names(value, legacy) == names


@pytest.mark.parametrize("value", ["w3c", "b3,xray", "", ",", "none,b3", 5, ["b3", 1]])
def test_bad_names(value: Any) -> None:
    with pytest.raises(ValueError, match="tracecontext|none"):
        parse_names(value, True)


def inject(context: Any, **options: Any) -> Dict[str, str]:
    tracer = make_tracer(**options)
    carrier: Dict[str, str] = {}
    tracer.inject(context, Format.HTTP_HEADERS, carrier)
    return carrier


def test_default_writes_b3_multi_and_traceparent() -> None:
    tracer = make_tracer()
    span = tracer.start_span("root")
    carrier = inject(span.context)
    assert set(carrier) == {"traceparent", "X-B3-TraceId", "X-B3-SpanId", "X-B3-Sampled"}
    assert carrier["traceparent"].split("-")[2] == carrier["X-B3-SpanId"]


@pytest.mark.parametrize(
    "propagation, names",
    [
        ("b3", {"X-B3-TraceId", "X-B3-SpanId", "X-B3-Sampled"}),
        ("b3-single", {"b3"}),
        ("tracecontext", {"traceparent"}),
        ("jaeger", {"uber-trace-id"}),
        ("b3,jaeger,tracecontext", {"b3", "uber-trace-id", "traceparent"}),
        ("none", set()),
    ],
)
def test_inject_writes_every_listed_format(propagation: str, names: set) -> None:  # type: ignore[type-arg]
    context = ZipkinSpanContext(int(T, 16), int(S, 16), None, True)
    assert set(inject(context, propagation=propagation)) == names


@pytest.mark.parametrize(
    "headers",
    [
        {"X-B3-TraceId": T, "X-B3-SpanId": S, "X-B3-Sampled": "1"},
        {"b3": f"{T}-{S}-1"},
        {"traceparent": TP},
        {"uber-trace-id": f"{T}:{S}:0:1"},
    ],
)
def test_default_extract_reads_b3_both_forms_and_traceparent(headers: Dict[str, str]) -> None:
    tracer = make_tracer(propagation="jaeger,tracecontext,b3multi")
    context = tracer.extract(Format.HTTP_HEADERS, headers)
    assert context is not None and (context.trace_id, context.span_id) == (int(T, 16), int(S, 16))
    if "uber-trace-id" not in headers:
        default = make_tracer().extract(Format.HTTP_HEADERS, headers)
        assert default is not None and default.trace_id == int(T, 16)
    else:
        assert make_tracer().extract(Format.HTTP_HEADERS, headers) is None


def test_traceparent_wins_when_b3_disagrees_and_its_tracestate_goes_with_it() -> None:
    headers = {"traceparent": TP, "tracestate": "a=1", "X-B3-TraceId": T2, "X-B3-SpanId": S2}
    context = make_tracer().extract(Format.HTTP_HEADERS, headers)
    assert context is not None and (context.trace_id, context.span_id) == (int(T, 16), int(S, 16))
    assert context.w3c is not None and context.w3c.tracestate == "a=1"
    # listed first, B3 wins, and the disagreeing traceparent's tracestate is dropped
    b3_first = make_tracer(propagation="b3multi,tracecontext").extract(Format.HTTP_HEADERS, headers)
    assert b3_first is not None and b3_first.trace_id == int(T2, 16)
    assert b3_first.w3c is None or b3_first.w3c.tracestate == ""


def test_invalid_traceparent_falls_back_to_b3() -> None:
    headers = {"traceparent": f"00-{'0' * 32}-{S}-01", "X-B3-TraceId": T2, "X-B3-SpanId": S2}
    context = make_tracer().extract(Format.HTTP_HEADERS, headers)
    assert context is not None and context.trace_id == int(T2, 16)


def test_agreeing_b3_adds_debug_parent_and_join() -> None:
    parent = "05e3ac9a4f6e3b90"
    headers = {"traceparent": TP, "b3": f"{T}-{S}-d-{parent}", "tracestate": "a=1"}
    tracer = make_tracer()
    context = tracer.extract(Format.HTTP_HEADERS, headers)
    assert context is not None and context.debug and context.sampled
    assert context.parent_id == int(parent, 16) and context.w3c is not None
    assert context.w3c.tracestate == "a=1" and context.w3c.join
    server = tracer.start_span("s", child_of=context, tags={"span.kind": "server"})
    assert server.context.span_id == int(S, 16)  # B3 callers may share their span


def test_deferred_b3_takes_the_agreeing_traceparent_decision() -> None:
    headers = {"X-B3-TraceId": T, "X-B3-SpanId": S, "traceparent": f"00-{T}-{S}-00"}
    context = make_tracer(propagation="b3multi,tracecontext").extract(Format.HTTP_HEADERS, headers)
    assert context is not None and context.sampled is False


def test_baggage_is_the_union_of_formats() -> None:
    headers = {"ot-baggage-a": "1", "baggage": "a=2,b=2", "uberctx-c": "3"}
    context = make_tracer(propagation="b3,baggage,jaeger").extract(Format.HTTP_HEADERS, headers)
    assert context is not None and context.trace_id == 0
    assert context.baggage == {"a": "1", "b": "2", "c": "3"}


def test_mixed_case_baggage_key_is_one_item_across_formats() -> None:
    # W3C keeps the key's case, B3 lower-cases it: the same item, not two
    tracer = make_tracer()
    span = tracer.start_span("a")
    span.set_baggage_item("UserId", "alice")
    headers: Dict[str, str] = {}
    tracer.inject(span.context, Format.HTTP_HEADERS, headers)
    context = tracer.extract(Format.HTTP_HEADERS, headers)
    assert context is not None and dict(context.baggage) == {"UserId": "alice"}
    child = tracer.start_span("b", child_of=context)
    child.set_baggage_item("UserId", "bob")
    headers = {}
    tracer.inject(child.context, Format.HTTP_HEADERS, headers)
    assert headers["baggage"] == "UserId=bob" and headers["ot-baggage-userid"] == "bob"
    # within one format, keys differing in case stay apart
    alone = tracer.extract(Format.HTTP_HEADERS, {"baggage": "a=1,A=2", "ot-baggage-a": "3"})
    assert alone is not None and dict(alone.baggage) == {"a": "1", "A": "2"}


def test_decision_without_ids_survives_composition() -> None:
    context = make_tracer().extract(Format.HTTP_HEADERS, {"b3": "0", "baggage": "a=1"})
    assert context is not None and context.sampled is False and context.baggage == {"a": "1"}


def test_none_extracts_and_injects_nothing() -> None:
    tracer = make_tracer(propagation="none")
    assert tracer.extract(Format.HTTP_HEADERS, {"traceparent": TP, "b3": f"{T}-{S}-1"}) is None
    carrier = {"traceparent": "stale"}
    tracer.inject(tracer.start_span("x").context, Format.HTTP_HEADERS, carrier)
    assert carrier == {"traceparent": "stale"}
    with pytest.raises(InvalidCarrierException):
        tracer.extract(Format.HTTP_HEADERS, 42)


@pytest.mark.parametrize("propagation", ["b3", "tracecontext", "jaeger"])
def test_inject_removes_stale_trace_headers_of_every_format(propagation: str) -> None:
    stale = {
        "TraceParent": f"00-{T2}-{S2}-01",
        "TRACESTATE": "old=1",
        "B3": f"{T2}-{S2}-1",
        "x-b3-traceid": T2,
        "Uber-Trace-Id": f"{T2}:{S2}:0:1",
        "Accept": "text/plain",
    }
    tracer = make_tracer(propagation=propagation)
    span = tracer.start_span("root")
    carrier = dict(stale)
    tracer.inject(span.context, Format.HTTP_HEADERS, carrier)
    fresh: Dict[str, str] = {}
    tracer.inject(span.context, Format.HTTP_HEADERS, fresh)
    assert carrier == {"Accept": "text/plain", **fresh}


def test_self_referencing_and_odd_values_do_not_raise() -> None:
    loop: List[Any] = []
    loop.append(loop)
    carrier = {
        "traceparent": loop,
        "b3": [loop, f"{T}-{S}-1"],
        "baggage": [b"a=1", 3],
        "x": object(),
    }
    tracer = make_tracer()
    context = tracer.extract(Format.HTTP_HEADERS, carrier)
    assert context is not None and context.trace_id == int(T, 16) and context.baggage == {"a": "1"}
    tracer.inject(tracer.start_span("s", child_of=context).context, Format.HTTP_HEADERS, carrier)
    assert carrier["X-B3-TraceId"] == T and "b3" not in carrier


def test_read_only_carrier_is_an_invalid_carrier() -> None:
    from types import MappingProxyType

    tracer = make_tracer()
    with pytest.raises(InvalidCarrierException):
        tracer.inject(tracer.start_span("s").context, Format.HTTP_HEADERS, MappingProxyType({}))


# -- jaeger -------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        (f"{T}:{S}:0:1", (int(T, 16), int(S, 16), None, True, False)),
        (f"{T}%3A{S}%3A0%3A1", (int(T, 16), int(S, 16), None, True, False)),
        ("abc:def:1:0", (0xABC, 0xDEF, 1, False, False)),
        (f"{T}:{S}:0:3", (int(T, 16), int(S, 16), None, True, True)),
        (f"{T}:{S}:0:2", (int(T, 16), int(S, 16), None, True, True)),
        (f"0:{S}:0:1", None),
        (f"{T}:0:0:1", None),
        (f"{T}:{S}:0", None),
        (f"{T}:{S}:0:1:9", None),
        (f"{T}1:{S}:0:1", None),
        ("", None),
    ],
)
def test_jaeger_extract(value: str, expected: Any) -> None:
    context = make_tracer(propagation="jaeger").extract(
        Format.HTTP_HEADERS, {"Uber-Trace-Id": value}
    )
    if expected is None:
        assert context is None
    else:
        assert context is not None
        got = (context.trace_id, context.span_id, context.parent_id, context.sampled, context.debug)
        assert got == expected


def test_jaeger_round_trip_with_baggage() -> None:
    tracer = make_tracer(propagation="jaeger")
    context = ZipkinSpanContext(int(T, 16), int(S, 16), 7, False, False, {"User": "a b"})
    carrier: Dict[str, str] = {}
    tracer.inject(context, Format.HTTP_HEADERS, carrier)
    assert carrier == {"uber-trace-id": f"{T}:{S}:0:0", "uberctx-user": "a%20b"}
    back = tracer.extract(Format.HTTP_HEADERS, carrier)
    assert back is not None and back.span_id == int(S, 16) and back.baggage == {"user": "a b"}
    assert back.sampled is False
