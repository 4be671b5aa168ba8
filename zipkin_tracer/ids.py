"""Trace and span identifiers: random generation and lower-hex formatting.

A trace ID is one ``int`` of 64 or 128 bits (a 128-bit ID whose upper half is
zero *is* the 64-bit ID, as Zipkin and B3 treat it); span IDs are 64-bit.
Zero is never a valid ID.
"""

from __future__ import annotations

import random

MASK_64 = (1 << 64) - 1

_getrandbits = random.getrandbits


def generate_span_id() -> int:
    """A random, non-zero 64-bit ID."""
    value = _getrandbits(64)
    while not value:
        value = _getrandbits(64)
    return value


def generate_trace_id(use_128bit: bool = False) -> int:
    """A random trace ID; a 128-bit one always has a non-zero upper half."""
    if use_128bit:
        return (generate_span_id() << 64) | _getrandbits(64)
    return generate_span_id()


def format_trace_id(trace_id: int) -> str:
    """16 lower-hex characters for a 64-bit ID, 32 for a 128-bit one."""
    if trace_id > MASK_64:
        return f"{trace_id:032x}"
    return f"{trace_id:016x}"


def format_span_id(span_id: int) -> str:
    """16 lower-hex characters."""
    return f"{span_id:016x}"


def trace_id_high(trace_id: int) -> int:
    """The upper 64 bits of a trace ID (0 for a 64-bit one)."""
    return trace_id >> 64


def trace_id_low(trace_id: int) -> int:
    """The lower 64 bits of a trace ID."""
    return trace_id & MASK_64


def to_signed64(value: int) -> int:
    """An unsigned 64-bit value as the signed i64 Thrift carries."""
    value &= MASK_64
    return value - (1 << 64) if value >= (1 << 63) else value


def from_signed64(value: int) -> int:
    """A signed i64 back to its unsigned 64-bit value."""
    return value & MASK_64
