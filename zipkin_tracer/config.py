"""Every tracer option, resolved once: explicit argument > environment > default.

Each option is validated here, and a bad value raises ``ValueError`` naming
the option (and the environment variable it came from) and what is allowed.
README.rst's Configuration section has the table.
"""

from __future__ import annotations

import difflib
import ipaddress
import logging
import math
import os
import re
from contextvars import ContextVar
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Dict, Mapping, Optional, Tuple, TypeVar, Union
from urllib.parse import urlsplit, urlunsplit

from zipkin_tracer import defaults
from zipkin_tracer.propagation import composite
from zipkin_tracer.sampling import (
    OTEL_SAMPLERS,
    ConstSampler,
    ProbabilisticSampler,
    RateLimitingSampler,
    Sampler,
    otel_sampler,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_SERVICE_NAME = defaults.SERVICE_NAME
DEFAULT_COLLECTOR_URL = defaults.COLLECTOR_URL
ENCODINGS = ("json", "thrift", "proto3")
DEFAULT_ENCODING = defaults.ENCODING
TRANSPORTS = ("http", "kafka")
DEFAULT_TRANSPORT = defaults.TRANSPORT
DEFAULT_KAFKA_TOPIC = defaults.KAFKA_TOPIC
_KAFKA_TOPIC = re.compile(r"[A-Za-z0-9._-]{1,249}")
SAMPLER_TYPES = ("const", "probabilistic", "ratelimiting")
_PATH_ENCODING = {"/api/v2/spans": "json", "/api/v1/spans": "thrift"}
#: Encodings a collector path accepts (v2 takes JSON and proto3).
_PATH_ENCODINGS = {"json": ("json", "proto3"), "thrift": ("thrift",)}
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


@dataclass(frozen=True)
class Config:
    """The resolved, validated options of one tracer."""

    service_name: str = DEFAULT_SERVICE_NAME
    collector_url: str = DEFAULT_COLLECTOR_URL
    encoding: str = DEFAULT_ENCODING
    sampler: Sampler = field(default_factory=ConstSampler)
    propagation: Tuple[str, ...] = defaults.PROPAGATION
    trace_id_128bit: bool = defaults.TRACE_ID_128BIT
    supports_join: bool = defaults.SUPPORTS_JOIN
    max_tag_value_length: int = defaults.MAX_TAG_VALUE_LENGTH
    local_ip: Optional[str] = None
    local_port: Optional[int] = None
    max_queue_size: int = defaults.MAX_QUEUE_SIZE
    message_max_bytes: int = defaults.MESSAGE_MAX_BYTES
    flush_interval: float = defaults.FLUSH_INTERVAL
    timeout: float = defaults.TIMEOUT
    connect_timeout: float = defaults.CONNECT_TIMEOUT
    close_timeout: float = defaults.CLOSE_TIMEOUT
    headers: Dict[str, str] = field(default_factory=dict, repr=False)
    verify: Union[bool, str] = defaults.VERIFY
    disabled: bool = defaults.DISABLED
    transport: str = DEFAULT_TRANSPORT
    kafka_bootstrap_servers: Optional[str] = None
    kafka_topic: str = DEFAULT_KAFKA_TOPIC

    def __repr__(self) -> str:  # the URL may carry credentials; headers are left out
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.repr}
        values["collector_url"] = redact_url(self.collector_url)
        return "Config(" + ", ".join(f"{k}={v!r}" for k, v in values.items()) + ")"

    @classmethod
    def resolve(cls, environ: Optional[Mapping[str, str]] = None, **options: Any) -> Config:
        """Build a Config from keyword options (None = not given) and the environment."""
        return resolve(environ=environ, **options)


def _source(name: str, env: Optional[str]) -> str:
    return f"{name} (from ${env})" if env else name


# Set only by explain(): option name -> the environment variable it came from.
_ORIGINS: ContextVar[Optional[Dict[str, str]]] = ContextVar("zipkin_config_origins", default=None)


def _pick(
    name: str, value: Any, env_names: Tuple[str, ...], environ: Mapping[str, str]
) -> Tuple[Any, Optional[str]]:
    """The explicit value if given, else the first non-empty env var; with its origin."""
    if value is not None:
        return value, None
    for env in env_names:
        raw = environ.get(env)
        if raw is not None and raw.strip() != "":
            origins = _ORIGINS.get()
            if origins is not None:
                origins[name] = "$" + env
            return raw.strip(), env
    return None, None


def explain(
    environ: Optional[Mapping[str, str]] = None, **options: Any
) -> Tuple[Config, Dict[str, str]]:
    """:func:`resolve`, plus where each value came from: "argument", "$VAR" or "default"."""
    found: Dict[str, str] = {}
    token = _ORIGINS.set(found)
    try:
        config = resolve(environ=environ, **options)
    finally:
        _ORIGINS.reset(token)
    origins = {}
    for name in [*Config.__dataclass_fields__, "sampler_param"]:
        if options.get(name) is not None:
            origins[name] = "argument"
        else:
            origins[name] = found.get(name, "default")
    return config, origins


MIN_MESSAGE_MAX_BYTES = defaults.MIN_MESSAGE_MAX_BYTES


def parse_bool(name: str, value: Any, env: Optional[str] = None) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError(
        f"{_source(name, env)} must be a boolean (true/false, 1/0, yes/no), got {value!r}"
    )


def _number(
    name: str,
    value: Any,
    env: Optional[str],
    convert: Callable[[Any], T],
    minimum: float,
    what: str,
) -> T:
    error = ValueError(f"{_source(name, env)} must be {what}, got {value!r}")
    if isinstance(value, bool):
        raise error
    try:
        number = convert(value)
    except (TypeError, ValueError, OverflowError):
        raise error
    if isinstance(number, float) and (math.isnan(number) or math.isinf(number)):
        raise error
    if number < minimum:  # type: ignore[operator]
        raise error
    if convert is int and isinstance(value, float) and value != number:
        raise error
    return number


def _positive_int(name: str, value: Any, env: Optional[str]) -> int:
    return _number(name, value, env, int, 1, "a positive integer")


def _positive_float(name: str, value: Any, env: Optional[str], unit: str = "seconds") -> float:
    what = f"a positive number of {unit}"
    result = _number(name, value, env, float, 0, what)
    if result <= 0:
        raise ValueError(f"{_source(name, env)} must be {what}, got {value!r}")
    return result


def _choice(name: str, value: Any, env: Optional[str], allowed: Tuple[str, ...]) -> str:
    text = value.strip().lower() if isinstance(value, str) else value
    if text not in allowed:
        raise ValueError(f"{_source(name, env)} must be one of {', '.join(allowed)}; got {value!r}")
    return str(text)


def parse_headers(name: str, value: Any, env: Optional[str] = None) -> Dict[str, str]:
    """A mapping, or ``"k=v,k2=v2"`` text, as a dict of header strings."""
    if isinstance(value, Mapping):
        items = list(value.items())
    elif isinstance(value, str):
        items = []
        for part in value.split(","):
            if not part.strip():
                continue
            key, sep, val = part.partition("=")
            if not sep or not key.strip():
                # never echo the value: headers often hold credentials
                raise ValueError(
                    f"{_source(name, env)} must be comma-separated key=value pairs "
                    "(e.g. 'Authorization=Bearer x,X-Org=1'); an entry has no '=' or no key"
                )
            items.append((key.strip(), val.strip()))
    else:
        raise ValueError(
            f"{_source(name, env)} must be a dict or 'k=v,k2=v2' text, got {type(value).__name__}"
        )
    headers: Dict[str, str] = {}
    for key, val in items:
        if not isinstance(key, str) or not isinstance(val, str):
            raise ValueError(f"{_source(name, env)} keys and values must be strings")
        headers[key] = val
    return headers


def parse_verify(name: str, value: Any, env: Optional[str] = None) -> Union[bool, str]:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE + _FALSE:
            return lowered in _TRUE
        if os.path.exists(value):
            return value
        raise ValueError(
            f"{_source(name, env)} must be true, false or the path of a CA bundle; "
            f"{value!r} is neither a boolean nor an existing path"
        )
    raise ValueError(
        f"{_source(name, env)} must be true, false or the path of a CA bundle, got {value!r}"
    )


def redact_url(url: str) -> str:
    """``url`` with any userinfo and query values replaced by ``***``: what messages may show.

    Works on text ``urlsplit`` refuses (a bad IPv6 literal), so an error about
    a malformed URL never echoes its password or API key.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    end = len(rest)
    for stop in "/?#":
        found = rest.find(stop)
        if found != -1:
            end = min(end, found)
    netloc, tail = rest[:end], rest[end:]
    if "@" in netloc:
        netloc = "***@" + netloc.rpartition("@")[2]
    tail = tail.split("#", 1)[0]
    path, qmark, _ = tail.partition("?")
    return scheme + sep + netloc + path + ("?***" if qmark else "")


def split_collector_url(
    name: str, value: Any, env: Optional[str] = None
) -> Tuple[str, Optional[str]]:
    """The base URL (no trailing slash) and the encoding its path implies, if any.

    ``http://zipkin:9411/api/v2/spans`` is accepted as the base
    ``http://zipkin:9411`` plus the hint "json" (``/api/v1/spans``: "thrift").
    A query string is kept: the sender puts the API path before it.
    """
    label = _source(name, env)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{label} must be an http(s) URL, got {value!r}")
    shown = redact_url(value.strip())
    example = "an http(s) URL such as http://localhost:9411" + (
        "" if env else " (from collector_url= or $ZIPKIN_URL)"
    )
    try:
        parts = urlsplit(value.strip())
        port = parts.port  # raises on a port that is not a number in 0-65535
    except ValueError as error:
        raise ValueError(f"{label} must be {example}, got {shown!r} ({error})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{label} must be {example} (with a host), got {shown!r}")
    if port == 0:
        raise ValueError(f"{label} must be {example}, got {shown!r} (port 0)")
    path = parts.path.rstrip("/")
    hint = None
    for suffix, encoding in _PATH_ENCODING.items():
        if path.endswith(suffix):
            path = path[: -len(suffix)].rstrip("/")
            hint = encoding
            break
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, "")), hint


def build_sampler(
    kind: Any, param: Any, kind_env: Optional[str], param_env: Optional[str]
) -> Sampler:
    sampler_type = _choice("sampler", kind, kind_env, SAMPLER_TYPES)
    label = _source("sampler_param", param_env)
    if sampler_type == "const":
        if param is None:
            return ConstSampler(True)
        try:
            return ConstSampler(parse_bool("sampler_param", param, param_env))
        except ValueError:
            origin = f" (from ${kind_env})" if kind_env else ""
            raise ValueError(
                f"{label} is {param!r}, but the sampler is const{origin}, which takes 1 or 0 "
                "(sample everything or nothing); for a rate also set "
                "ZIPKIN_SAMPLER=probabilistic (sampler='probabilistic'), for traces per second "
                "ZIPKIN_SAMPLER=ratelimiting"
            ) from None
    if param is None:
        raise ValueError(
            f"sampler {sampler_type} needs a parameter (ZIPKIN_SAMPLER_PARAM): "
            + (
                "a rate between 0 and 1"
                if sampler_type == "probabilistic"
                else "the number of traces per second"
            )
        )
    try:
        if sampler_type == "probabilistic":
            return ProbabilisticSampler(float(param))
        return RateLimitingSampler(float(param))
    except (TypeError, ValueError):
        allowed = "a number between 0 and 1" if sampler_type == "probabilistic" else "a number >= 0"
        raise ValueError(f"{label} for {sampler_type} must be {allowed}, got {param!r}")


def resolve_propagation(value: Any, env: Optional[str]) -> Tuple[str, ...]:
    """Names from the option or ``ZIPKIN_PROPAGATION`` (legacy "b3"), or ``OTEL_PROPAGATORS``."""
    try:
        return composite.parse_names(value, legacy=env != "OTEL_PROPAGATORS")
    except ValueError as error:
        raise ValueError(f"{_source('propagation', env)} {error}")


def resolve_otel_sampler(name: str, arg: Any, arg_env: Optional[str]) -> Sampler:
    """``OTEL_TRACES_SAMPLER`` (+ its argument), errors naming the variable."""
    lowered = name.strip().lower()
    if lowered not in OTEL_SAMPLERS:
        raise ValueError(
            f"$OTEL_TRACES_SAMPLER must be one of {', '.join(OTEL_SAMPLERS)}; got {name!r}"
        )
    try:
        return otel_sampler(lowered, arg)
    except (TypeError, ValueError):
        raise ValueError(
            f"{_source('sampler_param', arg_env)} for {lowered} must be a ratio between 0 and 1, "
            f"got {arg!r}"
        )


def _local_ip(name: str, value: Any, env: Optional[str]) -> str:
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        raise ValueError(f"{_source(name, env)} must be an IPv4 or IPv6 address, got {value!r}")


def parse_bootstrap_servers(name: str, value: Any, env: Optional[str] = None) -> str:
    """``host:port[,host:port...]`` as librdkafka takes it, spaces removed."""
    servers = [part.strip() for part in value.split(",")] if isinstance(value, str) else []
    for server in servers:
        host, sep, port = server.rpartition(":")
        if not sep or not host.strip("[]") or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(
                f"{_source(name, env)} must be comma-separated host:port pairs "
                f"(e.g. 'kafka1:9092,kafka2:9092'), got {value!r}"
            )
    if not servers:
        raise ValueError(f"{_source(name, env)} must be host:port pairs, got {value!r}")
    return ",".join(servers)


def resolve(environ: Optional[Mapping[str, str]] = None, **options: Any) -> Config:
    """Resolve every option; unknown option names raise ``TypeError``."""
    env = os.environ if environ is None else environ
    known = set(Config.__dataclass_fields__) | {"sampler_param"}
    unknown = set(options) - known
    if unknown:
        guesses = []
        for name in sorted(unknown):
            close = difflib.get_close_matches(name, known, n=1)
            guesses.append(f"{name} (did you mean {close[0]}?)" if close else name)
        raise TypeError(f"unknown tracer option(s): {', '.join(guesses)}")
    out: Dict[str, Any] = {}

    value, src = _pick(
        "service_name",
        options.get("service_name"),
        ("ZIPKIN_SERVICE_NAME", "OTEL_SERVICE_NAME"),
        env,
    )
    if value is None:
        logger.warning(
            "no service name given (service_name=, $ZIPKIN_SERVICE_NAME or $OTEL_SERVICE_NAME);"
            " spans are reported as %r",
            DEFAULT_SERVICE_NAME,
        )
        value = DEFAULT_SERVICE_NAME
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{_source('service_name', src)} must be a non-empty string")
    out["service_name"] = value.strip()

    value, src = _pick(
        "collector_url",
        options.get("collector_url"),
        ("ZIPKIN_URL", "OTEL_EXPORTER_ZIPKIN_ENDPOINT"),
        env,
    )
    url, hint = split_collector_url(
        "collector_url", DEFAULT_COLLECTOR_URL if value is None else value, src
    )
    out["collector_url"] = url

    value, src = _pick("encoding", options.get("encoding"), ("ZIPKIN_ENCODING",), env)
    if value is None:
        out["encoding"] = hint or DEFAULT_ENCODING
    else:
        encoding = _choice("encoding", value, src, ENCODINGS)
        if hint is not None and encoding not in _PATH_ENCODINGS[hint]:
            raise ValueError(
                f"collector_url ends with the {hint} path but {_source('encoding', src)} is "
                f"{encoding!r}; give the base URL (such as http://localhost:9411) or a "
                "matching encoding"
            )
        out["encoding"] = encoding

    sampler = options.get("sampler")
    if isinstance(sampler, Sampler):
        out["sampler"] = sampler
    elif sampler is not None and not isinstance(sampler, str):
        raise ValueError(
            "sampler must be a Sampler (ConstSampler, ProbabilisticSampler, "
            f"RateLimitingSampler, ...) or one of {', '.join(SAMPLER_TYPES)}; got {sampler!r}"
        )
    else:
        kind, kind_src = _pick("sampler", sampler, ("ZIPKIN_SAMPLER", "OTEL_TRACES_SAMPLER"), env)
        # the parameter comes from the same family of variables as the sampler
        param_envs = (
            ("OTEL_TRACES_SAMPLER_ARG",)
            if kind_src == "OTEL_TRACES_SAMPLER"
            else ("ZIPKIN_SAMPLER_PARAM",)
        )
        param, param_src = _pick("sampler_param", options.get("sampler_param"), param_envs, env)
        if kind_src == "OTEL_TRACES_SAMPLER" or (
            isinstance(kind, str) and kind.strip().lower() in OTEL_SAMPLERS
        ):
            out["sampler"] = resolve_otel_sampler(kind, param, param_src)
        else:
            out["sampler"] = build_sampler(kind or defaults.SAMPLER, param, kind_src, param_src)

    value, src = _pick(
        "propagation",
        options.get("propagation"),
        ("ZIPKIN_PROPAGATION", "OTEL_PROPAGATORS"),
        env,
    )
    out["propagation"] = defaults.PROPAGATION if value is None else resolve_propagation(value, src)

    for name, env_names, default in (
        ("trace_id_128bit", ("ZIPKIN_TRACE_ID_128BIT",), defaults.TRACE_ID_128BIT),
        ("supports_join", ("ZIPKIN_SUPPORTS_JOIN",), defaults.SUPPORTS_JOIN),
        ("disabled", ("ZIPKIN_DISABLED", "OTEL_SDK_DISABLED"), defaults.DISABLED),
    ):
        value, src = _pick(name, options.get(name), env_names, env)
        out[name] = default if value is None else parse_bool(name, value, src)

    for name, env_name, int_default, minimum in (
        ("max_tag_value_length", "ZIPKIN_MAX_TAG_VALUE_LENGTH", defaults.MAX_TAG_VALUE_LENGTH, 1),
        ("max_queue_size", "ZIPKIN_MAX_QUEUE_SIZE", defaults.MAX_QUEUE_SIZE, 1),
        (
            "message_max_bytes",
            "ZIPKIN_MESSAGE_MAX_BYTES",
            defaults.MESSAGE_MAX_BYTES,
            MIN_MESSAGE_MAX_BYTES,
        ),
    ):
        value, src = _pick(name, options.get(name), (env_name,), env)
        what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        out[name] = int_default if value is None else _number(name, value, src, int, minimum, what)

    for name, env_name, float_default in (
        ("flush_interval", "ZIPKIN_FLUSH_INTERVAL", defaults.FLUSH_INTERVAL),
        ("timeout", "ZIPKIN_TIMEOUT", defaults.TIMEOUT),
        ("connect_timeout", "ZIPKIN_CONNECT_TIMEOUT", defaults.CONNECT_TIMEOUT),
        ("close_timeout", "ZIPKIN_CLOSE_TIMEOUT", defaults.CLOSE_TIMEOUT),
    ):
        value, src = _pick(name, options.get(name), (env_name,), env)
        if value is None and name == "timeout":
            # the OpenTelemetry specification's unit: milliseconds
            value, src = _pick(name, None, ("OTEL_EXPORTER_ZIPKIN_TIMEOUT",), env)
            if value is not None:
                value = _positive_float(name, value, src, "milliseconds") / 1000.0
        out[name] = float_default if value is None else _positive_float(name, value, src)

    value, src = _pick("local_ip", options.get("local_ip"), ("ZIPKIN_LOCAL_IP",), env)
    out["local_ip"] = None if value is None else _local_ip("local_ip", value, src)

    value, src = _pick("local_port", options.get("local_port"), ("ZIPKIN_LOCAL_PORT",), env)
    if value is not None:
        value = _positive_int("local_port", value, src)
        if value > 65535:
            raise ValueError(f"{_source('local_port', src)} must be 1-65535, got {value!r}")
    out["local_port"] = value

    value, src = _pick("headers", options.get("headers"), ("ZIPKIN_HEADERS",), env)
    out["headers"] = {} if value is None else parse_headers("headers", value, src)

    value, src = _pick("verify", options.get("verify"), ("ZIPKIN_VERIFY",), env)
    out["verify"] = defaults.VERIFY if value is None else parse_verify("verify", value, src)

    # the transport, and the Kafka options (required for Kafka only)
    value, src = _pick("transport", options.get("transport"), ("ZIPKIN_TRANSPORT",), env)
    out["transport"] = _choice("transport", value or DEFAULT_TRANSPORT, src, TRANSPORTS)
    value, src = _pick("kafka_topic", options.get("kafka_topic"), ("ZIPKIN_KAFKA_TOPIC",), env)
    topic = DEFAULT_KAFKA_TOPIC if value is None else value
    if not isinstance(topic, str) or not _KAFKA_TOPIC.fullmatch(topic) or topic in (".", ".."):
        raise ValueError(
            f"{_source('kafka_topic', src)} must be a Kafka topic name "
            f"(letters, digits, '.', '_', '-'), got {value!r}"
        )
    out["kafka_topic"] = topic
    value, src = _pick(
        "kafka_bootstrap_servers",
        options.get("kafka_bootstrap_servers"),
        ("ZIPKIN_KAFKA_BOOTSTRAP_SERVERS",),
        env,
    )
    if value is not None:
        out["kafka_bootstrap_servers"] = parse_bootstrap_servers(
            "kafka_bootstrap_servers", value, src
        )
    elif out["transport"] == "kafka":
        raise ValueError(
            "transport kafka needs kafka_bootstrap_servers ($ZIPKIN_KAFKA_BOOTSTRAP_SERVERS), "
            "e.g. 'kafka:9092'"
        )

    return Config(**out)
