"""collector_url: malformed URLs get a clear error, and credentials never show."""

from __future__ import annotations

from typing import Dict

import pytest

from zipkin_tracer.config import redact_url, resolve


@pytest.mark.parametrize(
    "url, why",
    [
        ("http://zipkin:99999", "Port out of range"),
        ("http://zipkin:abc/", "Port could not be cast"),
        ("http://zipkin:0", "port 0"),
        ("http://[::1", "Invalid IPv6 URL"),
        ("http://user:pw@", "with a host"),
        ("http://:9411", "with a host"),
    ],
)
def test_a_malformed_collector_url_names_the_option_and_the_variable(url: str, why: str) -> None:
    with pytest.raises(ValueError) as explicit:
        resolve(environ={}, service_name="s", collector_url=url)
    assert "collector_url" in str(explicit.value) and "$ZIPKIN_URL" in str(explicit.value)
    assert why in str(explicit.value)
    with pytest.raises(ValueError, match=r"collector_url \(from \$ZIPKIN_URL\)"):
        resolve(environ={"ZIPKIN_URL": url}, service_name="s")


@pytest.mark.parametrize(
    "url",
    [
        "http://admin:hunter2@zipkin:99999",
        "http://admin:hunter2@[::1:9411/",
        "ftp://admin:hunter2@zipkin:9411",
        "http://admin:hunter2@",
        "zipkin:9411?api_key=hunter2",
    ],
)
def test_a_bad_collector_url_error_never_echoes_credentials(url: str) -> None:
    for options, environ in (({"collector_url": url}, {}), ({}, {"ZIPKIN_URL": url})):
        with pytest.raises(ValueError) as caught:
            resolve(environ=environ, service_name="s", **options)
        assert "hunter2" not in str(caught.value)
        assert "collector_url" in str(caught.value)


def test_the_config_repr_hides_url_credentials_and_query() -> None:
    env: Dict[str, str] = {}
    config = resolve(
        environ=env, service_name="s", collector_url="https://admin:hunter2@z:9411/p?api_key=k3y"
    )
    assert config.collector_url == "https://admin:hunter2@z:9411/p?api_key=k3y"
    shown = repr(config)
    assert "hunter2" not in shown and "k3y" not in shown and "admin" not in shown
    assert "collector_url='https://***@z:9411/p?***'" in shown
    assert "service_name='s'" in shown


def test_a_query_string_is_kept_after_the_base_path() -> None:
    config = resolve(environ={}, service_name="s", collector_url="http://z:9411/?api_key=k")
    assert config.collector_url == "http://z:9411?api_key=k"
    config = resolve(environ={}, service_name="s", collector_url="http://z/api/v1/spans?a=1")
    assert (config.collector_url, config.encoding) == ("http://z?a=1", "thrift")


@pytest.mark.parametrize(
    "url, shown",
    [
        ("http://u:p@h:1/x?k=v#f", "http://***@h:1/x?***"),
        ("http://h:1/x", "http://h:1/x"),
        ("http://a@b@h", "http://***@h"),
        ("h:1?k", "h:1?***"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown
