"""OpenTelemetry's environment variables: honoured, ZIPKIN_* winning, errors naming the variable."""

from __future__ import annotations

from typing import Any, Dict

import pytest

from opentracing import Format
from zipkin_tracer import ZipkinTracer
from zipkin_tracer.config import resolve
from zipkin_tracer.sampling import (
    ConstSampler,
    ParentBasedSampler,
    ProbabilisticSampler,
    RateLimitingSampler,
)
from zipkin_tracer.tracer import DisabledReporter

TP = "00-463ac35c9f6413ad48485a3953bb6124-a2fb4a1d1a96d312-01"


def test_otel_propagators_use_opentelemetry_names() -> None:
    config = resolve(environ={"OTEL_PROPAGATORS": "b3"}, service_name="s")
    assert config.propagation == ("b3",)  # B3 single, as in OpenTelemetry
    env = {"OTEL_PROPAGATORS": "tracecontext,baggage", "ZIPKIN_PROPAGATION": "b3"}
    assert resolve(environ=env, service_name="s").propagation == ("b3multi",)
    assert resolve(environ=env, service_name="s", propagation="jaeger").propagation == ("jaeger",)


@pytest.mark.parametrize(
    "env, message",
    [
        ({"OTEL_PROPAGATORS": "xray"}, r"propagation \(from \$OTEL_PROPAGATORS\).*'xray'"),
        ({"ZIPKIN_PROPAGATION": "b3,w3c"}, r"\$ZIPKIN_PROPAGATION.*'w3c'"),
        (
            {"OTEL_TRACES_SAMPLER": "jaeger_remote"},
            r"\$OTEL_TRACES_SAMPLER must be one of always_on",
        ),
        (
            {"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "2"},
            r"sampler_param \(from \$OTEL_TRACES_SAMPLER_ARG\)",
        ),
        (
            {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "x"},
            r"\$OTEL_TRACES_SAMPLER_ARG",
        ),
        ({"OTEL_SDK_DISABLED": "maybe"}, r"disabled \(from \$OTEL_SDK_DISABLED\)"),
        (
            {"OTEL_EXPORTER_ZIPKIN_TIMEOUT": "soon"},
            r"timeout \(from \$OTEL_EXPORTER_ZIPKIN_TIMEOUT\)",
        ),
        ({"OTEL_EXPORTER_ZIPKIN_ENDPOINT": "zipkin:9411"}, r"OTEL_EXPORTER_ZIPKIN_ENDPOINT"),
    ],
)
def test_bad_values_name_the_variable(env: Dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        resolve(environ=env, service_name="s")


@pytest.mark.parametrize(
    "name, arg, root, overrules",
    [
        ("always_on", None, ConstSampler, True),
        ("always_off", None, ConstSampler, True),
        ("traceidratio", "0.25", ProbabilisticSampler, True),
        ("parentbased_always_on", None, ConstSampler, False),
        ("parentbased_always_off", None, ConstSampler, False),
        ("PARENTBASED_TRACEIDRATIO", "0.5", ProbabilisticSampler, False),
        ("parentbased_traceidratio", None, ProbabilisticSampler, False),
    ],
)
def test_otel_traces_sampler(name: str, arg: Any, root: type, overrules: bool) -> None:
    env = {"OTEL_TRACES_SAMPLER": name}
    if arg is not None:
        env["OTEL_TRACES_SAMPLER_ARG"] = arg
    sampler = resolve(environ=env, service_name="s").sampler
    assert isinstance(sampler, ParentBasedSampler) and isinstance(sampler.root, root)
    assert (sampler.remote_parent_decision is not None) is overrules
    if isinstance(sampler.root, ProbabilisticSampler):
        assert sampler.root.rate == (1.0 if arg is None else float(arg))


def test_zipkin_sampler_wins_and_keeps_its_own_parameter() -> None:
    env = {
        "OTEL_TRACES_SAMPLER": "always_off",
        "OTEL_TRACES_SAMPLER_ARG": "0.1",
        "ZIPKIN_SAMPLER": "ratelimiting",
        "ZIPKIN_SAMPLER_PARAM": "5",
    }
    sampler = resolve(environ=env, service_name="s").sampler
    assert isinstance(sampler, RateLimitingSampler) and sampler.max_traces_per_second == 5
    # OTEL_TRACES_SAMPLER_ARG never feeds a ZIPKIN_SAMPLER
    env = {"ZIPKIN_SAMPLER": "probabilistic", "OTEL_TRACES_SAMPLER_ARG": "0.1"}
    with pytest.raises(ValueError, match="needs a parameter"):
        resolve(environ=env, service_name="s")
    assert isinstance(
        resolve(environ={}, service_name="s", sampler="always_off").sampler, ParentBasedSampler
    )


@pytest.mark.parametrize(
    "env",
    [
        {"ZIPKIN_PROPAGATION": "b3", "OTEL_PROPAGATORS": "xray"},
        {"ZIPKIN_SAMPLER": "const", "OTEL_TRACES_SAMPLER": "jaeger_remote"},
        {"ZIPKIN_DISABLED": "false", "OTEL_SDK_DISABLED": "maybe"},
        {"ZIPKIN_TIMEOUT": "3", "OTEL_EXPORTER_ZIPKIN_TIMEOUT": "soon"},
    ],
)
def test_an_otel_variable_overridden_by_zipkin_is_not_read(env: Dict[str, str]) -> None:
    resolve(environ=env, service_name="s")  # the README promises no error here


def test_otel_timeout_is_milliseconds_and_zipkin_timeout_wins() -> None:
    assert (
        resolve(environ={"OTEL_EXPORTER_ZIPKIN_TIMEOUT": "2500"}, service_name="s").timeout == 2.5
    )
    env = {"OTEL_EXPORTER_ZIPKIN_TIMEOUT": "2500", "ZIPKIN_TIMEOUT": "4"}
    assert resolve(environ=env, service_name="s").timeout == 4.0
    assert resolve(environ=env, service_name="s", timeout=1).timeout == 1.0


@pytest.mark.parametrize("value", ["soon", "0", "-5"])
def test_bad_otel_timeout_is_named_in_milliseconds(value: str) -> None:
    # "seconds" here would lead a user to write 10 and get a 10 ms timeout
    with pytest.raises(
        ValueError,
        match=r"OTEL_EXPORTER_ZIPKIN_TIMEOUT\) must be a positive number of milliseconds",
    ):
        resolve(environ={"OTEL_EXPORTER_ZIPKIN_TIMEOUT": value}, service_name="s")


def test_otel_sdk_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    tracer = ZipkinTracer("svc")
    assert isinstance(tracer.reporter, DisabledReporter)
    root = tracer.start_span("root")
    assert root.context.sampled is False
    # a caller's trace still travels on
    parent = tracer.extract(Format.HTTP_HEADERS, {"traceparent": TP})
    child = tracer.start_span("server", child_of=parent)
    out: Dict[str, str] = {}
    tracer.inject(child.context, Format.HTTP_HEADERS, out)
    assert out["traceparent"].startswith("00-463ac35c9f6413ad48485a3953bb6124-") and out[
        "traceparent"
    ].endswith("-01")
    child.finish()
    assert tracer.metrics["spans_disabled"] == 1
    monkeypatch.setenv("ZIPKIN_DISABLED", "false")
    enabled = ZipkinTracer("svc", collector_url="http://127.0.0.1:9")
    assert not isinstance(enabled.reporter, DisabledReporter)
    enabled.close(0.1)
    assert tracer.close()
