"""``zipkin-tracer`` (also ``python -m zipkin_tracer``): check a setup, show a trace, send one.

``check`` resolves the configuration exactly as ``ZipkinTracer`` does (same
arguments > environment > defaults), then talks to the collector step by
step, stopping at the first step that fails with what to check. This module
is the one place in the package that prints: it is a program, not a library.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import sys
from dataclasses import fields
from typing import Any, Dict, List, Optional, Sequence, TextIO
from urllib.parse import urlsplit

import requests

from zipkin_tracer.config import DEFAULT_ENCODING, Config, explain
from zipkin_tracer.context import ZipkinSpanContext
from zipkin_tracer.encoding import encoder_for
from zipkin_tracer.reporting.hints import what_to_check
from zipkin_tracer.sampling import ConstSampler
from zipkin_tracer.testing import InMemoryReporter
from zipkin_tracer.trace_tree import fetch_trace, format_trace, ui_link
from zipkin_tracer.tracer import ZipkinTracer, build_sender, detect_local_ip
from zipkin_tracer.transport.base import SendError
from zipkin_tracer.transport.http import safe_endpoint

OK, FAILED, USAGE = 0, 1, 2
DEFAULT_WAIT = 10.0
_TRACE_ID = re.compile(r"^(?:[0-9a-f]{16}|[0-9a-f]{32})$")


class CheckFailed(Exception):
    """A step of ``check`` or ``send`` failed; the message says why and what to check."""


def _shown_value(config: Config, name: str) -> str:
    value = getattr(config, name)
    if name == "headers":  # names only: values are often credentials
        return ", ".join(sorted(value)) or "none"
    if name == "collector_url":
        return safe_endpoint(value)
    if name == "local_ip" and value is None:
        return f"{detect_local_ip()} (detected)"
    return "none" if value is None else str(value)


def _print_config(config: Config, origins: Dict[str, str], out: TextIO) -> None:
    print("configuration (argument > environment > default):", file=out)
    for name in (f.name for f in fields(Config)):
        origin = origins[name]
        if name == "sampler" and origins["sampler_param"] != "default":
            origin += f", param {origins['sampler_param']}"
        if name == "encoding" and origin == "default" and config.encoding != DEFAULT_ENCODING:
            origin = "collector_url's path"
        print(f"  {name:<21} {_shown_value(config, name):<32} {origin}", file=out)


def _notes(config: Config, origins: Dict[str, str], environ: Dict[str, str]) -> List[str]:
    """Settings that are valid but probably not what the person meant."""
    notes = []
    if origins["service_name"] == "default":
        notes.append(
            f"no service name: spans appear as {config.service_name!r}; "
            "set $ZIPKIN_SERVICE_NAME or service_name="
        )
    if config.transport == "kafka":
        notes.append(
            "spans go to Kafka; /health and the read-back ask the Zipkin server at "
            "collector_url, which must consume that topic"
        )
    port = environ.get("ZIPKIN_PORT", "").strip()
    if port and origins["collector_url"] == "default":
        notes.append(
            f"$ZIPKIN_PORT={port} is set, but the tracer does not read it (it is the port "
            "`make zipkin` and the test scripts start Zipkin on); to send there, set "
            f"ZIPKIN_URL=http://127.0.0.1:{port}"
        )
    return notes


def _failure(cause: str, what: str, detail: str = "") -> CheckFailed:
    said = f"{what} ({cause}{': ' + detail if detail else ''})"
    return CheckFailed(f"{said}; {what_to_check(cause)}")


def _resolvable(url: str) -> None:
    host = urlsplit(url).hostname or ""
    try:
        socket.getaddrinfo(host, None)
    except (OSError, UnicodeError):
        raise CheckFailed(
            f"cannot resolve the host name {host!r} of collector_url: check it for typos"
        )


def probe_health(config: Config) -> str:
    """``GET /health``; the status Zipkin answers, or CheckFailed saying why not."""
    url = config.collector_url.rstrip("/") + "/health"
    shown = safe_endpoint(url)
    _resolvable(url)
    try:
        response = requests.get(
            url,
            headers={**config.headers, "b3": "0"},
            timeout=(config.connect_timeout, config.timeout),
            verify=config.verify,
        )
    except requests.exceptions.SSLError as error:
        raise _failure("tls_error", f"TLS with {shown} failed", type(error).__name__)
    except requests.exceptions.Timeout:
        raise _failure("timeout", f"{shown} did not answer in time")
    except requests.exceptions.RequestException as error:
        raise _failure("connection_error", f"nothing answers at {shown}", type(error).__name__)
    if response.status_code != 200:
        raise _failure(f"http_{response.status_code}", f"{shown} answered {response.status_code}")
    try:
        status = response.json().get("status")
    except (ValueError, AttributeError):  # not JSON, or not an object
        status = None
    if status != "UP":
        raise CheckFailed(
            f"{shown} answered, but not as a Zipkin server (status {status!r}); "
            "is collector_url ($ZIPKIN_URL) the Zipkin server?"
        )
    return str(status)


def send_test_span(config: Config, name: str) -> str:
    """One span, encoded and sent as the reporter would; its trace ID."""
    memory = InMemoryReporter()
    tracer = ZipkinTracer(
        service_name=config.service_name,
        encoding=config.encoding,
        trace_id_128bit=config.trace_id_128bit,
        sampler=ConstSampler(True),
        reporter=memory,
    )
    span = tracer.start_span(name, tags={"zipkin-tracer": "check"})
    span.finish()
    encoder = encoder_for(config.encoding)
    body = encoder.encode_message([encoder.encode_span(memory.spans[0])])
    sender = build_sender(config, encoder)
    try:
        sender.send(body)
    except SendError as error:
        raise _failure(error.cause, f"{sender.endpoint} refused the test span")
    finally:
        sender.close()
    return _hex(span.context.trace_id)


def _hex(trace_id: int) -> str:
    return format(trace_id, "016x" if trace_id < 1 << 64 else "032x")


def read_back(config: Config, trace_id: str, spans: int, wait: float) -> List[Dict[str, Any]]:
    try:
        found = fetch_trace(
            config.collector_url,
            trace_id,
            spans=spans,
            timeout=wait,
            headers=config.headers,
            verify=config.verify,
        )
    except requests.exceptions.RequestException as error:
        raise CheckFailed(f"could not read trace {trace_id} back: {type(error).__name__}")
    if len(found) < spans:
        raise CheckFailed(
            f"the collector accepted the spans, but after {wait:.0f}s its query API shows "
            f"{len(found)} of {spans} for trace {trace_id}; is this server's storage also "
            "the one it queries?"
        )
    return found


def _config_from(args: argparse.Namespace) -> tuple:
    options = {
        "service_name": args.service_name,
        "collector_url": args.collector_url,
        "encoding": args.encoding,
    }
    return explain(**options)


def cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    config, origins = _config_from(args)
    _print_config(config, origins, out)
    for note in _notes(config, origins, dict(os.environ)):
        print(f"note: {note}", file=out)
    steps = (
        ("collector health", lambda: "GET /health: " + probe_health(config)),
        ("test span", lambda: _send_and_read(config, args.wait)),
    )
    for label, step in steps:
        try:
            said = step()
        except CheckFailed as failure:
            print(f"FAILED {label}: {failure}", file=out)
            return FAILED
        print(f"ok     {label}: {said}", file=out)
    print("zipkin-tracer check: everything works", file=out)
    return OK


def _send_and_read(config: Config, wait: float) -> str:
    trace_id = send_test_span(config, "zipkin-tracer check")
    read_back(config, trace_id, 1, wait)
    return (
        f"sent in {config.encoding} and read back, trace {trace_id}\n"
        f"       {ui_link(config.collector_url, trace_id)}"
    )


def cmd_trace(args: argparse.Namespace, out: TextIO) -> int:
    trace_id = args.trace_id.strip().lower()
    if not _TRACE_ID.match(trace_id):
        print(f"not a trace ID: {args.trace_id!r} (16 or 32 hex digits)", file=out)
        return USAGE
    config, _ = _config_from(args)
    try:
        spans = fetch_trace(
            config.collector_url,
            trace_id,
            timeout=args.wait,
            headers=config.headers,
            verify=config.verify,
        )
    except requests.exceptions.RequestException as error:
        where = safe_endpoint(config.collector_url)
        print(f"could not ask {where} for trace {trace_id}: {type(error).__name__}", file=out)
        return FAILED
    if not spans:
        print(
            f"trace {trace_id} is not in Zipkin at {safe_endpoint(config.collector_url)}", file=out
        )
        return FAILED
    print("\n".join(format_trace(config.collector_url, trace_id, spans)), file=out)
    return OK


def cmd_send(args: argparse.Namespace, out: TextIO) -> int:
    """Three spans through the real reporter, as an application sends them."""
    config, _ = _config_from(args)
    tracer = ZipkinTracer(
        service_name=config.service_name,
        collector_url=config.collector_url,
        encoding=config.encoding,
        sampler=ConstSampler(True),
    )
    try:
        with tracer.start_active_span("zipkin-tracer send") as scope:
            with tracer.start_active_span(
                "get /stock", tags={"span.kind": "client", "peer.service": "zipkin-tracer-peer"}
            ):
                pass
            with tracer.start_active_span("render"):
                pass
            context = scope.span.context
            assert isinstance(context, ZipkinSpanContext)
            trace_id = _hex(context.trace_id)
        delivered = tracer.flush(timeout=args.wait)
        metrics = tracer.metrics
    finally:
        tracer.close(timeout=1.0)
    if not delivered:
        dropped = ", ".join(metrics.get("messages_dropped", {})) or "not accepted yet"
        print(
            f"FAILED: the spans did not reach {safe_endpoint(config.collector_url)} within "
            f"{args.wait:g}s ({dropped}); `zipkin-tracer check` says why",
            file=out,
        )
        return FAILED
    print(f"sent trace {trace_id}: {ui_link(config.collector_url, trace_id)}", file=out)
    return OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zipkin-tracer",
        description="Check a Zipkin setup, show a stored trace, or send a test trace. "
        "Options not given here come from the ZIPKIN_* environment, as in the tracer.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--collector-url", help="default: $ZIPKIN_URL, else http://localhost:9411")
    common.add_argument("--service-name", help="default: $ZIPKIN_SERVICE_NAME")
    common.add_argument("--encoding", help="json or thrift; default: $ZIPKIN_ENCODING, else json")
    common.add_argument(
        "--wait",
        type=float,
        help="seconds to wait for Zipkin to store and show spans "
        f"(default {DEFAULT_WAIT:.0f}; trace: 0, ask once)",
    )
    check = commands.add_parser(
        "check",
        parents=[common],
        help="show the configuration, probe /health, send a span and read it back",
    )
    check.set_defaults(run=cmd_check)
    trace = commands.add_parser("trace", parents=[common], help="print a stored trace as a tree")
    trace.add_argument("trace_id", metavar="TRACE_ID")
    trace.set_defaults(run=cmd_trace)
    send = commands.add_parser(
        "send", parents=[common], help="send a small test trace and print its UI link"
    )
    send.set_defaults(run=cmd_send)
    return parser


def main(argv: Optional[Sequence[str]] = None, out: TextIO = sys.stdout) -> int:
    args = build_parser().parse_args(argv)
    if args.wait is None:
        args.wait = 0.0 if args.command == "trace" else DEFAULT_WAIT
    try:
        return int(args.run(args, out))
    except (TypeError, ValueError) as error:  # a bad option, named by config.py
        print(f"configuration error: {error}", file=out)
        return USAGE


def run() -> None:
    """The console script's entry point."""
    sys.exit(main())
