"""W3C baggage: grammar, percent-encoding, properties, limits, and what inject leaves out."""

from __future__ import annotations

import logging
from typing import Any, Dict

import pytest

from opentracing import Format
from tests.support.tracers import make_tracer
from zipkin_tracer.context import ZipkinSpanContext
from zipkin_tracer.propagation.baggage import MAX_HEADER_BYTES, MAX_MEMBER_BYTES, MAX_MEMBERS

T, S = 0x463AC35C9F6413AD48485A3953BB6124, 0xA2FB4A1D1A96D312


def extracted(value: Any) -> Dict[str, str]:
    context = make_tracer().extract(Format.HTTP_HEADERS, {"baggage": value})
    return {} if context is None else dict(context.baggage)


def injected(baggage: Dict[str, str], **options: Any) -> Dict[str, str]:
    tracer = make_tracer(**options)
    carrier: Dict[str, str] = {}
    tracer.inject(ZipkinSpanContext(T, S, None, True, False, baggage), Format.HTTP_HEADERS, carrier)
    return carrier


@pytest.mark.parametrize(
    "header, items",
    [
        ("userId=alice,serverNode=DF%2028,isProduction=false",
         {"userId": "alice", "serverNode": "DF 28", "isProduction": "false"}),
        (["userId=alice", "serverNode=DF%2028,isProduction=false"],
         {"userId": "alice", "serverNode": "DF 28", "isProduction": "false"}),
        ("userId =   alice, serverNode = DF%2028 ", {"userId": "alice", "serverNode": "DF 28"}),
        ("key1=value1;property1;property2, key2 = value2, key3=value3; propertyKey=propertyValue",
         {"key1": "value1", "key2": "value2", "key3": "value3"}),
        ("k=a=b", {"k": "a=b"}),  # '=' may appear in values
        ("k=%E2%9C%93", {"k": "\u2713"}),
        ("k=%FF", {"k": "\ufffd"}),  # not UTF-8: replaced, not raised
        ("k=", {"k": ""}),
        ("k=1,k=2", {"k": "1"}),  # the first of duplicates wins
        ("a=1,bad key=2,c=3", {"a": "1", "c": "3"}),  # a bad member is left out, the rest kept
        ('a="quoted",b=2', {"b": "2"}),
        ("a=1;bad prop=x,b=2", {"b": "2"}),
        (",,a=1,, ,", {"a": "1"}),
        ("novalue,b=2", {"b": "2"}),
        ("", {}),
    ],
)  # fmt: skip
def test_extract(header: Any, items: Dict[str, str]) -> None:
    assert extracted(header) == items


def test_baggage_without_trace_context_is_kept() -> None:
    context = make_tracer().extract(Format.HTTP_HEADERS, {"baggage": "a=1"})
    assert context is not None and context.trace_id == 0 and context.baggage == {"a": "1"}
    span = make_tracer().start_span("root", child_of=context)
    assert span.context.baggage == {"a": "1"} and span.context.trace_id


def test_inject_percent_encodes_and_round_trips() -> None:
    baggage = {"user": 'a b,c;d=e%f\u00fc"\\', "Case": "X"}
    carrier = injected(baggage)
    assert carrier["baggage"].isascii() and " " not in carrier["baggage"]
    assert extracted(carrier["baggage"]) == baggage


def test_plus_is_percent_encoded_for_opentelemetry_python() -> None:
    # OpenTelemetry Python decodes baggage values with urllib's unquote_plus:
    # a bare "+" would reach it as a space; "%2B" reads as "+" everywhere
    from urllib.parse import unquote_plus

    carrier = injected({"sum": "1+1 2"})
    assert carrier["baggage"] == "sum=1%2B1%202"
    assert extracted(carrier["baggage"]) == {"sum": "1+1 2"}
    assert unquote_plus(carrier["baggage"].partition("=")[2]) == "1+1 2"


def test_properties_travel_with_their_value_and_not_with_a_new_one() -> None:
    tracer = make_tracer()
    parent = tracer.extract(
        Format.HTTP_HEADERS,
        {"baggage": "a=1;ttl=60;secret, b=2 ; p", "traceparent": f"00-{T:032x}-{S:016x}-01"},
    )
    span = tracer.start_span("s", child_of=parent)
    span.set_baggage_item("b", "3")
    carrier: Dict[str, str] = {}
    tracer.inject(span.context, Format.HTTP_HEADERS, carrier)
    assert carrier["baggage"] == "a=1;ttl=60;secret,b=3"


def test_limits_on_extract() -> None:
    many = ",".join(f"k{i}=v" for i in range(MAX_MEMBERS + 20))
    assert len(extracted(many)) == MAX_MEMBERS
    big = "big=" + "x" * MAX_MEMBER_BYTES
    assert extracted(f"a=1,{big},b=2") == {"a": "1", "b": "2"}
    fill = ",".join(f"k{i}=" + "x" * 1000 for i in range(10))
    assert len(extracted(fill)) == MAX_HEADER_BYTES // 1004


def test_limits_on_inject_drop_whole_members_and_count_them(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tracer = make_tracer()
    baggage = {f"k{i:03d}": "v" for i in range(MAX_MEMBERS + 5)}
    baggage["big"] = "x" * MAX_MEMBER_BYTES
    context = ZipkinSpanContext(T, S, None, True, False, baggage)
    carrier: Dict[str, str] = {}
    with caplog.at_level(logging.WARNING):
        tracer.inject(context, Format.HTTP_HEADERS, carrier)
        tracer.inject(context, Format.HTTP_HEADERS, {})
    members = carrier["baggage"].split(",")
    assert len(members) == MAX_MEMBERS and all(m.endswith("=v") for m in members)
    assert len(carrier["baggage"]) <= MAX_HEADER_BYTES
    assert tracer.metrics["propagation_baggage_over_limit"] == 2 * 6
    assert caplog.text.count("baggage_over_limit") == 1  # the first only


def test_header_byte_limit_on_inject() -> None:
    baggage = {f"k{i}": "x" * 1000 for i in range(12)}
    header = injected(baggage)["baggage"]
    assert len(header) <= MAX_HEADER_BYTES and header.count(",") == 7


def test_lone_surrogate_and_bad_keys_are_left_out_not_raised() -> None:
    tracer = make_tracer()
    baggage = {"ok": "1", "bad": "\udc80", "not a token": "2", "k\udc80": "3"}
    context = ZipkinSpanContext(T, S, None, True, False, baggage)
    for fmt in (Format.HTTP_HEADERS, Format.TEXT_MAP):
        carrier: Dict[str, str] = {}
        tracer.inject(context, fmt, carrier)
        assert carrier["baggage"] == "ok=1"
        assert (
            carrier["traceparent"]
            and carrier["x-b3-traceid" if fmt == Format.TEXT_MAP else "X-B3-TraceId"]
        )
    http: Dict[str, str] = {}
    tracer.inject(context, Format.HTTP_HEADERS, http)
    assert http["ot-baggage-ok"] == "1" and "ot-baggage-not%20a%20token" in http
    assert not any("\udc80" in key or "\udc80" in value for key, value in http.items())
    metrics = tracer.metrics
    assert (
        metrics["propagation_baggage_unencodable"] >= 4
        and metrics["propagation_baggage_bad_key"] >= 2
    )


def test_b3_only_tracer_leaves_out_unencodable_baggage() -> None:
    carrier = injected({"ok": "1", "bad": "\ud800"}, propagation="b3")
    assert carrier["ot-baggage-ok"] == "1" and "ot-baggage-bad" not in carrier
