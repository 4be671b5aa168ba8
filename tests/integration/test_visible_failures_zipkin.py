"""Misconfigurations against the real Zipkin, as a program with no logging setup sees them."""

from __future__ import annotations

import re

from tests.support import readme
from tests.support.traced_script import one, run_traced

BIG_QUEUE = "{'service_name': '%s', 'max_queue_size': 1000}"


def test_the_ui_url_as_collector_is_one_line_naming_the_status_and_the_fix(
    zipkin_url: str,
) -> None:
    _, stderr = run_traced(f"{zipkin_url}/zipkin/", "none", BIG_QUEUE % "ui-url")
    line = one(stderr, f"to {zipkin_url}/zipkin/api/v2/spans (http_405, status 405")
    assert "should be the server's base URL" in line
    shown = " ".join(
        readme.literal_block("with\nthe Zipkin UI's address given as the collector").split()
    )
    as_in_readme = re.sub(r"of \d+ spans", "of 2 spans", line)
    assert as_in_readme.replace(zipkin_url, "http://localhost:9411") == shown
    assert len(stderr) == 1, stderr  # rate-limited: one line for 40 spans in 2 messages


def test_https_against_plain_http_is_one_tls_line(zipkin_url: str) -> None:
    url = zipkin_url.replace("http://", "https://")
    _, stderr = run_traced(url, "none", BIG_QUEUE % "tls")
    line = one(stderr, "(tls_error")
    assert "https:// URL against a plain-HTTP collector" in line


def test_a_healthy_collector_prints_nothing(zipkin_url: str) -> None:
    stdout, stderr = run_traced(zipkin_url, "none", BIG_QUEUE % "quiet")
    assert (stdout, stderr) == ([], [])
