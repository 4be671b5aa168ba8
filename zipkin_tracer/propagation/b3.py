"""B3 propagation for ``Format.HTTP_HEADERS`` and ``Format.TEXT_MAP``.

Extract (follows Brave):

* header names are matched case-insensitively; for a name that appears more
  than once (in different cases) the first one seen wins;
* a ``b3`` single header wins when it parses; when it does not, the
  ``X-B3-*`` headers are tried;
* single format is strict: 16/32 lower-hex trace ID, 16 lower-hex span and
  parent IDs, state ``0``/``1``/``d``; an all-zero parent means "no parent";
* multi format is lenient on length (1-32 / 1-16 lower-hex characters,
  left-padded with zeros) but rejects upper case, prefixes, zero IDs,
  empty values, and a malformed ``X-B3-Sampled`` (the whole context is
  dropped); ``X-B3-Flags: 1`` means debug, other values are ignored;
* a sampling decision without IDs (``b3: 0``, ``X-B3-Sampled: 1``) yields a
  context with ``trace_id == 0`` that only carries the decision (and baggage).

Malformed B3 input never raises: it is logged at debug level and treated
as absent (``extract`` returns ``None``, or a context with only baggage),
so the next span starts a new trace. Only a carrier that is not a mapping
raises ``InvalidCarrierException``.

Inject writes the configured format (multi headers or ``b3``), always as
16/32 lower-hex; debug is written as ``X-B3-Flags: 1`` (no ``X-B3-Sampled``)
or ``-d``; a deferred decision writes no sampling field. Baggage travels as
``ot-baggage-<key>`` entries with lower-cased keys; for HTTP headers the key
and value are percent-encoded when they are not header-safe.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Dict, Optional, Tuple
from urllib.parse import quote, unquote

from opentracing import InvalidCarrierException
from zipkin_tracer.context import ZipkinSpanContext
from zipkin_tracer.ids import format_span_id, format_trace_id
from zipkin_tracer.propagation.carrier import DropCounter, Fields, read_fields, remove_keys

logger = logging.getLogger(__name__)

TRACE_ID = "x-b3-traceid"
SPAN_ID = "x-b3-spanid"
PARENT_ID = "x-b3-parentspanid"
SAMPLED = "x-b3-sampled"
FLAGS = "x-b3-flags"
SINGLE = "b3"
B3_KEYS = frozenset((TRACE_ID, SPAN_ID, PARENT_ID, SAMPLED, FLAGS, SINGLE))
BAGGAGE_PREFIX = "ot-baggage-"

_HTTP_NAMES = {
    TRACE_ID: "X-B3-TraceId",
    SPAN_ID: "X-B3-SpanId",
    PARENT_ID: "X-B3-ParentSpanId",
    SAMPLED: "X-B3-Sampled",
    FLAGS: "X-B3-Flags",
    SINGLE: "b3",
}
_TEXT_NAMES = {name: name for name in _HTTP_NAMES}

_HEX16 = re.compile(r"[0-9a-f]{16}\Z")
_HEX32 = re.compile(r"[0-9a-f]{32}\Z")
_HEX_LENIENT_16 = re.compile(r"[0-9a-f]{1,16}\Z")
_HEX_LENIENT_32 = re.compile(r"[0-9a-f]{1,32}\Z")
_KEY_SAFE = "!#$&'*+-.^_`|~"
_VALUE_SAFE = " !\"#$&'()*+,-./:;<=>?@[\\]^_`{|}~"
_MAX_SINGLE = 68


class _Reject(Exception):
    """Malformed B3: drop the context."""


def _split(fields: Fields) -> Tuple[Dict[str, str], Dict[str, str]]:
    """The first value of each B3 field and of each ``ot-baggage-`` entry."""
    b3: Dict[str, str] = {}
    baggage: Dict[str, str] = {}
    for name, values in fields.items():
        if name in _HTTP_NAMES:
            b3[name] = values[0]
        elif name.startswith(BAGGAGE_PREFIX) and len(name) > len(BAGGAGE_PREFIX):
            baggage[name[len(BAGGAGE_PREFIX) :]] = values[0]
    return b3, baggage


def _parse_id(value: str, strict: bool, trace: bool) -> int:
    if strict:
        ok = (_HEX16.match(value) or _HEX32.match(value)) if trace else _HEX16.match(value)
    else:
        ok = (_HEX_LENIENT_32 if trace else _HEX_LENIENT_16).match(value)
    if not ok:
        raise _Reject(f"bad {'trace' if trace else 'span'} ID {value!r}")
    number = int(value, 16)
    if number == 0:
        raise _Reject("zero ID")
    return number


def parse_single(value: str) -> Tuple[int, int, Optional[int], Optional[bool], bool]:
    """``(trace, span, parent, sampled, debug)``; trace 0 means flags only."""
    if not value or len(value) > _MAX_SINGLE:
        raise _Reject("empty or too long b3")
    if len(value) == 1:
        if value == "0":
            return 0, 0, None, False, False
        if value == "1":
            return 0, 0, None, True, False
        if value == "d":
            return 0, 0, None, True, True
        raise _Reject(f"bad b3 state {value!r}")
    fields = value.split("-")
    if not 2 <= len(fields) <= 4 or any(not f for f in fields):
        raise _Reject("b3 needs 2-4 non-empty fields")
    trace_id = _parse_id(fields[0], True, True)
    span_id = _parse_id(fields[1], True, False)
    sampled: Optional[bool] = None
    debug = False
    parent_field: Optional[str] = None
    if len(fields) >= 3:
        third = fields[2]
        if len(fields) == 3 and len(third) == 16:
            parent_field = third  # T-S-P: a deferred child (Brave writes this)
        elif third == "1":
            sampled = True
        elif third == "0":
            sampled = False
        elif third == "d":
            sampled, debug = True, True
        else:
            raise _Reject(f"bad b3 state {third!r}")
    if len(fields) == 4:
        parent_field = fields[3]
    parent_id: Optional[int] = None
    if parent_field is not None:
        if not _HEX16.match(parent_field):
            raise _Reject(f"bad parent ID {parent_field!r}")
        parent_id = int(parent_field, 16) or None
    return trace_id, span_id, parent_id, sampled, debug


def _parse_multi(b3: Dict[str, str]) -> Tuple[int, int, Optional[int], Optional[bool], bool]:
    sampled: Optional[bool] = None
    raw = b3.get(SAMPLED)
    if raw is not None:
        lowered = raw.strip().lower()
        if lowered in ("1", "true"):
            sampled = True
        elif lowered in ("0", "false"):
            sampled = False
        else:
            raise _Reject(f"bad X-B3-Sampled {raw!r}")
    debug = b3.get(FLAGS, "").strip() == "1"
    if debug:
        sampled = True
    trace_raw, span_raw, parent_raw = b3.get(TRACE_ID), b3.get(SPAN_ID), b3.get(PARENT_ID)
    if trace_raw is None and span_raw is None and parent_raw is None:
        return 0, 0, None, sampled, debug
    if trace_raw is None or span_raw is None:
        raise _Reject("X-B3-TraceId and X-B3-SpanId go together")
    trace_id = _parse_id(trace_raw.strip(), False, True)
    span_id = _parse_id(span_raw.strip(), False, False)
    parent_id = None if parent_raw is None else _parse_id(parent_raw.strip(), False, False)
    return trace_id, span_id, parent_id, sampled, debug


class B3Propagator:
    """B3 multi or single header inject; both extract. One per format."""

    __slots__ = ("single", "http", "drops")
    fields = tuple(sorted(B3_KEYS))

    def __init__(
        self, single: bool = False, http: bool = True, drops: Optional[DropCounter] = None
    ) -> None:
        self.single = single
        self.http = http
        self.drops = drops or DropCounter()

    # -- inject -------------------------------------------------------------

    def headers(self, context: ZipkinSpanContext) -> Dict[str, str]:
        """The entries ``inject`` would write, as a new dict.

        A baggage entry that cannot be written as a header (a lone surrogate
        cannot be UTF-8 encoded for percent-encoding) is left out and
        counted in ``drops`` as ``baggage_unencodable``.
        """
        out: Dict[str, str] = {}
        names = _HTTP_NAMES if self.http else _TEXT_NAMES
        if self.single:
            value = single_value(context)
            if value:
                out[names[SINGLE]] = value
        else:
            if context.trace_id:
                out[names[TRACE_ID]] = format_trace_id(context.trace_id)
                out[names[SPAN_ID]] = format_span_id(context.span_id)
                if context.parent_id:
                    out[names[PARENT_ID]] = format_span_id(context.parent_id)
            if context.debug:
                out[names[FLAGS]] = "1"
            elif context.sampled is not None:
                out[names[SAMPLED]] = "1" if context.sampled else "0"
        for key, value in context.baggage.items():
            try:
                key = str(key).lower()
                value = str(value)
                if self.http:
                    key = quote(key, safe=_KEY_SAFE)
                    value = quote(value, safe=_VALUE_SAFE)
            except Exception as error:  # UnicodeEncodeError, a failing __str__, ...
                self.drops.drop("baggage_unencodable", f"{type(error).__name__} in ot-baggage")
                continue
            out[BAGGAGE_PREFIX + key] = value
        return out

    def inject(self, context: ZipkinSpanContext, carrier: Any) -> None:
        if not hasattr(carrier, "__setitem__"):
            raise InvalidCarrierException(
                f"carrier must be a mutable mapping (e.g. a dict), got {type(carrier).__name__}"
            )
        entries = self.headers(context)
        try:
            remove_keys(carrier, B3_KEYS)
            for key, value in entries.items():
                carrier[key] = value
        except Exception as error:
            raise InvalidCarrierException(f"could not write to the carrier: {error!r}")

    # -- extract ------------------------------------------------------------

    def extract(self, carrier: Any) -> Optional[ZipkinSpanContext]:
        return self.extract_fields(read_fields(carrier))

    def extract_fields(self, fields: Fields) -> Optional[ZipkinSpanContext]:
        b3, raw_baggage = _split(fields)
        baggage: Optional[Dict[str, str]] = None
        if raw_baggage:
            if self.http:
                baggage = {unquote(k): unquote(v) for k, v in raw_baggage.items()}
            else:
                baggage = raw_baggage
        parsed: Optional[Tuple[int, int, Optional[int], Optional[bool], bool]] = None
        single = b3.get(SINGLE)
        if single is not None:
            try:
                parsed = parse_single(single.strip())
            except _Reject as reason:
                logger.debug("ignored b3 header %r: %s", single[:80], reason)
        if parsed is None and len(b3) - (single is not None) > 0:
            try:
                parsed = _parse_multi(b3)
            except _Reject as reason:
                logger.debug("ignored X-B3 headers: %s", reason)
        if parsed is None or (parsed[0] == 0 and parsed[3] is None and not parsed[4]):
            if baggage:
                return ZipkinSpanContext(0, 0, None, None, False, baggage, remote=True)
            return None
        trace_id, span_id, parent_id, sampled, debug = parsed
        if parent_id == span_id:
            parent_id = None
        return ZipkinSpanContext(trace_id, span_id, parent_id, sampled, debug, baggage, True)


def single_value(context: ZipkinSpanContext) -> str:
    """The ``b3`` header value of a context ('' when it carries nothing)."""
    if context.debug:
        state = "d"
    elif context.sampled is None:
        state = ""
    else:
        state = "1" if context.sampled else "0"
    if not context.trace_id:
        return state
    value = f"{format_trace_id(context.trace_id)}-{format_span_id(context.span_id)}"
    if state:
        value += "-" + state
    if context.parent_id:
        value += "-" + format_span_id(context.parent_id)
    return value
