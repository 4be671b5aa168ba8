from __future__ import annotations

import threading
from typing import Any, List

import pytest

from opentracing import Format
from tests.support.tracers import make_tracer
from zipkin_tracer import (
    ConstSampler,
    ParentBasedSampler,
    ProbabilisticSampler,
    RateLimitingSampler,
    ZipkinTracer,
)
from zipkin_tracer.ids import MASK_64
from zipkin_tracer.sampling import priority_decision


def test_const() -> None:
    assert ConstSampler().is_sampled(1, "x") is True
    assert ConstSampler(False).is_sampled(1, "x") is False


def test_probabilistic_is_deterministic_on_the_low_64_bits() -> None:
    sampler = ProbabilisticSampler(0.25)
    boundary = 1 << 62
    assert sampler.is_sampled(boundary - 1, "x")
    assert not sampler.is_sampled(boundary, "x")
    assert sampler.is_sampled((5 << 64) | (boundary - 1), "x")  # the high half is ignored
    other = ProbabilisticSampler(0.25)
    for trace_id in range(1, 1 << 64, (1 << 58) + 12345):
        assert sampler.is_sampled(trace_id, "a") == other.is_sampled(trace_id, "b")


def test_probabilistic_edges_and_rate() -> None:
    assert ProbabilisticSampler(1.0).is_sampled(MASK_64, "x")
    assert not ProbabilisticSampler(0.0).is_sampled(1, "x")
    import random

    rng = random.Random(7)
    hits = sum(ProbabilisticSampler(0.1).is_sampled(rng.getrandbits(64), "x") for _ in range(20000))
    assert 1700 < hits < 2300


@pytest.mark.parametrize("rate", [-0.1, 1.01, float("nan"), "x", None])
def test_probabilistic_rejects_bad_rates(rate: object) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        ProbabilisticSampler(rate)  # type: ignore[arg-type]


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_rate_limiting_token_bucket() -> None:
    clock = FakeClock()
    sampler = RateLimitingSampler(2, clock=clock)
    assert [sampler.is_sampled(1, "x") for _ in range(3)] == [True, True, False]
    clock.now += 0.5  # one token back
    assert [sampler.is_sampled(1, "x") for _ in range(2)] == [True, False]
    clock.now += 100  # capped at the bucket size
    assert sum(sampler.is_sampled(1, "x") for _ in range(5)) == 2


def test_rate_limiting_fractional_and_zero() -> None:
    clock = FakeClock()
    sampler = RateLimitingSampler(0.5, clock=clock)
    assert sampler.is_sampled(1, "x") and not sampler.is_sampled(1, "x")
    clock.now += 2
    assert sampler.is_sampled(1, "x")
    assert not RateLimitingSampler(0).is_sampled(1, "x")
    with pytest.raises(ValueError, match=">= 0"):
        RateLimitingSampler(-1)


def test_rate_limiting_is_thread_safe() -> None:
    clock = FakeClock()
    sampler = RateLimitingSampler(100, clock=clock)
    results: List[bool] = []

    def work() -> None:
        for _ in range(100):
            results.append(sampler.is_sampled(1, "x"))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(results) == 100


@pytest.mark.parametrize(
    ("value", "decision"),
    [
        (1, True),
        ("2", True),
        (0, False),
        (-1, False),
        ("x", None),
        (None, None),
        (float("inf"), None),
        (float("nan"), None),
    ],
)
def test_priority_decision_is_parsed_in_one_place(value: Any, decision: Any) -> None:
    assert priority_decision(value) is decision


@pytest.mark.parametrize("value", [float("inf"), float("nan"), "x"])
def test_an_unusable_sampling_priority_is_ignored_everywhere(value: Any) -> None:
    tracer = make_tracer()
    started = tracer.start_span("a", tags={"sampling.priority": value})
    started.set_tag("sampling.priority", value)
    unsampled = make_tracer(sampler="const", sampler_param="false").start_span("b")
    unsampled.set_tag("sampling.priority", value)
    assert started.context.sampled and not started.context.debug
    assert not unsampled.context.sampled


# -- ParentBasedSampler (through a tracer) -------------------------------------

TP = "00-463ac35c9f6413ad48485a3953bb6124-a2fb4a1d1a96d312-01"


def _remote(tracer: ZipkinTracer, flags: str) -> Any:
    parent = tracer.extract(Format.HTTP_HEADERS, {"traceparent": TP[:-2] + flags})
    return tracer.start_span("server", child_of=parent)


def test_parent_based_sampler_honours_the_caller_and_samples_roots_with_root() -> None:
    tracer = make_tracer(sampler=ParentBasedSampler(root=ConstSampler(False)))
    assert tracer.start_span("root").context.sampled is False
    assert _remote(tracer, "01").context.sampled is True
    assert _remote(tracer, "00").context.sampled is False
    deferred = tracer.extract(
        Format.HTTP_HEADERS, {"X-B3-TraceId": "a" * 16, "X-B3-SpanId": "b" * 16}
    )
    assert tracer.start_span("s", child_of=deferred).context.sampled is False  # root's decision


def test_parent_based_sampler_can_overrule_remote_callers_only() -> None:
    sampler = ParentBasedSampler(
        ConstSampler(True),
        remote_parent_sampled=ConstSampler(False),
        remote_parent_not_sampled=ConstSampler(True),
    )
    tracer = make_tracer(sampler=sampler)
    server = _remote(tracer, "01")
    assert server.context.sampled is False
    assert (
        tracer.start_span("local child", child_of=server).context.sampled is False
    )  # local stands
    assert _remote(tracer, "00").context.sampled is True
    debug = tracer.extract(Format.HTTP_HEADERS, {"b3": "a" * 16 + "-" + "b" * 16 + "-d"})
    assert tracer.start_span("s", child_of=debug).context.sampled is True  # debug stands
    assert "remote_parent_sampled=ConstSampler(False)" in repr(sampler)


def test_plain_otel_samplers_ignore_a_remote_decision() -> None:
    tracer = make_tracer(sampler="always_off")
    assert _remote(tracer, "01").context.sampled is False
    assert make_tracer(sampler="always_on").start_span("r").context.sampled is True


def test_parent_based_sampler_validates_and_survives_a_failing_judge() -> None:
    with pytest.raises(ValueError, match="root must be a Sampler"):
        ParentBasedSampler(root="always_on")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs a root sampler"):
        ParentBasedSampler(root=None)  # type: ignore[arg-type]

    class Broken(ConstSampler):
        def is_sampled(self, trace_id: int, operation_name: str) -> bool:
            raise RuntimeError("boom")

    tracer = make_tracer(
        sampler=ParentBasedSampler(ConstSampler(True), remote_parent_sampled=Broken())
    )
    assert _remote(tracer, "01").context.sampled is True  # the caller's decision stands
