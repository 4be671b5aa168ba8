"""The OpenTracing → Zipkin mapping, checked on the v2 view."""

from __future__ import annotations

from typing import Any, Dict

import pytest

from tests.support.spans import T0, finished_span
from tests.support.tracers import make_tracer
from zipkin_tracer.encoding.json_v2 import span_to_dict


def view(tags: Dict[str, Any], **kwargs: Any) -> Dict[str, Any]:
    tracer = make_tracer(max_tag_value_length=kwargs.pop("limit", 16384))
    return span_to_dict(finished_span(tracer, tags=tags, **kwargs))


@pytest.mark.parametrize(
    "value, kind",
    [
        ("client", "CLIENT"),
        ("server", "SERVER"),
        ("producer", "PRODUCER"),
        ("consumer", "CONSUMER"),
    ],
)
def test_span_kind(value: str, kind: str) -> None:
    out = view({"span.kind": value})
    assert out["kind"] == kind and "tags" not in out


def test_unknown_span_kind_stays_a_tag() -> None:
    out = view({"span.kind": "resource"})
    assert "kind" not in out and out["tags"] == {"span.kind": "resource"}


def test_peer_tags_become_the_remote_endpoint() -> None:
    out = view(
        {
            "span.kind": "client",
            "peer.service": "DB",
            "peer.ipv6": "2001:db8::1",
            "peer.ipv4": 167772161,
            "peer.port": "5432",
            "peer.hostname": "db.local",
        }
    )
    assert out["remoteEndpoint"] == {
        "serviceName": "db",
        "ipv4": "10.0.0.1",
        "ipv6": "2001:db8::1",
        "port": 5432,
    }
    assert out["tags"] == {"peer.hostname": "db.local"}


def test_peer_hostname_ip_literal_fills_the_address() -> None:
    out = view({"span.kind": "client", "peer.hostname": "10.1.2.3"})
    assert out["remoteEndpoint"] == {"ipv4": "10.1.2.3"}
    assert out["tags"] == {"peer.hostname": "10.1.2.3"}


def test_unusable_peer_values_are_kept_as_tags() -> None:
    out = view({"peer.ipv4": "not-an-ip", "peer.port": 70000, "peer.service": "x"})
    assert out["remoteEndpoint"] == {"serviceName": "x"}
    assert out["tags"] == {"peer.ipv4": "not-an-ip", "peer.port": "70000"}


def test_error_tag() -> None:
    for no_error in (False, None, 0, "", "false", "False"):
        assert "tags" not in view({"error": no_error}), no_error
    assert view({"error": True})["tags"] == {"error": "true"}
    assert view({"error": "timeout"})["tags"] == {"error": "timeout"}
    logged = view(
        {"error": True},
        logs=[(T0 + 1, {"event": "error", "message": "boom", "error.object": ValueError()})],
    )
    assert logged["tags"] == {"error": "ValueError: boom"}
    by_object = view({"error": True}, logs=[(T0 + 1, {"error.object": KeyError("k")})])
    assert by_object["tags"] == {"error": "KeyError: 'k'"}
    empty = view({"error": True}, logs=[(T0 + 1, {"error.object": ValueError()})])
    assert empty["tags"] == {"error": "ValueError"}
    plain = view({"error": True}, logs=[(T0 + 1, {"event": "error", "message": "503 Gone"})])
    assert plain["tags"] == {"error": "503 Gone"}


def test_error_tag_reads_every_error_log_for_the_message() -> None:
    """grpcio-opentracing's server logs the class first; the span's exit logs the rest."""
    logs = [
        (T0 + 1, {"event": "error", "error.object": RuntimeError}),
        (T0 + 2, {"event": "log", "message": "not an error"}),
        (
            T0 + 3,
            {
                "event": "error",
                "message": "inventory on fire",
                "error.object": RuntimeError("inventory on fire"),
                "error.kind": RuntimeError,
            },
        ),
    ]
    assert view({"error": True}, logs=logs)["tags"] == {"error": "RuntimeError: inventory on fire"}
    kind_only = view({"error": True}, logs=logs[:1])
    assert kind_only["tags"] == {"error": "RuntimeError"}


def test_error_tag_prefers_an_rpc_errors_code_and_details() -> None:
    class RpcError(Exception):
        """Shaped like grpc's: str() is a long dump, details() the message."""

        def __str__(self) -> str:
            return "<RpcError of RPC that terminated with:\n\tstatus = ...\n" + "x" * 300

        def code(self) -> str:
            return "StatusCode.UNKNOWN"

        def details(self) -> str:
            return "Exception calling application: inventory on fire"

    error = RpcError()
    logs = [(T0 + 1, {"event": "error", "error.object": error, "message": str(error)})]
    assert view({"error": True}, logs=logs)["tags"] == {
        "error": "StatusCode.UNKNOWN: Exception calling application: inventory on fire"
    }


def test_error_tag_prefixes_a_string_kind_once_and_is_truncated() -> None:
    logs = [(T0 + 1, {"error.kind": "ConnectionError", "error.object": OSError("refused")})]
    assert view({"error": True}, logs=logs)["tags"] == {"error": "ConnectionError: refused"}
    logs = [(T0 + 1, {"error.kind": "E", "message": "E: already prefixed"})]
    assert view({"error": True}, logs=logs)["tags"] == {"error": "E: already prefixed"}
    long = [(T0 + 1, {"event": "error", "error.object": ValueError("v" * 50)})]
    prefixed = view({"error": True}, logs=long, limit=30)["tags"]
    assert prefixed == {"error": "ValueError: " + "v" * 18}
    # A kind that would fill more than half a small limit leaves the room to the message.
    assert view({"error": True}, logs=long, limit=20)["tags"] == {"error": "v" * 20}


def test_tag_values_are_strings_with_lowercase_bools() -> None:
    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("no")

    out = view({"b": False, "i": 3, "f": 1.5, "n": None, "o": Unprintable(), 7: "key"})
    tags = out["tags"]
    assert tags["b"] == "false" and tags["i"] == "3" and tags["f"] == "1.5"
    assert tags["n"] == "None" and tags["7"] == "key"
    assert tags["o"].startswith("<") and "Unprintable" in tags["o"]
    assert "sampling.priority" not in view({"sampling.priority": 1}).get("tags", {})


def test_long_values_are_truncated() -> None:
    out = view({"big": "x" * 100}, limit=10, logs=[(T0, {"k": "y" * 100})])
    assert out["tags"]["big"] == "x" * 10
    assert len(out["annotations"][0]["value"]) == 10


def test_log_kv_annotations() -> None:
    out = view(
        {},
        logs=[
            (T0 + 1, {"event": "cache.miss"}),
            (T0 + 2, {"event": "retry", "attempt": 2, "ok": True}),
            (T0 + 3, {}),
        ],
    )
    assert out["annotations"] == [
        {"timestamp": T0 + 1, "value": "cache.miss"},
        {"timestamp": T0 + 2, "value": "event=retry attempt=2 ok=true"},
    ]


def test_error_logs_of_context_managers_read_as_text() -> None:
    tracer = make_tracer()
    try:
        with tracer.start_span("x") as span:
            raise KeyError("m")
    except KeyError:
        pass

    (annotation,) = span_to_dict(span)["annotations"]
    assert "error.kind=KeyError " in annotation["value"]
    assert "error.object='m'" in annotation["value"]
    assert (
        'in test_error_logs_of_context_managers_read_as_text\n    raise KeyError("m")'
        in (annotation["value"])
    )
    assert "<traceback object" not in annotation["value"]


def test_local_endpoint_and_shared_only_for_server() -> None:
    tracer = make_tracer(service_name="Checkout", local_ip="::ffff:10.0.0.9")
    out = span_to_dict(finished_span(tracer, shared=True))
    assert out["localEndpoint"] == {"serviceName": "checkout", "ipv4": "10.0.0.9"}
    assert "shared" not in out
