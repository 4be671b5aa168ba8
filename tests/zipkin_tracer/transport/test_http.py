"""HttpSender: request shape with ``responses``; timeouts and faults over 127.0.0.1."""

from __future__ import annotations

import logging
import socket
import threading
import time
import zlib
from typing import Any, Dict, Iterator, List

import pytest
import requests
import responses

from tests.support.fake_collector import (
    Action,
    Blackhole,
    FakeCollector,
    refused_url,
)
from zipkin_tracer.transport import _urllib3_kit as urllib3_kit
from zipkin_tracer.transport._watchdog import Watchdog
from zipkin_tracer.transport.base import MessageTooLarge, SendError
from zipkin_tracer.transport.http import HttpSender, parse_retry_after, safe_endpoint

URL = "http://collector.test:9411/api/v2/spans"
BODY = b'[{"traceId":"00000000000000aa","id":"0000000000000001"}]'


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as rsps:
        yield rsps


def test_posts_to_the_path_with_content_type_and_b3_zero(mocked: responses.RequestsMock) -> None:
    mocked.post(URL, status=202)
    HttpSender("http://collector.test:9411/", path="/api/v2/spans").send(BODY)
    request = mocked.calls[0].request
    assert request.url == URL
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["b3"] == "0"
    assert "Content-Encoding" not in request.headers  # tiny body: not worth gzip
    assert request.body == BODY


def test_a_query_string_stays_after_the_api_path(mocked: responses.RequestsMock) -> None:
    mocked.post(URL + "?api_key=k&x=1", status=202)
    sender = HttpSender("http://collector.test:9411/?api_key=k&x=1")
    sender.send(BODY)
    assert mocked.calls[0].request.url == URL + "?api_key=k&x=1"
    assert sender.endpoint == URL  # logs never show the query


def test_thrift_content_type_and_v1_path(mocked: responses.RequestsMock) -> None:
    mocked.post("http://collector.test:9411/api/v1/spans", status=202)
    HttpSender(
        "http://collector.test:9411", path="api/v1/spans", content_type="application/x-thrift"
    ).send(b"\x0c\x00\x00\x00\x00")
    assert mocked.calls[0].request.headers["Content-Type"] == "application/x-thrift"


def test_large_bodies_are_gzipped(mocked: responses.RequestsMock) -> None:
    mocked.post(URL, status=202)
    body = b"[" + b",".join([BODY[1:-1]] * 100) + b"]"
    HttpSender("http://collector.test:9411").send(body)
    request = mocked.calls[0].request
    assert request.headers["Content-Encoding"] == "gzip"
    sent = request.body
    assert isinstance(sent, bytes)
    assert zlib.decompress(sent, 31) == body
    assert len(sent) < len(body)


def test_gzip_can_be_turned_off(mocked: responses.RequestsMock) -> None:
    mocked.post(URL, status=202)
    body = BODY * 100
    HttpSender("http://collector.test:9411", gzip=False).send(body)
    assert mocked.calls[0].request.body == body


def test_extra_headers_are_sent_but_never_shown(
    mocked: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    mocked.post(URL, status=202)
    sender = HttpSender(
        "http://collector.test:9411/", headers={"Authorization": "Bearer TOKEN-XYZ"}
    )
    sender.send(BODY)
    assert mocked.calls[0].request.headers["Authorization"] == "Bearer TOKEN-XYZ"
    assert "TOKEN" not in repr(sender)
    assert sender.endpoint == URL


@pytest.mark.parametrize("status", [200, 202, 204])
def test_2xx_is_success(mocked: responses.RequestsMock, status: int) -> None:
    mocked.post(URL, status=status)
    HttpSender("http://collector.test:9411").send(BODY)


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        (400, False),
        (401, False),
        (403, False),
        (404, False),
        (415, False),
        (408, True),
        (429, True),
        (500, True),
        (502, True),
        (503, True),
        (504, True),
        (301, False),
    ],
)
def test_status_table(mocked: responses.RequestsMock, status: int, retryable: bool) -> None:
    mocked.post(URL, status=status)
    with pytest.raises(SendError) as raised:
        HttpSender("http://collector.test:9411").send(BODY)
    assert raised.value.retryable is retryable
    assert raised.value.status == status
    assert raised.value.cause == f"http_{status}"


def test_413_means_split(mocked: responses.RequestsMock) -> None:
    mocked.post(URL, status=413)
    with pytest.raises(MessageTooLarge):
        HttpSender("http://collector.test:9411").send(BODY)


def test_retry_after_is_passed_on(mocked: responses.RequestsMock) -> None:
    mocked.post(URL, status=503, headers={"Retry-After": "7"})
    with pytest.raises(SendError) as raised:
        HttpSender("http://collector.test:9411").send(BODY)
    assert raised.value.retry_after == 7


def test_parse_retry_after() -> None:
    assert parse_retry_after("3") == 3
    assert parse_retry_after("-3") == 0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10


def test_connection_errors_are_retryable(mocked: responses.RequestsMock) -> None:
    mocked.post(URL, body=requests.exceptions.ConnectionError("reset"))
    with pytest.raises(SendError) as raised:
        HttpSender("http://collector.test:9411").send(BODY)
    assert raised.value.retryable and raised.value.cause == "connection_error"


def test_tls_errors_are_not_retried(mocked: responses.RequestsMock) -> None:
    mocked.post(URL, body=requests.exceptions.SSLError("bad cert"))
    with pytest.raises(SendError) as raised:
        HttpSender("http://collector.test:9411").send(BODY)
    assert not raised.value.retryable and raised.value.cause == "tls_error"


def test_https_verifies_certificates_by_default() -> None:
    assert HttpSender("https://collector.test").verify is True


def test_safe_endpoint_strips_credentials_and_query() -> None:
    assert safe_endpoint("https://u:p@h.example:8443/api/v2/spans?key=1") == (
        "https://h.example:8443/api/v2/spans"
    )


# -- real sockets on 127.0.0.1 -------------------------------------------------------------


def test_one_kept_alive_connection_for_many_messages() -> None:
    server = FakeCollector()
    try:
        sender = HttpSender(server.url)
        for _ in range(20):
            sender.send(BODY)
        assert server.requests == 20
        assert len(server.peers) == 1
    finally:
        server.stop()


def test_a_collector_that_hangs_up_after_each_answer_costs_no_failure() -> None:
    # No "Connection: close": a connection reused without a liveness poll is
    # found closed only by the next send, which then goes again, once.
    server = FakeCollector(lambda n: Action(hang_up=True))
    try:
        sender = HttpSender(server.url)
        for _ in range(10):
            sender.send(BODY)
        assert server.requests == 10  # each message once
        assert len(server.bodies) == 10
    finally:
        server.stop()


def test_a_pooled_connection_is_checked_before_reuse_after_a_quiet_second(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(urllib3_kit, "FRESH_SECONDS", 0.0)  # every reuse is checked
    server = FakeCollector(lambda n: Action(hang_up=True))
    try:
        sender = HttpSender(server.url)
        sender.send(BODY)
        assert server.connection_closed.wait(5)
        sender.send(BODY)  # the check saw the closed connection: a new one, no failure
        assert server.requests == 2 and len(server.peers) == 2
    finally:
        server.stop()


def test_the_stale_connection_retry_happens_once() -> None:
    server = FakeCollector(lambda n: Action() if n == 0 else Action(reset=True))
    try:
        sender = HttpSender(server.url)
        sender.send(BODY)
        with pytest.raises(SendError) as raised:
            sender.send(BODY)  # reused unchecked, reset; again on a new one, reset
        assert raised.value.cause == "connection_error" and raised.value.retryable
        assert server.requests == 3
    finally:
        server.stop()


def test_gzip_is_accepted_by_the_fake_collector() -> None:
    server = FakeCollector()
    try:
        body = b"[" + b",".join([BODY[1:-1]] * 50) + b"]"
        HttpSender(server.url).send(body)
        assert server.headers[0]["Content-Encoding"] == "gzip"
        assert server.bodies == [body]
    finally:
        server.stop()


def test_refused_port_is_retryable_and_quick() -> None:
    start = time.monotonic()
    with pytest.raises(SendError) as raised:
        HttpSender(refused_url()).send(BODY)
    assert raised.value.retryable and raised.value.cause == "connection_error"
    assert time.monotonic() - start < 1


def test_reset_is_retryable() -> None:
    server = FakeCollector(lambda n: Action(reset=True))
    try:
        with pytest.raises(SendError) as raised:
            HttpSender(server.url).send(BODY)
        assert raised.value.retryable
    finally:
        server.stop()


@pytest.mark.parametrize(
    "action",
    [Action(stall=True), Action(trickle=0.2), Action(slow_read=0.2)],
    ids=["stall", "trickle", "slow-read"],
)
def test_total_timeout_is_enforced(action: Action) -> None:
    server = FakeCollector(lambda n: action)
    try:
        sender = HttpSender(server.url, timeout=0.6, gzip=False)
        body = b"[" + b"x" * 4_000_000 + b"]"  # big enough to outlast socket buffers
        start = time.monotonic()
        with pytest.raises(SendError) as raised:
            sender.send(body)
        assert time.monotonic() - start < 0.6 + 0.3
        assert raised.value.retryable and raised.value.cause == "timeout"
        # The sender recovers: next attempt opens a fresh connection.
        server.script = lambda n: Action()
        sender.send(b"[]")
    finally:
        server.stop()


def test_blackhole_connect_and_read_time_out(caplog: pytest.LogCaptureFixture) -> None:
    hole = Blackhole()
    try:
        start = time.monotonic()
        with pytest.raises(SendError) as raised:
            HttpSender(hole.url, timeout=0.5, connect_timeout=0.2).send(BODY)
        assert time.monotonic() - start < 0.8
        assert raised.value.cause == "timeout"
    finally:
        hole.close()


def test_send_timeout_argument_shortens_the_attempt() -> None:
    server = FakeCollector(lambda n: Action(stall=True))
    try:
        start = time.monotonic()
        with pytest.raises(SendError):
            HttpSender(server.url, timeout=10).send(BODY, timeout=0.3)
        assert time.monotonic() - start < 0.6
    finally:
        server.stop()


def test_after_fork_in_child_forgets_the_session_without_closing_it() -> None:
    server = FakeCollector()
    try:
        sender = HttpSender(server.url)
        sender.send(BODY)
        session = sender._session
        assert session is not None
        adapter = session.get_adapter(server.url)
        sender.after_fork_in_child()
        assert sender._session is None
        # The parent's pooled connection is untouched (still open).
        pools = list(adapter.poolmanager.pools._container.values())  # type: ignore[attr-defined]
        assert pools and pools[0].num_connections == 1
        sender.send(BODY)
        assert len(server.peers) == 2
        logging.getLogger(__name__).debug("ok")
    finally:
        server.stop()


def test_verify_and_timeouts_reach_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: Dict[str, Any] = {}

    def fake_post(self: requests.Session, url: str, **kwargs: Any) -> requests.Response:
        seen.update(kwargs, trust_env=self.trust_env)
        response = requests.Response()
        response.status_code = 202
        return response

    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    monkeypatch.setattr(requests.Session, "post", fake_post)
    HttpSender("https://collector.test", timeout=10.0, connect_timeout=2.0).send(BODY)
    assert seen["verify"] is True
    # The watchdog bounds the attempt; the socket itself blocks (one GIL wait per call).
    assert seen["timeout"] == (2.0, None)
    assert seen["allow_redirects"] is False
    assert seen["trust_env"] is False  # the environment was read once, when the session was made
    HttpSender("https://collector.test", verify="/etc/ca.pem").send(BODY, timeout=0.5)
    assert seen["verify"] == "/etc/ca.pem"
    assert seen["timeout"] == (0.5, None)


def test_without_a_watchdog_thread_the_socket_keeps_the_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: Dict[str, Any] = {}

    def fake_post(self: requests.Session, url: str, **kwargs: Any) -> requests.Response:
        seen.update(kwargs)
        response = requests.Response()
        response.status_code = 202
        return response

    def no_thread(self: threading.Thread) -> None:
        raise RuntimeError("can't create new thread at interpreter shutdown")

    monkeypatch.setattr(requests.Session, "post", fake_post)
    monkeypatch.setattr(threading.Thread, "start", no_thread)
    HttpSender("http://collector.test", timeout=3.0, connect_timeout=1.0).send(BODY)
    assert seen["timeout"] == (1.0, 3.0)


def test_environment_settings_are_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/custom-ca.pem")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.test:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    sender = HttpSender("https://collector.test")
    session = sender._get_session()
    assert session.verify == "/etc/custom-ca.pem"
    assert session.proxies.get("https") == "http://proxy.test:3128"
    assert HttpSender("https://collector.test", verify=False)._get_session().verify is False


def _watchdog_threads() -> List[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "zipkin-sender-watchdog"]


def test_one_watchdog_thread_serves_every_send_and_close_ends_it() -> None:
    server = FakeCollector()
    try:
        before = len(_watchdog_threads())
        sender = HttpSender(server.url)
        for _ in range(10):
            sender.send(BODY)
        mine = [t for t in _watchdog_threads()][before:]
        assert len(_watchdog_threads()) == before + 1
        sender.close()
        for thread in mine:
            thread.join(5)
            assert not thread.is_alive()
        sender.send(BODY)  # a closed sender starts over
        assert server.requests == 11
        sender.close()
    finally:
        server.stop()


def test_an_idle_watchdog_thread_leaves_and_comes_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Watchdog, "idle_exit", 0.5)
    server = FakeCollector()
    try:
        sender = HttpSender(server.url, timeout=0.3)  # it sleeps until the last deadline
        sender.send(BODY)
        thread = sender._watchdog._thread
        assert thread is not None
        thread.join(5)
        assert not thread.is_alive()
        sender.send(BODY)
        assert sender._watchdog._thread is not None and sender._watchdog._thread is not thread
        assert server.requests == 2
    finally:
        server.stop()


def test_headers_and_body_leave_in_one_socket_write(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each socket call waits for the GIL again when the application is busy.
    server = FakeCollector()
    try:
        sender = HttpSender(server.url, gzip=False)
        sender.send(BODY)  # connect first
        writes: List[bytes] = []
        real_sendall = socket.socket.sendall

        me = threading.current_thread()

        def recording_sendall(self: socket.socket, data: Any, *args: Any) -> Any:
            if threading.current_thread() is me:  # not the in-process collector's answer
                writes.append(bytes(data))
            return real_sendall(self, data, *args)

        monkeypatch.setattr(socket.socket, "sendall", recording_sendall)
        body = b"[" + b",".join([BODY[1:-1]] * 20) + b"]"
        sender.send(body)
        assert len(writes) == 1
        assert writes[0].startswith(b"POST /api/v2/spans HTTP/1.1\r\n")
        assert writes[0].endswith(b"\r\n\r\n" + body)
        assert server.bodies[-1] == body
    finally:
        server.stop()
