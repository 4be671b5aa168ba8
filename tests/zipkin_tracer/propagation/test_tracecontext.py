"""W3C Trace Context through a default tracer: the spec's parsing and passing-on rules.

Each case is a request as the W3C test harness sends it (a list of header
name/value pairs, repeated names included) and what the service must send on.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opentracing import Format
from tests.support.tracers import make_tracer
from zipkin_tracer import ZipkinTracer
from zipkin_tracer.propagation.tracecontext import parse_tracestate, truncate_tracestate
from zipkin_tracer.testing import InMemoryReporter

TID = "12345678901234567890123456789012"
PID = "1234567890123456"
VALID = f"00-{TID}-{PID}-01"
Headers = List[Tuple[str, str]]


def carrier_of(headers: Headers) -> Dict[str, object]:
    """Repeated names become a list value, as a multi-dict carrier holds them."""
    carrier: Dict[str, object] = {}
    for name, value in headers:
        if name in carrier:
            previous = carrier[name]
            carrier[name] = (previous if isinstance(previous, list) else [previous]) + [value]
        else:
            carrier[name] = value
    return carrier


def hop(headers: Headers, tracer: Optional[ZipkinTracer] = None) -> Dict[str, str]:
    """A server span from the request, a client child of it; what the client sends."""
    tracer = tracer or make_tracer()
    parent = tracer.extract(Format.HTTP_HEADERS, carrier_of(headers))
    server = tracer.start_span("server", child_of=parent, tags={"span.kind": "server"})
    client = tracer.start_span("client", child_of=server, tags={"span.kind": "client"})
    out: Dict[str, str] = {}
    tracer.inject(client.context, Format.HTTP_HEADERS, out)
    client.finish()
    server.finish()
    return out


def sent(headers: Headers) -> Tuple[str, str, int, str]:
    """(trace ID, parent ID, flags, tracestate) of the traceparent sent on."""
    out = hop(headers)
    version, trace_id, parent_id, flags = out["traceparent"].split("-")
    assert version == "00" and len(trace_id) == 32 and len(parent_id) == 16
    return trace_id, parent_id, int(flags, 16), out.get("tracestate", "")


REJECTED = {
    "duplicated": [("traceparent", f"00-{TID[:-1]}1-{PID}-01"), ("traceparent", VALID)],
    "duplicated, joined by a server": [("traceparent", f"{VALID},{VALID}")],
    "name trace-parent": [("trace-parent", VALID)],
    "name trace.parent": [("trace.parent", VALID)],
    "v00 trailing dot": [("traceparent", VALID + ".")],
    "v00 extra field": [("traceparent", VALID + "-what-the-future-will-be-like")],
    "future version, dot after flags": [
        ("traceparent", f"cc-{TID}-{PID}-01.what-the-future-will-be-like")
    ],
    "version ff": [("traceparent", f"ff-{TID}-{PID}-01")],
    "version .0": [("traceparent", f".0-{TID}-{PID}-01")],
    "version 0.": [("traceparent", f"0.-{TID}-{PID}-01")],
    "version 000": [("traceparent", f"000-{TID}-{PID}-01")],
    "version 0000": [("traceparent", f"0000-{TID}-{PID}-01")],
    "version 0": [("traceparent", f"0-{TID}-{PID}-01")],
    "version upper case": [("traceparent", f"CC-{TID}-{PID}-01")],
    "trace id zero": [("traceparent", f"00-{'0' * 32}-{PID}-01")],
    "trace id .": [("traceparent", f"00-.{TID[1:]}-{PID}-01")],
    "trace id trailing .": [("traceparent", f"00-{TID[:-1]}.-{PID}-01")],
    "trace id upper case": [("traceparent", f"00-{'ABCDEF' + TID[6:]}-{PID}-01")],
    "trace id too long": [("traceparent", f"00-{TID}3-{PID}-01")],
    "trace id too short": [("traceparent", f"00-{TID[:-1]}-{PID}-01")],
    "parent id zero": [("traceparent", f"00-{TID}-{'0' * 16}-01")],
    "parent id .": [("traceparent", f"00-{TID}-.{PID[1:]}-01")],
    "parent id trailing .": [("traceparent", f"00-{TID}-{PID[:-1]}.-01")],
    "parent id too long": [("traceparent", f"00-{TID}-{PID}7-01")],
    "parent id too short": [("traceparent", f"00-{TID}-{PID[:-1]}-01")],
    "flags .0": [("traceparent", f"00-{TID}-{PID}-.0")],
    "flags 0.": [("traceparent", f"00-{TID}-{PID}-0.")],
    "flags too long": [("traceparent", f"00-{TID}-{PID}-001")],
    "flags too short": [("traceparent", f"00-{TID}-{PID}-1")],
    "flags upper case": [("traceparent", f"00-{TID}-{PID}-0A")],
    "empty": [("traceparent", "")],
    "inner whitespace": [("traceparent", f"00- {TID}-{PID}-01")],
    "future version too short": [("traceparent", f"cc-{TID}-{PID}-")],
}


@pytest.mark.parametrize("headers", list(REJECTED.values()), ids=list(REJECTED))
def test_rejected_traceparent_gives_no_context(headers: Headers) -> None:
    tracer = make_tracer()
    assert tracer.extract(Format.HTTP_HEADERS, carrier_of(headers)) is None
    trace_id, _, _, state = sent(headers + [("tracestate", "foo=1")])
    assert trace_id not in (TID, TID[:-1] + "1", "0" * 32)  # a new trace
    assert state == ""  # tracestate is not read without a valid traceparent


ACCEPTED = {
    "lower case name": [("traceparent", VALID)],
    "TraceParent": [("TraceParent", VALID)],
    "TrAcEpArEnT": [("TrAcEpArEnT", VALID)],
    "TRACEPARENT": [("TRACEPARENT", VALID)],
    "future version cc": [("traceparent", f"cc-{TID}-{PID}-01")],
    "future version, more fields": [
        ("traceparent", f"cc-{TID}-{PID}-01-what-the-future-will-be-like")
    ],
    "leading space": [("traceparent", " " + VALID)],
    "leading tab": [("traceparent", "\t" + VALID)],
    "trailing space": [("traceparent", VALID + " ")],
    "trailing tab": [("traceparent", VALID + "\t")],
    "both": [("traceparent", "\t " + VALID + " \t")],
}


@pytest.mark.parametrize("headers", list(ACCEPTED.values()), ids=list(ACCEPTED))
def test_accepted_traceparent_continues_the_trace(headers: Headers) -> None:
    trace_id, parent_id, flags, _ = sent(headers)
    assert trace_id == TID and parent_id != PID and flags & 1


def test_no_headers_start_a_trace_with_the_random_flag() -> None:
    trace_id, parent_id, flags, state = sent([])
    assert int(trace_id, 16) and int(parent_id, 16) and state == ""
    assert flags == 0x03  # sampled by the default sampler, random IDs


@pytest.mark.parametrize(
    "flags, sampled", [("00", False), ("01", True), ("02", False), ("ff", True)]
)
def test_sampled_flag_is_the_decision(flags: str, sampled: bool) -> None:
    tracer = make_tracer()
    context = tracer.extract(Format.HTTP_HEADERS, {"traceparent": f"00-{TID}-{PID}-{flags}"})
    assert context is not None and context.sampled is sampled and not context.debug
    assert (context.trace_id, context.span_id, context.parent_id) == (
        int(TID, 16),
        int(PID, 16),
        None,
    )


@pytest.mark.parametrize(
    "flags, out", [("00", 0x00), ("01", 0x01), ("02", 0x02), ("03", 0x03), ("ff", 0x03)]
)
def test_random_flag_is_kept_and_other_flags_are_zeroed(flags: str, out: int) -> None:
    headers = [("traceparent", f"00-{TID}-{PID}-{flags}")]
    assert sent(headers)[2] == out
    # the sampled decision goes on in B3 too
    assert hop(headers)["X-B3-Sampled"] == ("1" if out & 1 else "0")


def test_128bit_trace_id_stays_128bit_in_b3_and_zipkin() -> None:
    tracer = make_tracer()
    out = hop([("traceparent", VALID)], tracer)
    assert out["X-B3-TraceId"] == TID
    reporter = tracer.reporter
    assert isinstance(reporter, InMemoryReporter)
    assert [span["traceId"] for span in reporter.json_spans()] == [TID, TID]


def test_64bit_trace_id_is_left_padded() -> None:
    tracer = make_tracer(trace_id_128bit=False)
    span = tracer.start_span("root")
    out: Dict[str, str] = {}
    tracer.inject(span.context, Format.HTTP_HEADERS, out)
    assert out["traceparent"] == f"00-{'0' * 16}{out['X-B3-TraceId']}-{out['X-B3-SpanId']}-03"
    back = tracer.extract(Format.HTTP_HEADERS, {"traceparent": out["traceparent"]})
    assert back is not None and back.trace_id == span.context.trace_id


def test_server_does_not_share_a_w3c_callers_span_id() -> None:
    """W3C gives every hop its own span: a server is a child of the caller's span."""
    tracer = make_tracer()
    parent = tracer.extract(Format.HTTP_HEADERS, {"traceparent": VALID})
    server = tracer.start_span("server", child_of=parent, tags={"span.kind": "server"})
    assert server.context.span_id != int(PID, 16) and server.context.parent_id == int(PID, 16)


def test_deferred_b3_context_writes_not_sampled() -> None:
    tracer = make_tracer()
    context = tracer.extract(Format.HTTP_HEADERS, {"X-B3-TraceId": TID, "X-B3-SpanId": PID})
    out: Dict[str, str] = {}
    assert context is not None
    tracer.inject(context, Format.HTTP_HEADERS, out)
    assert out["traceparent"] == f"00-{TID}-{PID}-00"


# -- tracestate ---------------------------------------------------------------


def state_sent(*values: str, name: str = "tracestate") -> str:
    return sent([("traceparent", f"00-{TID}-{PID}-00")] + [(name, v) for v in values])[3]


KEY = "abcdefghijklmnopqrstuvwxyz0123456789_-*/"
VALUE = "".join(map(chr, [*range(0x20, 0x2C), *range(0x2D, 0x3D), *range(0x3E, 0x7F)]))
MEMBERS_32 = [
    ",".join(f"bar{i:02d}={i:02d}" for i in range(a, min(a + 10, 33))) for a in (1, 11, 21, 31)
]

KEPT = {
    "passed on": (["foo=1,bar=2"], "foo=1,bar=2"),
    "TraceState": (["foo=1"], "foo=1"),
    "empty header": ([""], ""),
    "empty then member": (["", "foo=1"], "foo=1"),
    "member then empty": (["foo=1", ""], "foo=1"),
    "several headers, in order": (
        ["foo=1,bar=2", "rojo=1,congo=2", "baz=3"], "foo=1,bar=2,rojo=1,congo=2,baz=3"
    ),
    "duplicate keys kept as they are": (["foo=1,foo=2"], "foo=1,foo=2"),
    "duplicate across headers": (["foo=1", "foo=1"], "foo=1,foo=1"),
    "every key character": ([f"{KEY}={VALUE}"], f"{KEY}={VALUE}"),
    "every key character, with @": ([f"{KEY}@a-z0-9_-*/={VALUE}"], f"{KEY}@a-z0-9_-*/={VALUE}"),
    "OWS around members": (["foo=1 \t , \t bar=2, \t baz=3"], "foo=1,bar=2,baz=3"),
    "leading space": ([" foo=1"], "foo=1"),
    "trailing tab": (["foo=1\t"], "foo=1"),
    "empty members": (["foo=1,,, ,bar=2"], "foo=1,bar=2"),
    "at sign keys": (["foo@=1,bar=2"], "foo@=1,bar=2"),
    "double at": (["foo@@bar=1,bar=2"], "foo@@bar=1,bar=2"),
    "two ats": (["foo@bar@baz=1,bar=2"], "foo@bar@baz=1,bar=2"),
    "256-char key": (["foo=1", "z" * 256 + "=1"], "foo=1," + "z" * 256 + "=1"),
    "tenant key at the limit": (
        ["foo=1", "t" * 241 + "@" + "v" * 14 + "=1"], "foo=1," + "t" * 241 + "@" + "v" * 14 + "=1"
    ),
    "long system id": (["foo=1", "t@" + "v" * 15 + "=1"], "foo=1,t@" + "v" * 15 + "=1"),
    "32 members": (MEMBERS_32, ",".join(MEMBERS_32)),
    "leading space in value": (["foo= 1"], "foo= 1"),
}  # fmt: skip


@pytest.mark.parametrize("values, expected", list(KEPT.values()), ids=list(KEPT))
def test_tracestate_kept(values: List[str], expected: str) -> None:
    assert state_sent(*values) == expected


DROPPED = {
    "upper-case key": ["FOO=1"],
    "space in key": ["foo =1"],
    "dot in key": ["foo.bar=1"],
    "key starts with @": ["@foo=1,bar=2"],
    "257-char key": ["foo=1", "z" * 257 + "=1"],
    "= in value": ["foo=bar=baz"],
    "empty value": ["foo=,bar=3"],
    "no =": ["foo"],
    "33 members": MEMBERS_32[:3] + ["bar31=31,bar32=32,bar33=33"],
    "value too long": ["foo=" + "x" * 257],
    "control character": ["foo=\x01"],
    "non-ASCII": ["foo=ü"],
}  # fmt: skip


@pytest.mark.parametrize("values", list(DROPPED.values()), ids=list(DROPPED))
def test_tracestate_dropped_whole_and_traceparent_kept(values: List[str]) -> None:
    trace_id, _, _, state = sent(
        [("traceparent", f"00-{TID}-{PID}-00")] + [("tracestate", v) for v in values]
    )
    assert trace_id == TID and state == ""


@pytest.mark.parametrize("name", ["trace-state", "trace.state"])
def test_tracestate_wrong_names_ignored(name: str) -> None:
    assert state_sent("foo=1", name=name) == ""


def test_tracestate_without_traceparent_is_dropped() -> None:
    assert "tracestate" not in hop([("tracestate", "foo=1")])
    assert "tracestate" not in hop([("tracestate", "foo=1"), ("traceparent", f"ff-{TID}-{PID}-01")])


def test_tracestate_over_512_chars_loses_long_members_first_then_from_the_right() -> None:
    long = "long=" + "x" * 200
    members = [f"k{i:02d}=" + "v" * 40 for i in range(14)]  # 44 chars each
    kept = truncate_tracestate([members[0], long, *members[1:]])
    assert kept == ",".join(members[:11])  # 11 * 44 + 10 commas = 494 <= 512
    assert len(parse_tracestate([",".join([members[0], long, *members[1:]])])) <= 512
    short = [f"k{i}=1" for i in range(5)]
    assert truncate_tracestate(short) == ",".join(short)


def test_tracestate_survives_local_children_and_b3_agreement() -> None:
    tracer = make_tracer()
    headers = [
        ("traceparent", VALID),
        ("tracestate", "rojo=00f067aa0ba902b7"),
        ("b3", f"{TID}-{PID}-1"),
    ]
    out = hop(headers, tracer)
    assert out["tracestate"] == "rojo=00f067aa0ba902b7"


# -- hostile input --------------------------------------------------------------

_names = st.sampled_from(
    ["traceparent", "TraceParent", "tracestate", "TRACESTATE", "baggage", "b3"]
)
_values = st.one_of(
    st.text(max_size=120),
    st.text(alphabet="0123456789abcdefABCDEF-=,; \t@*/", max_size=120),
    st.builds(lambda a, b: f"{a}-{TID}-{PID}-{b}", st.text(max_size=3), st.text(max_size=4)),
    st.binary(max_size=60),
    st.lists(st.text(max_size=40), max_size=3),
    st.none(),
    st.integers(),
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.one_of(_names, st.text(max_size=12)), _values, max_size=5))
def test_extract_never_raises_on_junk(carrier: Dict[str, object]) -> None:
    tracer = make_tracer()
    for fmt in (Format.HTTP_HEADERS, Format.TEXT_MAP):
        context = tracer.extract(fmt, carrier)
        span = tracer.start_span("s", child_of=context)
        out: Dict[str, str] = {}
        tracer.inject(span.context, fmt, out)
        assert all(
            isinstance(v, str) and v.isascii() for v in out.values() if fmt == Format.HTTP_HEADERS
        )
        parsed = tracer.extract(fmt, out)
        assert parsed is not None and parsed.trace_id == span.context.trace_id


def test_tracestate_blank_runs_cost_what_plain_members_cost() -> None:
    """A caller controls the header: runs of spaces must not make parsing quadratic.

    A ratio in one run (the best of five each), not a time: before, 32 KB of
    blanks took about 500 times as long as 32 KB of members.
    """
    import time

    size = 32_000
    blanks = ["a=b" + " \t" * (size // 2) + "x"]
    members = [",".join(["a=b"] * (size // 4))]

    def best(values: List[str]) -> float:
        times = []
        for _ in range(5):
            start = time.perf_counter()
            parse_tracestate(values)
            times.append(time.perf_counter() - start)
        return min(times)

    assert parse_tracestate(["a=1 \t, \t b=2"]) == "a=1,b=2"
    assert best(blanks) < 20 * best(members) + 0.001


def test_w3c_state_survives_pickle_and_deepcopy() -> None:
    import copy
    import pickle

    tracer = make_tracer()
    context = tracer.extract(
        Format.HTTP_HEADERS, {"traceparent": f"00-{TID}-{PID}-03", "tracestate": "a=1"}
    )
    assert context is not None
    for copied in (pickle.loads(pickle.dumps(context)), copy.deepcopy(context)):
        assert copied == context and copied.w3c == context.w3c
        assert copied.w3c is not None and copied.w3c.tracestate == "a=1" and copied.w3c.random
