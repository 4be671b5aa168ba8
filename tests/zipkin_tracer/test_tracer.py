"""ZipkinTracer: parenting, sampling decisions, joins, reporting, robustness."""

from __future__ import annotations

import socket
import time
from typing import Any, Dict, List, Optional

import pytest

import opentracing
from opentracing import Format, UnsupportedFormatException, child_of, follows_from
from opentracing.scope_managers import ThreadLocalScopeManager
from tests.support.tracers import make_tracer
from zipkin_tracer import ConstSampler, ZipkinSpanContext, ZipkinTracer
from zipkin_tracer import tracer as tracer_module
from zipkin_tracer.reporting.base import SpanReporter
from zipkin_tracer.reporting.reporter import AsyncReporter
from zipkin_tracer.testing import InMemoryReporter

T = "80f198ee56343ba864fe8b2a57d3eff7"
S = "e457b5a2e4d86bd1"
P = "05e3ac9a4f6e3b90"


def reported(tracer: ZipkinTracer) -> List[Dict[str, Any]]:
    reporter = tracer.reporter
    assert isinstance(reporter, InMemoryReporter)
    return reporter.json_spans()


def test_root_span_and_child() -> None:
    tracer = make_tracer()
    with tracer.start_active_span("parent") as scope:
        with tracer.start_span("child") as child:
            pass
    parent_ctx = scope.span.context
    assert parent_ctx.parent_id is None
    assert parent_ctx.span_id == parent_ctx.trace_id  # root span ID = trace ID (Brave)
    assert child.context.trace_id == parent_ctx.trace_id
    assert child.context.parent_id == parent_ctx.span_id
    assert [s["name"] for s in reported(tracer)] == ["child", "parent"]


def test_128_bit_trace_ids() -> None:
    tracer = make_tracer(trace_id_128bit=True)
    span = tracer.start_span("x")
    assert span.context.trace_id >= 1 << 64
    assert span.context.span_id < 1 << 64
    assert len(span.context.trace_id_hex) == 32


def test_references_first_of_either_type_is_the_parent() -> None:
    tracer = make_tracer()
    a, b = tracer.start_span("a"), tracer.start_span("b")
    span = tracer.start_span("c", references=[follows_from(a.context), child_of(b.context)])
    assert span.context.parent_id == a.context.span_id
    foreign = tracer.start_span("d", child_of=opentracing.SpanContext())
    assert foreign.context.parent_id is None


def test_timestamps_are_integer_microseconds() -> None:
    tracer = make_tracer()
    before = time.time_ns() // 1000
    span = tracer.start_span("x")
    span.log_kv({"event": "e"})
    span.finish()
    (out,) = reported(tracer)
    assert isinstance(out["timestamp"], int) and before <= out["timestamp"] <= before + 10**6
    assert out["duration"] >= 1
    assert (
        out["timestamp"] <= out["annotations"][0]["timestamp"] <= out["timestamp"] + out["duration"]
    )


def test_explicit_times() -> None:
    tracer = make_tracer()
    span = tracer.start_span("x", start_time=1700000000.0)
    span.log_kv({"event": "e"}, timestamp=1700000000.5)
    span.finish(finish_time=1700000002.0)
    (out,) = reported(tracer)
    assert out["timestamp"] == 1700000000000000 and out["duration"] == 2000000
    assert out["annotations"][0]["timestamp"] == 1700000000500000
    tracer.start_span("y", start_time=1700000000.0).finish(finish_time=1600000000.0)
    assert reported(tracer)[1]["duration"] == 1  # never below 1 µs


def test_finish_freezes_and_reports_once() -> None:
    tracer = make_tracer()
    span = tracer.start_span("x")
    span.set_tag("a", 1)
    span.finish()
    span.finish()
    span.set_tag("b", 2).log_kv({"event": "late"}).set_operation_name("renamed")
    span.set_tag("sampling.priority", 0)
    assert len(tracer.reporter.spans) == 1  # type: ignore[attr-defined]
    (out,) = reported(tracer)
    assert out["tags"] == {"a": "1"} and "annotations" not in out and out["name"] == "x"


def test_unsampled_spans_record_nothing_but_propagate() -> None:
    tracer = make_tracer(sampler=ConstSampler(False))
    span = tracer.start_span("x", tags={"a": 1})
    span.set_tag("b", 2).log_kv({"event": "e"})
    assert span.tags == {} and span.logs == []
    carrier: Dict[str, str] = {}
    tracer.inject(span.context, Format.HTTP_HEADERS, carrier)
    assert carrier["X-B3-Sampled"] == "0"
    child = tracer.start_span("child", child_of=span)
    assert child.context.sampled is False
    span.finish()
    child.finish()
    assert reported(tracer) == []
    assert tracer.metrics["spans_not_sampled"] == 2


@pytest.mark.parametrize(
    "headers, local, sampled, debug",
    [
        ({"X-B3-TraceId": T, "X-B3-SpanId": S, "X-B3-Sampled": "1"}, False, True, False),
        ({"X-B3-TraceId": T, "X-B3-SpanId": S, "X-B3-Sampled": "0"}, True, False, False),
        ({"X-B3-TraceId": T, "X-B3-SpanId": S}, True, True, False),  # defer → local sampler
        ({"X-B3-TraceId": T, "X-B3-SpanId": S}, False, False, False),
        ({"X-B3-TraceId": T, "X-B3-SpanId": S, "X-B3-Flags": "1"}, False, True, True),
        ({"b3": "0"}, True, False, False),
        ({"b3": "d"}, False, True, True),
    ],
)
def test_extracted_decisions_are_obeyed(
    headers: Dict[str, str], local: bool, sampled: bool, debug: bool
) -> None:
    tracer = make_tracer(sampler=ConstSampler(local))
    parent = tracer.extract(Format.HTTP_HEADERS, headers)
    span = tracer.start_span("x", child_of=parent)
    assert (span.context.sampled, span.context.debug) == (sampled, debug)
    grandchild = tracer.start_span("y", child_of=span)
    assert (grandchild.context.sampled, grandchild.context.debug) == (sampled, debug)
    if parent is not None and parent.trace_id == 0:  # decision only: a new trace
        assert span.context.trace_id and span.context.parent_id is None


def test_sampling_priority() -> None:
    tracer = make_tracer(sampler=ConstSampler(False))
    forced = tracer.start_span("x", tags={"sampling.priority": 1})
    assert forced.context.sampled and forced.context.debug
    later = tracer.start_span("y")
    later.set_tag("sampling.priority", 1).set_tag("k", "v")
    assert later.context.sampled and later.context.debug
    later.finish()
    forced.finish()
    out = reported(tracer)
    assert [s["name"] for s in out] == ["y", "x"] and all(s["debug"] for s in out)
    assert out[0]["tags"] == {"k": "v"}

    tracer = make_tracer()
    dropped = tracer.start_span("z", tags={"sampling.priority": 0})
    assert dropped.context.sampled is False
    dropped_later = tracer.start_span("w").set_tag("a", 1).set_tag("sampling.priority", "0")
    assert dropped_later.context.sampled is False
    dropped.finish()
    dropped_later.finish()
    tracer.start_span("v", tags={"sampling.priority": "junk"}).finish()
    assert [s["name"] for s in reported(tracer)] == ["v"]


def _server_span(tracer: ZipkinTracer, headers: Dict[str, str]) -> Any:
    parent = tracer.extract(Format.HTTP_HEADERS, headers)
    return tracer.start_span("get", child_of=parent, tags={"span.kind": "server"})


def test_server_joins_a_sampled_client_span() -> None:
    tracer = make_tracer()
    headers = {"X-B3-TraceId": T, "X-B3-SpanId": S, "X-B3-ParentSpanId": P, "X-B3-Sampled": "1"}
    span = _server_span(tracer, headers)
    assert span.context.span_id == int(S, 16) and span.context.parent_id == int(P, 16)
    span.finish()
    (out,) = reported(tracer)
    assert out["shared"] is True and out["id"] == S and out["parentId"] == P


@pytest.mark.parametrize(
    "headers, options",
    [
        ({"X-B3-TraceId": T, "X-B3-SpanId": S, "X-B3-Sampled": "1"}, {"supports_join": False}),
        ({"X-B3-TraceId": T, "X-B3-SpanId": S}, {}),  # deferred: the server owns its span
    ],
)
def test_server_does_not_join(headers: Dict[str, str], options: Dict[str, Any]) -> None:
    tracer = make_tracer(**options)
    span = _server_span(tracer, headers)
    assert span.context.span_id != int(S, 16) and span.context.parent_id == int(S, 16)
    span.finish()
    assert "shared" not in reported(tracer)[0]


def test_local_child_of_a_local_server_tag_does_not_join() -> None:
    tracer = make_tracer()
    parent = tracer.start_span("p")
    span = tracer.start_span("s", child_of=parent, tags={"span.kind": "server"})
    assert span.context.parent_id == parent.context.span_id


def test_baggage_is_inherited_and_copy_on_write() -> None:
    tracer = make_tracer()
    parent = tracer.start_span("p").set_baggage_item("a", "1")
    child = tracer.start_span("c", child_of=parent)
    child.set_baggage_item("b", "2")
    assert parent.context.baggage == {"a": "1"}
    assert child.context.baggage == {"a": "1", "b": "2"} and child.get_baggage_item("b") == "2"
    carrier: Dict[str, str] = {}
    tracer.inject(child, Format.TEXT_MAP, carrier)  # a Span is accepted too
    extracted = tracer.extract(Format.TEXT_MAP, carrier)
    assert extracted is not None and extracted.baggage == {"a": "1", "b": "2"}


def test_unknown_formats() -> None:
    tracer = make_tracer()
    with pytest.raises(UnsupportedFormatException):
        tracer.inject(tracer.start_span("x").context, "nope", {})
    with pytest.raises(UnsupportedFormatException):
        tracer.extract("nope", {})


def test_span_operations_never_raise_into_the_app() -> None:
    class Evil:
        def __str__(self) -> str:
            raise RuntimeError("no str")

        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    class BadSampler(ConstSampler):
        def is_sampled(self, trace_id: int, operation_name: str) -> bool:
            raise RuntimeError("sampler bug")

    class BadReporter(InMemoryReporter):
        def report(self, span: Any) -> None:
            raise RuntimeError("reporter bug")

    tracer = make_tracer()
    span = tracer.start_span(None, tags={Evil(): Evil()})  # type: ignore[dict-item]
    span.set_tag("e", Evil()).set_tag("sampling.priority", Evil())
    span.log_kv({"event": Evil(), Evil(): 1})
    span.log_kv("not a dict")  # type: ignore[arg-type]
    span.log_kv({"x": 1}, timestamp="soon")  # type: ignore[arg-type]
    span.finish(finish_time="later")  # type: ignore[arg-type]
    (out,) = reported(tracer)
    assert out["tags"]["e"] == "<unprintable>" or out["tags"]["e"].startswith("<")

    bad = make_tracer(sampler=BadSampler(), reporter=BadReporter())
    with bad.start_span("x") as x:
        pass
    assert x.context.sampled is False
    with bad.start_span("y", tags={"sampling.priority": 1}):
        pass
    assert bad.metrics["spans_report_errors"] == 1


def test_context_manager_tags_errors() -> None:
    tracer = make_tracer()
    with pytest.raises(ValueError):
        with tracer.start_active_span("x"):
            raise ValueError("bad input")
    (out,) = reported(tracer)
    assert out["tags"] == {"error": "ValueError: bad input"}
    assert out["annotations"][0]["value"].startswith("event=error message=bad input")


class CountingReporter(SpanReporter):
    def __init__(self) -> None:
        self.calls: List[Any] = []

    def report(self, span: Any) -> None:
        self.calls.append(("report", span))

    def flush(self, timeout: Optional[float] = None) -> bool:
        self.calls.append(("flush", timeout))
        return True

    def close(self, timeout: Optional[float] = None) -> bool:
        self.calls.append(("close", timeout))
        return False

    @property
    def metrics(self) -> Dict[str, Any]:
        return {"spans_dropped": 3}


def test_flush_close_metrics_delegate() -> None:
    reporter = CountingReporter()
    tracer = make_tracer(reporter=reporter)
    tracer.start_span("x").finish()
    assert tracer.flush(timeout=2.0) is True
    assert tracer.close(timeout=1.5) is False
    assert tracer.close(timeout=1.5) is True  # idempotent
    assert [c[0] for c in reporter.calls] == ["report", "flush", "close"]
    assert tracer.metrics == {
        "spans_dropped": 3,
        "spans_started": 1,
        "spans_sampled": 1,
        "spans_not_sampled": 0,
        "spans_report_errors": 0,
    }


def test_scope_manager_default_and_override() -> None:
    from opentracing.scope_managers.contextvars import ContextVarsScopeManager

    assert isinstance(make_tracer().scope_manager, ContextVarsScopeManager)
    custom = ThreadLocalScopeManager()
    assert make_tracer(scope_manager=custom).scope_manager is custom


def test_global_tracer() -> None:
    tracer = make_tracer()
    previous = opentracing.global_tracer()
    opentracing.set_global_tracer(tracer)
    try:
        with opentracing.global_tracer().start_active_span("x"):
            pass
    finally:
        opentracing.set_global_tracer(previous)
    assert len(reported(tracer)) == 1


def test_default_encoder_and_repr() -> None:
    tracer = make_tracer()
    assert tracer.encoder.path == "/api/v2/spans"
    assert "frontend" in repr(tracer)
    assert "ZipkinSpanContext(" in repr(tracer.start_span("x").context)
    assert ZipkinSpanContext(1, 2).baggage == {}


def _addrinfo(*addresses: str) -> list:
    return [
        (
            socket.AF_INET6 if ":" in a else socket.AF_INET,
            socket.SOCK_STREAM,
            6,
            "",
            (a, 0, 0, 0) if ":" in a else (a, 0),
        )
        for a in addresses
    ]


def test_local_ip_prefers_a_non_loopback_ipv4(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        socket, "getaddrinfo", lambda *a, **k: _addrinfo("127.0.1.1", "fd00::5", "192.0.2.7")
    )

    assert tracer_module.detect_local_ip() == "192.0.2.7"


def test_local_ip_falls_back_to_ipv6_then_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: _addrinfo("127.0.0.1", "fd00::5"))
    assert tracer_module.detect_local_ip() == "fd00::5"

    def unresolvable(*args: object, **kwargs: object) -> list:
        raise socket.gaierror("no such host")

    monkeypatch.setattr(socket, "getaddrinfo", unresolvable)
    assert tracer_module.detect_local_ip() == "127.0.0.1"


def test_unsampled_span_is_a_cheap_span_with_a_real_context() -> None:
    from zipkin_tracer.span import UnsampledSpan, ZipkinSpan

    tracer = make_tracer(sampler=ConstSampler(False))
    span = tracer.start_span("x", tags={"a": 1})
    assert isinstance(span, UnsampledSpan) and isinstance(span, ZipkinSpan)
    assert span.context.trace_id and span.context.span_id == span.context.trace_id
    assert span.context.sampled is False and span.context.baggage == {}
    assert span.tags == {} and span.logs == [] and not span.shared
    assert abs(span.start_us - time.time() * 1e6) < 5e6
    span.set_baggage_item("k", "v").set_operation_name("y")
    assert span.get_baggage_item("k") == "v" and span.operation_name == "y"
    with tracer.scope_manager.activate(span, finish_on_close=True):
        child = tracer.start_span("child")
    assert child.context.parent_id == span.context.span_id
    assert child.context.trace_id == span.context.trace_id and child.get_baggage_item("k") == "v"
    assert span.finished
    # an explicit start time or a joined server span keeps the full class
    assert type(tracer.start_span("t", start_time=1.0)) is ZipkinSpan
    metrics = tracer.metrics
    assert metrics["spans_started"] == 3 == metrics["spans_not_sampled"]


def test_unsampled_span_forced_by_sampling_priority_keeps_its_start() -> None:
    tracer = make_tracer(sampler=ConstSampler(False))
    before = int(time.time() * 1e6)
    span = tracer.start_span("x")
    time.sleep(0.02)
    span.set_tag("sampling.priority", 1).set_tag("k", "v").log_kv({"event": "e"})
    span.finish()
    (out,) = reported(tracer)
    assert before - 2000 <= out["timestamp"] <= before + 15000
    assert out["duration"] >= 20000 and out["debug"] is True
    assert out["tags"] == {"k": "v"} and out["annotations"][0]["value"] == "e"


def test_active_span_is_found_with_any_scope_manager() -> None:
    from opentracing.scope_managers.contextvars import ContextVarsScopeManager

    for manager in (ThreadLocalScopeManager(), ContextVarsScopeManager()):
        tracer = make_tracer(scope_manager=manager)
        assert tracer.start_span("root").context.parent_id is None
        with tracer.start_active_span("parent") as scope:
            child = tracer.start_span("child")
            assert child.context.parent_id == scope.span.context.span_id


def test_a_replaced_reporter_receives_the_next_spans() -> None:
    first, second = InMemoryReporter(), InMemoryReporter()
    tracer = make_tracer(reporter=first)
    tracer.start_span("a").finish()
    tracer.reporter = second
    tracer.start_span("b").finish()
    assert [s.operation_name for s in first.spans] == ["a"]
    assert [s.operation_name for s in second.spans] == ["b"]


def test_only_a_reporter_that_promises_never_to_raise_goes_unguarded() -> None:
    assert AsyncReporter.report_never_raises is True
    assert InMemoryReporter.report_never_raises is False

    class Raising(InMemoryReporter):
        def report(self, span: Any) -> None:
            raise RuntimeError("bug")

    tracer = make_tracer(reporter=InMemoryReporter())
    tracer.reporter = Raising()  # replaced after construction: still guarded
    tracer.start_span("x").finish()  # never raises into the application
    assert tracer.metrics["spans_report_errors"] == 1


def test_tags_that_are_not_a_mapping_are_a_clear_type_error() -> None:
    tracer = make_tracer()
    with pytest.raises(TypeError, match="tags must be a mapping of tag names to values, got list"):
        tracer.start_span("op", tags=[1, 2])  # type: ignore[arg-type]
    assert tracer.start_span("op", tags={"k": "v"}).tags == {"k": "v"}
    assert reported(tracer) == []  # nothing half-made was reported
