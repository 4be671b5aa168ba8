"""Configuration errors a newcomer meets first: each names what to change."""

from __future__ import annotations

import pytest

from zipkin_tracer.config import explain, resolve


def test_a_rate_without_a_sampler_type_names_zipkin_sampler() -> None:
    with pytest.raises(ValueError) as error:
        resolve(environ={"ZIPKIN_SAMPLER_PARAM": "0.1"}, service_name="s")
    message = str(error.value)
    assert "ZIPKIN_SAMPLER=probabilistic" in message
    assert "sampler_param (from $ZIPKIN_SAMPLER_PARAM) is '0.1'" in message
    assert "must be a boolean" not in message


def test_a_rate_with_an_explicit_const_sampler_says_where_const_came_from() -> None:
    with pytest.raises(ValueError, match=r"the sampler is const \(from \$ZIPKIN_SAMPLER\)"):
        resolve(
            environ={"ZIPKIN_SAMPLER": "const", "ZIPKIN_SAMPLER_PARAM": "0.5"}, service_name="s"
        )


def test_const_still_takes_one_and_zero() -> None:
    config = resolve(environ={"ZIPKIN_SAMPLER_PARAM": "0"}, service_name="s")
    assert config.sampler.is_sampled(1, "x") is False


@pytest.mark.parametrize(
    "typo, meant",
    [("colector_url", "collector_url"), ("servicename", "service_name"), ("sample", "sampler")],
)
def test_an_unknown_option_gets_a_did_you_mean(typo: str, meant: str) -> None:
    with pytest.raises(TypeError, match=rf"{typo} \(did you mean {meant}\?\)"):
        resolve(environ={}, service_name="s", **{typo: "x"})


def test_an_unknown_option_like_nothing_gets_no_guess() -> None:
    with pytest.raises(TypeError) as error:
        resolve(environ={}, service_name="s", zzzzzz=1)
    assert str(error.value) == "unknown tracer option(s): zzzzzz"


def test_a_conflicting_encoding_message_has_single_parentheses() -> None:
    with pytest.raises(ValueError) as error:
        resolve(
            environ={"ZIPKIN_ENCODING": "thrift"},
            service_name="s",
            collector_url="http://zipkin:9411/api/v2/spans",
        )
    message = str(error.value)
    assert "encoding (from $ZIPKIN_ENCODING) is 'thrift'" in message
    assert "((" not in message and "))" not in message


def test_explain_says_where_each_value_came_from() -> None:
    config, origins = explain(
        environ={"ZIPKIN_URL": "http://zipkin:9411", "ZIPKIN_SAMPLER_PARAM": "1"},
        service_name="svc",
    )
    assert config.collector_url == "http://zipkin:9411"
    assert origins["service_name"] == "argument"
    assert origins["collector_url"] == "$ZIPKIN_URL"
    assert origins["sampler_param"] == "$ZIPKIN_SAMPLER_PARAM"
    assert origins["encoding"] == "default"
    assert set(origins) >= {"verify", "headers", "sampler"}


def test_explain_leaves_plain_resolve_untouched() -> None:
    explain(environ={"ZIPKIN_URL": "http://zipkin:9411"}, service_name="svc")
    config = resolve(environ={"ZIPKIN_URL": "http://other:9411"}, service_name="svc")
    assert config.collector_url == "http://other:9411"
