"""Seeded random finished spans: the same 500 spans on every run, every Python.

They cover what the encoders treat differently: plain and odd tag keys and
values, every special tag, logs with and without ``event``, 64- and 128-bit
IDs, shared server spans, debug, and a few local endpoints.
"""

from __future__ import annotations

import random
from typing import Any, Dict, List, Tuple

from zipkin_tracer import ZipkinTracer
from zipkin_tracer.span import ZipkinSpan, ZipkinSpanContext
from zipkin_tracer.testing import InMemoryReporter


class _Text(str):
    """A str subclass: the encoders must treat it exactly as a str."""


_WORDS = ["", "get", "GET /x", 'é\u2028"\\', "\ud800x", "x" * 40, "naïve", "日本", "a b=c"]
#: One of each tag the mapping treats specially (and a few bad values).
SPECIAL_TAGS = [
    ("span.kind", "client"),
    ("span.kind", "server"),
    ("span.kind", "producer"),
    ("span.kind", "consumer"),
    ("span.kind", "other"),
    ("peer.service", "Backend"),
    ("peer.ipv4", "172.19.0.2"),
    ("peer.ipv4", 16909060),
    ("peer.ipv4", "nope"),
    ("peer.ipv6", "2001:db8::1"),
    ("peer.port", 9000),
    ("peer.port", 70000),
    ("peer.hostname", "10.0.0.1"),
    ("peer.hostname", "db.local"),
    ("error", True),
    ("error", False),
    ("error", "boom"),
    ("error", 0),
    ("sampling.priority", 1),
]


def tracers() -> List[ZipkinTracer]:
    """Tracers with different local endpoints (and a short tag limit)."""
    return [
        ZipkinTracer("frontend", local_ip="192.168.99.1", reporter=InMemoryReporter()),
        ZipkinTracer(
            "Backend", local_ip="2001:db8::5", local_port=8080, reporter=InMemoryReporter()
        ),
        ZipkinTracer(
            "short",
            local_ip="10.1.2.3",
            max_tag_value_length=8,
            reporter=InMemoryReporter(),
        ),
    ]


def _text(rng: random.Random) -> str:
    word = rng.choice(_WORDS)
    roll = rng.random()
    if roll < 0.1:
        return _Text(word)
    if roll < 0.3:
        return word + str(rng.randrange(1000))
    return word


def _value(rng: random.Random) -> Any:
    kind = rng.randrange(9)
    if kind == 0:
        return rng.randrange(-(2**70), 2**70)
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return None
    if kind == 3:
        return rng.choice([0.5, -1.25, 1e300, float("inf"), 3.0])
    if kind == 4:
        return bytes([rng.randrange(256) for _ in range(rng.randrange(4))])
    if kind == 5:
        return ValueError(_text(rng))
    if kind == 6:
        return KeyError
    return _text(rng)


def _key(rng: random.Random) -> Any:
    if rng.random() < 0.05:
        return rng.randrange(100)  # not a str: the full mapping
    return _text(rng)


def _fields(rng: random.Random) -> Dict[Any, Any]:
    roll = rng.random()
    if roll < 0.3:
        return {"event": _value(rng) if rng.random() < 0.3 else _text(rng)}
    if roll < 0.4:
        return {"event": "error", "message": _text(rng), "error.object": ValueError("e")}
    if roll < 0.45:
        return {}
    return {_key(rng): _value(rng) for _ in range(rng.randrange(1, 4))}


def random_span(rng: random.Random, tracer: ZipkinTracer) -> ZipkinSpan:
    """One finished span, every field drawn from ``rng``."""
    high = rng.random() < 0.3
    trace_id = rng.randrange(1, 2**128 if high else 2**64)
    span_id = rng.randrange(1, 2**64)
    parent_id = rng.randrange(1, 2**64) if rng.random() < 0.7 else None
    context = ZipkinSpanContext(trace_id, span_id, parent_id, True, rng.random() < 0.1)
    tags: Dict[Any, Any] = {}
    if rng.random() < 0.8:
        for _ in range(rng.randrange(6)):
            tags[_key(rng)] = _value(rng)
    if rng.random() < 0.6:
        for _ in range(rng.randrange(1, 3)):
            key, value = rng.choice(SPECIAL_TAGS)
            tags[key] = value
    name: Any = _text(rng) if rng.random() < 0.97 else 42
    span = ZipkinSpan(tracer, context, name, None, None, rng.random() < 0.2)
    span.tags.update(tags)
    start_us = rng.randrange(0, 2**52)
    logs: List[Tuple[int, Dict[Any, Any]]] = []
    for _ in range(rng.randrange(4) if rng.random() < 0.6 else 0):
        logs.append((start_us + rng.randrange(10**6), _fields(rng)))
    span.logs.extend(logs)
    span.start_us = start_us
    span.duration_us = rng.randrange(1, 2**40)
    span.finished = True
    return span


def random_spans(count: int = 500, seed: int = 20260101) -> List[ZipkinSpan]:
    """``count`` spans from a fixed seed, spread over :func:`tracers`."""
    rng = random.Random(seed)
    pool = tracers()
    return [random_span(rng, pool[i % len(pool)]) for i in range(count)]
