"""B3 extract and inject (``propagation="b3"``, B3 alone): the reference header vectors,
then properties."""

from __future__ import annotations

from typing import Dict, Optional, Tuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opentracing import Format, InvalidCarrierException
from tests.support.tracers import make_tracer
from zipkin_tracer.propagation.b3 import B3Propagator
from zipkin_tracer.span import ZipkinSpanContext

T = "80f198ee56343ba864fe8b2a57d3eff7"
S = "e457b5a2e4d86bd1"
P = "05e3ac9a4f6e3b90"
T64 = "64fe8b2a57d3eff7"
t, s, p, t64 = int(T, 16), int(S, 16), int(P, 16), int(T64, 16)

HTTP = B3Propagator(single=False, http=True)

# expected: None = rejected (no context); else (trace, span, parent, sampled, debug)
Expected = Optional[Tuple[int, int, Optional[int], Optional[bool], bool]]

VECTORS: Dict[str, Tuple[Dict[str, str], Expected]] = {
    "1 single full": ({"b3": f"{T}-{S}-1-{P}"}, (t, s, p, True, False)),
    "2 single defer": ({"b3": f"{T}-{S}"}, (t, s, None, None, False)),
    "3 single deny": ({"b3": f"{T}-{S}-0"}, (t, s, None, False, False)),
    "4 single debug": ({"b3": f"{T}-{S}-d"}, (t, s, None, True, True)),
    "5 single debug parent": ({"b3": f"{T}-{S}-d-{P}"}, (t, s, p, True, True)),
    "6 single 64-bit": ({"b3": f"{T64}-{S}-1"}, (t64, s, None, True, False)),
    "7 flags only deny": ({"b3": "0"}, (0, 0, None, False, False)),
    "7 flags only accept": ({"b3": "1"}, (0, 0, None, True, False)),
    "7 flags only debug": ({"b3": "d"}, (0, 0, None, True, True)),
    "8 empty": ({"b3": ""}, None),
    "9 a": ({"b3": "a"}, None),
    "9 3": ({"b3": "3"}, None),
    "9 true": ({"b3": "true"}, None),
    "9 dash": ({"b3": "-"}, None),
    "10 parent no state": ({"b3": f"{T}-{S}-{P}"}, (t, s, p, None, False)),
    "11 empty sampled": ({"b3": f"{T}-{S}-"}, None),
    "12 empty state with parent": ({"b3": f"{T}-{S}--{P}"}, None),
    "13 empty parent": ({"b3": f"{T}-{S}-1-"}, None),
    "14 sampled too long": ({"b3": f"{T}-{S}-11-{P}"}, None),
    "15 bad state": ({"b3": f"{T}-{S}-f"}, None),
    "16 five fields": ({"b3": f"{T}-{S}-1-{P}-"}, None),
    "17 trace only": ({"b3": T}, None),
    "17 trace64 only": ({"b3": T64}, None),
    "18 upper case": ({"b3": f"{T.upper()}-{S}-1"}, None),
    "19 zero-padded 128": ({"b3": f"{'0' * 16}{T64}-{S}-1"}, (t64, s, None, True, False)),
    "20 zero trace": ({"b3": f"{'0' * 16}-{S}-1"}, None),
    "21 zero span": ({"b3": f"{T}-{'0' * 16}-1"}, None),
    "22 zero parent": ({"b3": f"{T}-{S}-1-{'0' * 16}"}, (t, s, None, True, False)),
    "23 uuid": ({"b3": "b970dafd-0d95-40aa-95d8-1d8725aebe40"}, None),
    "24 short trace": ({"b3": f"1-{S}"}, None),
    "25 15-char span": ({"b3": f"{T}-e457b5a2e4d86bd"}, None),
    "26 33-char trace": ({"b3": f"{T}a-{S}"}, None),
    "27 15-char parent": ({"b3": f"{T}-{S}-1-05e3ac9a4f6e3b9"}, None),
    "28 decimal check": (
        {"b3": "000000000000007b00000000000001c8-000000000000007b-1-00000000000001c8"},
        ((123 << 64) | 456, 123, 456, True, False),
    ),
    "29 readme decimal": (
        {"b3": f"{T}-{S}-1-{P}"},
        (
            (9291375655657946024 << 64) | 7277407061855694839,
            16453819474850114513,
            424372568660523920,
            True,
            False,
        ),
    ),
    "30 multi full": (
        {"X-B3-TraceId": T, "X-B3-SpanId": S, "X-B3-ParentSpanId": P, "X-B3-Sampled": "1"},
        (t, s, p, True, False),
    ),
    "31 multi defer": ({"X-B3-TraceId": T64, "X-B3-SpanId": S}, (t64, s, None, None, False)),
    "32 legacy true": (
        {"X-B3-TraceId": T64, "X-B3-SpanId": S, "X-B3-Sampled": "true"},
        (t64, s, None, True, False),
    ),
    "32 legacy false": (
        {"X-B3-TraceId": T64, "X-B3-SpanId": S, "X-B3-Sampled": "False"},
        (t64, s, None, False, False),
    ),
    **{
        f"33 bad sampled {bad!r}": (
            {"X-B3-TraceId": T64, "X-B3-SpanId": S, "X-B3-Sampled": bad},
            None,
        )
        for bad in ["", "d", "2", "\U0001f4a9", "hello"]
    },
    "34 flags debug": (
        {"X-B3-TraceId": T64, "X-B3-SpanId": S, "X-B3-Flags": "1"},
        (t64, s, None, True, True),
    ),
    "35 debug wins over deny": (
        {"X-B3-TraceId": T64, "X-B3-SpanId": S, "X-B3-Flags": "1", "X-B3-Sampled": "0"},
        (t64, s, None, True, True),
    ),
    **{
        f"36 flags ignored {flag}": (
            {"X-B3-TraceId": T64, "X-B3-SpanId": S, "X-B3-Flags": flag},
            (t64, s, None, None, False),
        )
        for flag in ["2", "3", "true", "0"]
    },
    "37 sampled only 0": ({"X-B3-Sampled": "0"}, (0, 0, None, False, False)),
    "37 sampled only 1": ({"X-B3-Sampled": "1"}, (0, 0, None, True, False)),
    "38 flags only": ({"X-B3-Flags": "1"}, (0, 0, None, True, True)),
    "39 trace only": ({"X-B3-TraceId": T}, None),
    "40 span only": ({"X-B3-SpanId": S}, None),
    "41 parent only": ({"X-B3-ParentSpanId": P}, None),
    "42 parent dash": ({"X-B3-TraceId": T, "X-B3-SpanId": S, "X-B3-ParentSpanId": "-"}, None),
    "42 parent empty": ({"X-B3-TraceId": T, "X-B3-SpanId": S, "X-B3-ParentSpanId": ""}, None),
    "43 upper": ({"X-B3-TraceId": T.upper(), "X-B3-SpanId": S}, None),
    "43 0x": ({"X-B3-TraceId": "0x" + T64, "X-B3-SpanId": S}, None),
    "43 34 chars": ({"X-B3-TraceId": T + "ab", "X-B3-SpanId": S}, None),
    "43 span 18 chars": ({"X-B3-TraceId": T, "X-B3-SpanId": S + "ab"}, None),
    "44 lenient short": ({"X-B3-TraceId": "abc", "X-B3-SpanId": S}, (0xABC, s, None, None, False)),
    "45 zero trace 32": ({"X-B3-TraceId": "0" * 32, "X-B3-SpanId": S}, None),
    "45 zero trace 16": ({"X-B3-TraceId": "0" * 16, "X-B3-SpanId": S}, None),
    "45 zero span": ({"X-B3-TraceId": T, "X-B3-SpanId": "0" * 16}, None),
    "45 zero parent multi": (
        {"X-B3-TraceId": T, "X-B3-SpanId": S, "X-B3-ParentSpanId": "0" * 16},
        None,
    ),
    "46 lowercase names": ({"x-b3-traceid": T, "x-b3-spanid": S}, (t, s, None, None, False)),
    "46 mixed case names": (
        {"X-B3-traceId": T, "X-b3-SpanId": S, "X-B3-SAMPLED": "1"},
        (t, s, None, True, False),
    ),
    "47 bad b3 falls back": (
        {"b3": "garbage", "X-B3-TraceId": T, "X-B3-SpanId": S, "X-B3-Sampled": "1"},
        (t, s, None, True, False),
    ),
    "48 b3 wins": (
        {"b3": f"{T}-{S}-0", "X-B3-TraceId": T64, "X-B3-SpanId": P, "X-B3-Sampled": "1"},
        (t, s, None, False, False),
    ),
    "nothing": ({}, None),
    "unrelated": ({"Content-Type": "text/plain"}, None),
}


def _summary(context: Optional[ZipkinSpanContext]) -> Expected:
    if context is None:
        return None
    return (context.trace_id, context.span_id, context.parent_id, context.sampled, context.debug)


@pytest.mark.parametrize("headers, expected", list(VECTORS.values()), ids=list(VECTORS))
def test_extract_vectors(headers: Dict[str, str], expected: Expected) -> None:
    tracer = make_tracer(propagation="b3")
    for fmt in (Format.HTTP_HEADERS, Format.TEXT_MAP):
        context = tracer.extract(fmt, headers)
        assert _summary(context) == expected
        if context is not None:
            assert context.remote


def _ctx(
    sampled: Optional[bool], debug: bool = False, parent: Optional[int] = None
) -> ZipkinSpanContext:
    return ZipkinSpanContext(t, s, parent, sampled, debug)


@pytest.mark.parametrize(
    "context, multi, single",
    [
        (
            _ctx(True, parent=p),
            {"X-B3-TraceId": T, "X-B3-SpanId": S, "X-B3-ParentSpanId": P, "X-B3-Sampled": "1"},
            f"{T}-{S}-1-{P}",
        ),
        (_ctx(False), {"X-B3-TraceId": T, "X-B3-SpanId": S, "X-B3-Sampled": "0"}, f"{T}-{S}-0"),
        # 49: debug → Flags: 1 and no Sampled; single -d
        (
            _ctx(True, debug=True),
            {"X-B3-TraceId": T, "X-B3-SpanId": S, "X-B3-Flags": "1"},
            f"{T}-{S}-d",
        ),
        # 50: deferred with parent → no Sampled; single T-S-P
        (
            _ctx(None, parent=p),
            {"X-B3-TraceId": T, "X-B3-SpanId": S, "X-B3-ParentSpanId": P},
            f"{T}-{S}-{P}",
        ),
        (
            ZipkinSpanContext(t64, s, None, True),
            {"X-B3-TraceId": T64, "X-B3-SpanId": S, "X-B3-Sampled": "1"},
            f"{T64}-{S}-1",
        ),
        (ZipkinSpanContext(0, 0, None, False), {"X-B3-Sampled": "0"}, "0"),
        (ZipkinSpanContext(0, 0, None, True, True), {"X-B3-Flags": "1"}, "d"),
        # 51: an empty context writes nothing
        (ZipkinSpanContext(0, 0, None, None), {}, None),
    ],  # fmt: skip
)
def test_inject_vectors(
    context: ZipkinSpanContext, multi: Dict[str, str], single: Optional[str]
) -> None:
    carrier: Dict[str, str] = {}
    make_tracer(propagation="b3").inject(context, Format.HTTP_HEADERS, carrier)
    assert carrier == multi
    carrier = {}
    make_tracer(propagation="b3-single").inject(context, Format.HTTP_HEADERS, carrier)
    assert carrier == ({} if single is None else {"b3": single})


@pytest.mark.parametrize("propagation", ["b3", "b3-single"])
def test_inject_replaces_stale_b3_of_either_format(propagation: str) -> None:
    stale = {
        "B3": "1111111111111111-2222222222222222-1",
        "X-B3-TraceId": "1111111111111111",
        "x-b3-spanid": "2222222222222222",
        "X-B3-ParentSpanId": "3333333333333333",
        "X-B3-Flags": "1",
        "Accept": "text/plain",
    }
    tracer = make_tracer(propagation=propagation)
    span = tracer.start_span("root")
    carrier = dict(stale)

    tracer.inject(span.context, Format.HTTP_HEADERS, carrier)

    extracted = tracer.extract(Format.HTTP_HEADERS, carrier)
    assert extracted is not None
    assert (extracted.trace_id, extracted.span_id) == (span.context.trace_id, span.context.span_id)
    assert extracted.parent_id is None and not extracted.debug
    fresh: Dict[str, str] = {}
    tracer.inject(span.context, Format.HTTP_HEADERS, fresh)
    assert carrier == {"Accept": "text/plain", **fresh}


def test_text_map_injects_lowercase_keys() -> None:
    carrier: Dict[str, str] = {}
    context = _ctx(True, parent=p).with_baggage_item("User-Id", "42")
    make_tracer(propagation="b3").inject(context, Format.TEXT_MAP, carrier)
    assert carrier == {
        "x-b3-traceid": T,
        "x-b3-spanid": S,
        "x-b3-parentspanid": P,
        "x-b3-sampled": "1",
        "ot-baggage-user-id": "42",
    }


def test_ids_are_zero_padded() -> None:
    carrier: Dict[str, str] = {}
    make_tracer(propagation="b3").inject(
        ZipkinSpanContext(0xABC, 0x1, 0x2, True), Format.HTTP_HEADERS, carrier
    )
    assert carrier["X-B3-TraceId"] == "0000000000000abc"
    assert carrier["X-B3-SpanId"] == "0000000000000001"
    assert carrier["X-B3-ParentSpanId"] == "0000000000000002"


def test_baggage_travels_and_is_percent_encoded_in_http_headers() -> None:
    tracer = make_tracer(propagation="b3")
    context = _ctx(True).with_baggage_item("k", "a b,ü;\r\n")
    carrier: Dict[str, str] = {}
    tracer.inject(context, Format.HTTP_HEADERS, carrier)
    assert carrier["ot-baggage-k"].isascii() and "\n" not in carrier["ot-baggage-k"]
    extracted = tracer.extract(Format.HTTP_HEADERS, {k.upper(): v for k, v in carrier.items()})
    assert extracted is not None and extracted.baggage == {"k": "a b,ü;\r\n"}


def test_baggage_without_ids_is_kept_and_bad_b3_keeps_baggage() -> None:
    tracer = make_tracer(propagation="b3")
    only = tracer.extract(Format.TEXT_MAP, {"ot-baggage-a": "1"})
    assert only is not None and only.trace_id == 0 and only.baggage == {"a": "1"}
    bad = tracer.extract(Format.TEXT_MAP, {"b3": "junk", "OT-Baggage-B": "2"})
    assert bad is not None and bad.trace_id == 0 and bad.baggage == {"b": "2"}


def test_first_of_duplicate_names_wins() -> None:
    carrier = {"x-b3-traceid": T, "X-B3-TraceId": T64, "X-B3-SpanId": S}
    context = make_tracer(propagation="b3").extract(Format.HTTP_HEADERS, carrier)
    assert context is not None and context.trace_id == t


def test_values_as_bytes_or_lists_are_read() -> None:
    carrier = {"X-B3-TraceId": [T, T64], "X-B3-SpanId": S.encode(), 5: "x", "x-b3-sampled": None}
    context = make_tracer(propagation="b3").extract(Format.HTTP_HEADERS, carrier)
    assert _summary(context) == (t, s, None, None, False)


@pytest.mark.parametrize("fmt", [Format.HTTP_HEADERS, Format.TEXT_MAP])
@pytest.mark.parametrize("carrier", [None, 42, "b3: 1", [("b3", "1")]])
def test_invalid_carriers_raise(fmt: str, carrier: object) -> None:
    tracer = make_tracer(propagation="b3")
    with pytest.raises(InvalidCarrierException):
        tracer.extract(fmt, carrier)
    with pytest.raises(InvalidCarrierException):
        tracer.inject(_ctx(True), fmt, carrier)


def test_carrier_whose_items_fail_raises_invalid_carrier() -> None:
    class Broken(dict):  # type: ignore[type-arg]
        def items(self):  # type: ignore[no-untyped-def]
            raise RuntimeError("boom")

    with pytest.raises(InvalidCarrierException):
        make_tracer(propagation="b3").extract(Format.HTTP_HEADERS, Broken())


# -- properties ---------------------------------------------------------------

_ids64 = st.integers(min_value=1, max_value=(1 << 64) - 1)
_trace_ids = st.one_of(_ids64, st.integers(min_value=1 << 64, max_value=(1 << 128) - 1))
_baggage = st.dictionaries(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.", min_size=1, max_size=12),
    st.text(max_size=20),
    max_size=3,
)
_contexts = st.builds(
    lambda tid, sid, pid, sampled, debug, baggage: ZipkinSpanContext(
        tid, sid, None if pid == sid else pid, True if debug else sampled, debug, baggage
    ),
    _trace_ids,
    _ids64,
    st.one_of(st.none(), _ids64),
    st.sampled_from([True, False, None]),
    st.booleans(),
    _baggage,
)


@settings(max_examples=300, deadline=None)
@given(
    context=_contexts,
    propagation=st.sampled_from(["b3", "b3-single"]),
    fmt=st.sampled_from([Format.HTTP_HEADERS, Format.TEXT_MAP, Format.BINARY]),
)
def test_inject_extract_round_trips(context: ZipkinSpanContext, propagation: str, fmt: str) -> None:
    tracer = make_tracer(propagation=propagation)
    carrier: object = bytearray() if fmt == Format.BINARY else {}
    tracer.inject(context, fmt, carrier)
    extracted = tracer.extract(fmt, carrier)
    assert extracted == context
    if fmt == Format.HTTP_HEADERS:  # proxies re-case header names
        assert isinstance(carrier, dict)
        for recased in (
            {k.lower(): v for k, v in carrier.items()},
            {k.upper(): v for k, v in carrier.items()},
        ):
            assert tracer.extract(fmt, recased) == context  # fmt: skip


_header_names = st.one_of(
    st.sampled_from(
        ["b3", "B3", "X-B3-TraceId", "x-b3-spanid", "X-B3-ParentSpanId", "X-B3-Sampled",
         "X-B3-Flags", "ot-baggage-x", "OT-BAGGAGE-"]
    ),
    st.text(max_size=20),
)  # fmt: skip
_header_values = st.one_of(
    st.text(max_size=80),
    st.text(alphabet="0123456789abcdefABCDEF-dx", max_size=70),
    st.binary(max_size=20),
    st.none(),
    st.integers(),
    st.lists(st.text(max_size=10), max_size=2),
)


@settings(max_examples=500, deadline=None)
@given(carrier=st.dictionaries(_header_names, _header_values, max_size=8))
def test_header_junk_never_raises(carrier: Dict[str, object]) -> None:
    tracer = make_tracer(propagation="b3")
    for fmt in (Format.HTTP_HEADERS, Format.TEXT_MAP):
        context = tracer.extract(fmt, carrier)
        assert context is None or isinstance(context, ZipkinSpanContext)
        # whatever came in, a span can start from it and its context re-injects
        span = tracer.start_span("x", child_of=context)
        out: Dict[str, str] = {}
        tracer.inject(span.context, fmt, out)
        again = tracer.extract(fmt, out)
        assert again is not None and again.trace_id == span.context.trace_id
