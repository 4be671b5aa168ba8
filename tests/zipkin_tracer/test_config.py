"""Option resolution: explicit argument > environment > default, with clear errors."""

from __future__ import annotations

from typing import Any, Dict

import pytest

from tests.support.tracers import make_tracer
from zipkin_tracer import ConstSampler, ProbabilisticSampler, RateLimitingSampler
from zipkin_tracer.config import Config, resolve


def test_defaults() -> None:
    config = resolve(environ={}, service_name="svc")
    assert config == Config(service_name="svc", sampler=config.sampler)
    assert isinstance(config.sampler, ConstSampler) and config.sampler.decision
    assert (config.collector_url, config.encoding, config.propagation) == (
        "http://localhost:9411",
        "json",
        ("tracecontext", "baggage", "b3multi"),
    )
    assert (config.max_queue_size, config.message_max_bytes, config.verify) == (10000, 500000, True)


def test_missing_service_name_warns(caplog: pytest.LogCaptureFixture) -> None:
    assert resolve(environ={}).service_name == "unknown_service"
    assert "no service name" in caplog.text
    assert resolve(environ={"OTEL_SERVICE_NAME": "otel"}).service_name == "otel"
    env = {"OTEL_SERVICE_NAME": "otel", "ZIPKIN_SERVICE_NAME": "zip"}
    assert resolve(environ=env).service_name == "zip"
    assert resolve(environ=env, service_name="arg").service_name == "arg"


ENV: Dict[str, str] = {
    "ZIPKIN_SERVICE_NAME": "env-svc",
    "ZIPKIN_URL": "https://zipkin.example:9411/prefix/",
    "ZIPKIN_ENCODING": "THRIFT",
    "ZIPKIN_SAMPLER": "probabilistic",
    "ZIPKIN_SAMPLER_PARAM": "0.5",
    "ZIPKIN_PROPAGATION": "b3-single",
    "ZIPKIN_TRACE_ID_128BIT": "Yes",
    "ZIPKIN_SUPPORTS_JOIN": "0",
    "ZIPKIN_MAX_TAG_VALUE_LENGTH": "100",
    "ZIPKIN_LOCAL_IP": "10.0.0.5",
    "ZIPKIN_LOCAL_PORT": "8080",
    "ZIPKIN_MAX_QUEUE_SIZE": "5",
    "ZIPKIN_MESSAGE_MAX_BYTES": "4096",
    "ZIPKIN_FLUSH_INTERVAL": "0.5",
    "ZIPKIN_TIMEOUT": "3",
    "ZIPKIN_CONNECT_TIMEOUT": "1",
    "ZIPKIN_CLOSE_TIMEOUT": "4",
    "ZIPKIN_HEADERS": "Authorization=Bearer a=b, X-Org = 1 ,",
    "ZIPKIN_VERIFY": "false",
}


def test_every_option_from_the_environment() -> None:
    config = resolve(environ=ENV)
    assert config.service_name == "env-svc"
    assert config.collector_url == "https://zipkin.example:9411/prefix"
    assert config.encoding == "thrift"
    assert isinstance(config.sampler, ProbabilisticSampler) and config.sampler.rate == 0.5
    assert config.propagation == ("b3",)  # B3 single, in OpenTelemetry's name
    assert config.trace_id_128bit is True and config.supports_join is False
    assert (config.max_tag_value_length, config.local_ip, config.local_port) == (
        100,
        "10.0.0.5",
        8080,
    )
    assert (config.max_queue_size, config.message_max_bytes) == (5, 4096)
    assert (
        config.flush_interval,
        config.timeout,
        config.connect_timeout,
        config.close_timeout,
    ) == (
        0.5,
        3.0,
        1.0,
        4.0,
    )
    assert config.headers == {"Authorization": "Bearer a=b", "X-Org": "1"}
    assert config.verify is False
    assert "Bearer" not in repr(config)


def test_arguments_win_over_the_environment() -> None:
    sampler = RateLimitingSampler(3)
    config = resolve(
        environ=ENV,
        service_name="arg",
        collector_url="http://other:9411",
        encoding="json",
        sampler=sampler,
        propagation="b3",
        trace_id_128bit=False,
        supports_join=True,
        headers={"a": "b"},
        verify=True,
        timeout=7,
    )
    assert (config.service_name, config.collector_url, config.encoding) == (
        "arg",
        "http://other:9411",
        "json",
    )
    assert config.sampler is sampler and config.propagation == ("b3multi",)
    assert config.trace_id_128bit is False and config.supports_join is True
    assert config.headers == {"a": "b"} and config.verify is True and config.timeout == 7.0


@pytest.mark.parametrize(
    "url, encoding, base, expected",
    [
        ("http://z:9411/api/v2/spans", None, "http://z:9411", "json"),
        ("http://z:9411/api/v1/spans/", None, "http://z:9411", "thrift"),
        ("http://z:9411/zipkin/api/v2/spans", "json", "http://z:9411/zipkin", "json"),
        ("http://z:9411/", "thrift", "http://z:9411", "thrift"),
        ("http://z:9411/api/v2/spans", "proto3", "http://z:9411", "proto3"),
    ],
)
def test_collector_url_forms(url: str, encoding: Any, base: str, expected: str) -> None:
    config = resolve(environ={}, service_name="s", collector_url=url, encoding=encoding)
    assert (config.collector_url, config.encoding) == (base, expected)


def test_otel_endpoint_is_honoured() -> None:
    env = {"OTEL_EXPORTER_ZIPKIN_ENDPOINT": "http://otel:9411/api/v2/spans"}
    config = resolve(environ=env, service_name="s")
    assert (config.collector_url, config.encoding) == ("http://otel:9411", "json")


@pytest.mark.parametrize(
    "options, env, message",
    [
        ({"encoding": "xml"}, {}, "encoding must be one of json, thrift"),
        ({}, {"ZIPKIN_ENCODING": "xml"}, r"encoding \(from \$ZIPKIN_ENCODING\)"),
        ({"collector_url": "localhost:9411"}, {}, "collector_url must be an http"),
        ({"collector_url": "http://z/api/v2/spans", "encoding": "thrift"}, {}, "json path"),
        ({"collector_url": "http://z/api/v1/spans", "encoding": "proto3"}, {}, "thrift path"),
        ({"propagation": "w3c"}, {}, "propagation must be a comma-separated list of tracecontext"),
        ({}, {"ZIPKIN_TRACE_ID_128BIT": "maybe"}, r"trace_id_128bit \(from \$ZIPKIN_TRACE_ID"),
        ({"sampler": "sometimes"}, {}, "sampler must be one of const"),
        ({"sampler": 0.5}, {}, "sampler must be a Sampler"),
        ({}, {"ZIPKIN_SAMPLER": "probabilistic"}, "needs a parameter"),
        ({}, {"ZIPKIN_SAMPLER": "probabilistic", "ZIPKIN_SAMPLER_PARAM": "2"}, "between 0 and 1"),
        ({}, {"ZIPKIN_SAMPLER": "ratelimiting", "ZIPKIN_SAMPLER_PARAM": "x"}, "a number >= 0"),
        ({"max_tag_value_length": 0}, {}, "max_tag_value_length must be a positive integer"),
        ({"max_queue_size": "ten"}, {}, "max_queue_size must be a positive integer"),
        ({"message_max_bytes": 1.5}, {}, "message_max_bytes must be an integer >= 1024"),
        (
            {},
            {"ZIPKIN_MESSAGE_MAX_BYTES": "10"},
            r"message_max_bytes \(from \$ZIPKIN_MESSAGE_MAX_BYTES\) must be an integer >= 1024",
        ),
        ({"supports_join": 2}, {}, "supports_join must be a boolean"),
        ({}, {"ZIPKIN_TIMEOUT": "-1"}, r"timeout \(from \$ZIPKIN_TIMEOUT\) must be a positive"),
        ({"flush_interval": 0}, {}, "flush_interval must be a positive number"),
        ({"connect_timeout": float("nan")}, {}, "connect_timeout must be"),
        ({"close_timeout": True}, {}, "close_timeout must be"),
        ({"local_ip": "host.local"}, {}, "local_ip must be an IPv4 or IPv6"),
        ({"local_port": 70000}, {}, "local_port must be 1-65535"),
        ({}, {"ZIPKIN_HEADERS": "novalue"}, "key=value pairs"),
        ({"headers": {"a": 1}}, {}, "keys and values must be strings"),
        ({"verify": "/no/such/ca.pem"}, {}, "CA bundle"),
        ({"service_name": "  "}, {}, "service_name must be a non-empty string"),
    ],
)
def test_bad_values_raise_value_error(
    options: Dict[str, Any], env: Dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        resolve(environ=env, **{"service_name": "s", **options})


def test_header_values_are_never_echoed() -> None:
    with pytest.raises(ValueError) as error:
        resolve(environ={"ZIPKIN_HEADERS": "Authorization Bearer s3cr3t"}, service_name="s")
    assert "s3cr3t" not in str(error.value)


def test_unknown_option_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="colector_url"):
        resolve(environ={}, service_name="s", colector_url="x")


def test_sampler_by_name_and_const_param() -> None:
    assert (
        resolve(
            environ={}, service_name="s", sampler="const", sampler_param="0"
        ).sampler.is_sampled(1, "x")
        is False
    )
    rl = resolve(environ={}, service_name="s", sampler="ratelimiting", sampler_param=2).sampler
    assert isinstance(rl, RateLimitingSampler) and rl.max_traces_per_second == 2.0


@pytest.mark.parametrize("flag, expected", [(1, True), (0, False), (1.0, True), ("0", False)])
def test_booleans_accept_one_and_zero_as_numbers(flag: Any, expected: bool) -> None:
    config = resolve(
        environ={}, service_name="s", trace_id_128bit=flag, supports_join=flag, sampler_param=flag
    )

    assert config.trace_id_128bit is expected and config.supports_join is expected
    assert config.sampler.is_sampled(1, "x") is expected


def test_verify_accepts_a_ca_path(tmp_path: Any) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("x")
    assert resolve(environ={}, service_name="s", verify=str(bundle)).verify == str(bundle)


def test_tracer_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZIPKIN_PROPAGATION", "b3-single")
    monkeypatch.setenv("ZIPKIN_ENCODING", "thrift")
    tracer = make_tracer()
    assert tracer.config.propagation == ("b3",) and tracer.encoder.path == "/api/v1/spans"
    with pytest.raises(ValueError, match="encoding"):
        make_tracer(encoding="avro")


def test_transport_defaults_to_http_and_kafka_options_resolve() -> None:
    config = resolve(environ={}, service_name="s")
    assert (config.transport, config.kafka_bootstrap_servers, config.kafka_topic) == (
        "http",
        None,
        "zipkin",
    )
    env = {
        "ZIPKIN_TRANSPORT": "Kafka",
        "ZIPKIN_KAFKA_BOOTSTRAP_SERVERS": " k1:9092 , [::1]:9093",
        "ZIPKIN_KAFKA_TOPIC": "zipkin.spans",
    }
    config = resolve(environ=env, service_name="s")
    assert (config.transport, config.kafka_bootstrap_servers, config.kafka_topic) == (
        "kafka",
        "k1:9092,[::1]:9093",
        "zipkin.spans",
    )
    assert resolve(environ=env, service_name="s", kafka_topic="t").kafka_topic == "t"


@pytest.mark.parametrize(
    "options, env, message",
    [
        ({"transport": "grpc"}, {}, "transport must be one of http, kafka"),
        ({"transport": "kafka"}, {}, r"needs kafka_bootstrap_servers \(\$ZIPKIN_KAFKA_BOOT"),
        ({}, {"ZIPKIN_KAFKA_BOOTSTRAP_SERVERS": "kafka"}, r"\(from \$ZIPKIN_KAFKA_BOOTSTRAP"),
        ({"kafka_bootstrap_servers": "k:0"}, {}, "host:port pairs"),
        ({"kafka_bootstrap_servers": ","}, {}, "host:port pairs"),
        ({"kafka_bootstrap_servers": 9092}, {}, "host:port pairs"),
        ({}, {"ZIPKIN_KAFKA_TOPIC": "a topic"}, r"kafka_topic \(from \$ZIPKIN_KAFKA_TOPIC\)"),
        ({"kafka_topic": ".."}, {}, "must be a Kafka topic name"),
    ],
)
def test_bad_transport_options(options: Dict[str, Any], env: Dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        resolve(environ=env, service_name="s", **options)
