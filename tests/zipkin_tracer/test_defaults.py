"""defaults.py is the one place of every default: Config, the components'
keyword defaults and both README tables agree with it."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from zipkin_tracer import config as config_module
from zipkin_tracer import defaults
from zipkin_tracer.config import Config, resolve
from zipkin_tracer.reporting.reporter import AsyncReporter
from zipkin_tracer.transport.http import HttpSender
from zipkin_tracer.transport.kafka import KafkaSender

README = Path(__file__).resolve().parents[2] / "README.rst"

#: Options whose default is not a constant (detected, none, or per sampler).
NOT_CONSTANT = {"local_ip", "local_port", "headers", "sampler_param", "kafka_bootstrap_servers"}


def _value(option: str) -> Any:
    return getattr(defaults, option.upper())


def _text(value: Any) -> str:
    if isinstance(value, tuple):  # propagator names, written as the option takes them
        return ",".join(value)
    return str(value).lower() if isinstance(value, bool) else str(value)


def configuration_table() -> List[Tuple[str, str, str]]:
    """(option, environment cell, default cell) of the README's options table."""
    text = README.read_text(encoding="utf-8")
    rows = re.findall(r"^   \* - ``(\w+)``\n     - (.*)\n     - (.*)$", text, re.M)
    assert len(rows) >= 18, "the README's configuration table was not found"
    return rows


def reporter_defaults_table() -> Dict[str, str]:
    """option → default text of the README's Defaults table (reporter section)."""
    text = README.read_text(encoding="utf-8")
    rows = dict(re.findall(r"^``(\w+)``\s+(\d+(?: \d{3})*(?:\.\d+)?)(?: s)?\s{2,}", text, re.M))
    assert len(rows) >= 9, "the README's Defaults table was not found"
    return {key: value.replace(" ", "") for key, value in rows.items()}


@pytest.mark.parametrize("row", configuration_table(), ids=lambda row: row[0])
def test_configuration_table_default_is_the_defaults_module(row: Tuple[str, str, str]) -> None:
    option, _, default_cell = row
    if option in NOT_CONSTANT:
        return
    first_literal = re.search(r"``([^`]+)``", default_cell)
    assert first_literal is not None, default_cell
    assert first_literal.group(1) == _text(_value(option))


def test_configuration_table_names_real_options_and_variables() -> None:
    source = inspect.getsource(config_module.resolve)
    for option, env_cell, _ in configuration_table():
        assert option in Config.__dataclass_fields__ or option == "sampler_param"
        names = re.findall(r"``((?:ZIPKIN|OTEL)_\w+)``", env_cell)
        assert names, option
        for name in names:
            assert f'"{name}"' in source, f"{name} is documented but not read"


@pytest.mark.parametrize("option", sorted(reporter_defaults_table()))
def test_reporter_defaults_table_is_the_defaults_module(option: str) -> None:
    assert float(reporter_defaults_table()[option]) == _value(option)


def test_config_defaults_are_the_defaults_module() -> None:
    config = resolve({}, service_name="s")
    for name in Config.__dataclass_fields__:
        if name in NOT_CONSTANT or name in ("service_name", "sampler"):
            continue
        assert getattr(config, name) == _value(name), name
    assert resolve({}).service_name == defaults.SERVICE_NAME
    assert Config().max_queue_size == defaults.MAX_QUEUE_SIZE


@pytest.mark.parametrize(
    "component", [AsyncReporter, HttpSender, KafkaSender], ids=lambda c: c.__name__
)
def test_component_keyword_defaults_are_the_defaults_module(component: Any) -> None:
    checked = 0
    for name, parameter in inspect.signature(component).parameters.items():
        if hasattr(defaults, name.upper()) and parameter.default is not inspect.Parameter.empty:
            assert parameter.default == _value(name), f"{component.__name__}({name}=...)"
            checked += 1
    assert checked >= 2
