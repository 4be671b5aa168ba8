"""W3C Trace Context: ``traceparent`` and ``tracestate`` (Level 1, plus Level 2's random flag).

Extract follows the spec's parsing rules; anything they reject gives "no
context" (never an exception), and then ``tracestate`` is not read at all:

* ``traceparent`` is ``version-traceid-parentid-flags`` in lower-case hex,
  surrounding spaces and tabs ignored; exactly one header (two values, as a
  list or joined by a comma, are rejected);
* version ``00`` is exactly 55 characters; a higher version (not ``ff``)
  is read by its first four fields when the flags end the value or are
  followed by ``-``; all-zero trace or parent IDs are invalid;
* the sampled flag is the caller's decision (``00`` = not sampled, never
  deferred); the random flag is kept on every span of the trace;
* ``tracestate`` members are checked against the spec's key and value
  grammar; one bad member, or more than 32, drops the whole header (the
  test suite's reading); empty members are skipped; headers sent more than
  once are joined in order; past 512 characters whole members are removed,
  those over 128 characters first, then from the end. What is kept is
  passed on unchanged (no entry of our own is added).

Inject writes version ``00``; a 64-bit trace ID is left-padded to 32 hex.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Dict, List, Optional, Tuple

from zipkin_tracer.context import ZipkinSpanContext
from zipkin_tracer.propagation.carrier import Fields

logger = logging.getLogger(__name__)

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
FIELDS = (TRACEPARENT, TRACESTATE)

FLAG_SAMPLED = 0x01
FLAG_RANDOM = 0x02
MAX_MEMBERS = 32
MAX_TRACESTATE = 512
LONG_MEMBER = 128

_OWS = " \t"
_HEX = "0123456789abcdef"
_V00 = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})\Z")
_FUTURE = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-|\Z)")
_MEMBER = re.compile(
    r"[0-9a-z][_0-9a-z\-*/@]{0,255}=[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]\Z"
)


class W3CState:
    """What a context keeps for W3C: ``tracestate``, the random flag, and join permission.

    ``join`` is False for a context read from ``traceparent`` alone: W3C
    gives every hop its own span ID, so a server must not share the
    caller's. ``baggage_properties`` keeps W3C baggage properties by key,
    with the value they belong to, so they travel on while the value does.
    Immutable; shared by every span of a trace in this process.
    """

    __slots__ = ("tracestate", "random", "join", "baggage_properties")

    def __init__(
        self,
        tracestate: str = "",
        random: bool = False,
        join: bool = True,
        baggage_properties: Optional[Dict[str, Tuple[str, str]]] = None,
    ) -> None:
        self.tracestate = tracestate
        self.random = random
        self.join = join
        self.baggage_properties = baggage_properties

    def replace(self, **changes: Any) -> W3CState:
        values = {name: getattr(self, name) for name in self.__slots__}
        values.update(changes)
        return W3CState(**values)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, W3CState):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self.__slots__)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"W3CState(tracestate={self.tracestate!r}, random={self.random}, join={self.join})"


#: The state of a trace this tracer starts: its trace IDs are random in at least
#: the right-most 7 bytes (see zipkin_tracer.ids), so the random flag is set.
ROOT_STATE = W3CState(random=True)


def parse_traceparent(value: str) -> Optional[Tuple[int, int, int]]:
    """``(trace_id, parent_id, flags)``, or None where the spec says to restart the trace."""
    value = value.strip(_OWS)
    match = _V00.match(value)
    if match is None:
        if value[:2] == "00" or value[:2] == "ff":
            return None
        match = _FUTURE.match(value)
        if match is None:
            return None
        version, trace_hex, parent_hex, flags_hex = match.groups()
    else:
        trace_hex, parent_hex, flags_hex = match.groups()
    trace_id = int(trace_hex, 16)
    parent_id = int(parent_hex, 16)
    if not trace_id or not parent_id:
        return None
    return trace_id, parent_id, int(flags_hex, 16)


def parse_tracestate(values: List[str]) -> str:
    """The ``tracestate`` to pass on ('' when absent or invalid), bounded as the spec allows."""
    members: List[str] = []
    for value in values:
        for member in value.split(","):  # then strip: a regex split is quadratic on blank runs
            member = member.strip(_OWS)
            if not member:
                continue
            if _MEMBER.match(member) is None:
                logger.debug("dropped tracestate: bad member %r", member[:80])
                return ""
            members.append(member)
            if len(members) > MAX_MEMBERS:
                logger.debug("dropped tracestate: more than %d members", MAX_MEMBERS)
                return ""
    return truncate_tracestate(members)


def truncate_tracestate(members: List[str]) -> str:
    """Whole members only: over-long ones go first, then from the right."""
    if len(",".join(members)) <= MAX_TRACESTATE:
        return ",".join(members)
    kept = [m for m in members if len(m) <= LONG_MEMBER]
    while kept and len(",".join(kept)) > MAX_TRACESTATE:
        kept.pop()
    return ",".join(kept)


def format_traceparent(context: ZipkinSpanContext) -> str:
    """Version 00; the sampled flag from the decision (deferred writes 0)."""
    flags = FLAG_SAMPLED if (context.sampled or context.debug) else 0
    state = context.w3c
    if state is not None and state.random:
        flags |= FLAG_RANDOM
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{flags:02x}"


class TraceContextPropagator:
    """``traceparent`` / ``tracestate`` for ``HTTP_HEADERS`` and ``TEXT_MAP`` (same names)."""

    __slots__ = ()
    fields = FIELDS

    def headers(self, context: ZipkinSpanContext) -> Dict[str, str]:
        if not context.trace_id or not context.span_id:
            return {}
        out = {TRACEPARENT: format_traceparent(context)}
        state = context.w3c
        if state is not None and state.tracestate:
            out[TRACESTATE] = state.tracestate
        return out

    def extract_fields(self, fields: Fields) -> Optional[ZipkinSpanContext]:
        values = fields.get(TRACEPARENT)
        if not values:
            return None
        if len(values) != 1:
            logger.debug("ignored %d traceparent headers (one is allowed)", len(values))
            return None
        parsed = parse_traceparent(values[0])
        if parsed is None:
            logger.debug("ignored invalid traceparent %r", values[0][:80])
            return None
        trace_id, parent_id, flags = parsed
        state = W3CState(
            tracestate=parse_tracestate(fields.get(TRACESTATE, [])),
            random=bool(flags & FLAG_RANDOM),
            join=False,
        )
        context = ZipkinSpanContext(
            trace_id, parent_id, None, bool(flags & FLAG_SAMPLED), False, None, True
        )
        context.w3c = state
        return context
