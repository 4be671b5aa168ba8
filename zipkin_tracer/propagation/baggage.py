"""W3C Baggage: the ``baggage`` header <-> OpenTracing baggage items.

Extract: headers sent more than once are joined in order; each member is
``key=value`` with optional ``;property`` parts, spaces and tabs around
each part ignored. Keys are HTTP tokens, values percent-decoded UTF-8 (an
undecodable byte becomes U+FFFD). A member that breaks the grammar is left
out and the others are kept (the spec allows removing such entries); so are
members past the limits below. The first of duplicate keys wins, as it does
between formats. Properties are opaque to us: they are kept with their
member and written again for as long as the item keeps the value they came
with; a changed value travels without them.

Inject: items whose key is not a token, or whose value cannot be encoded
(a lone surrogate), are left out; so are members that would break the
limits. Each is counted in the tracer's metrics and the first of each kind
is logged.

Limits (the original W3C figures; the current spec asks for at least 64
members and 8192 bytes): at most 180 members, 4096 bytes a member, 8192
bytes a header. Past them whole members are left out, never cut.
"""

from __future__ import annotations

import logging
import re
from typing import Dict, List, Optional, Tuple
from urllib.parse import quote, unquote

from zipkin_tracer.context import ZipkinSpanContext
from zipkin_tracer.propagation.carrier import DropCounter, Fields
from zipkin_tracer.propagation.tracecontext import W3CState

logger = logging.getLogger(__name__)

BAGGAGE = "baggage"
MAX_MEMBERS = 180
MAX_MEMBER_BYTES = 4096
MAX_HEADER_BYTES = 8192

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
_VALUE = re.compile(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*\Z")
#: "+" is encoded although the spec allows it bare: OpenTelemetry Python
#: decodes values as form data, where "+" is a space.
_VALUE_SAFE = "!#$&'()*-./:<=>?@[]^_`{|}~"
_OWS = " \t"

Properties = Dict[str, Tuple[str, str]]


def _parse_member(member: str) -> Optional[Tuple[str, str, str]]:
    """``(key, value, ";properties")`` or None when the member breaks the grammar."""
    head, _, tail = member.partition(";")
    key, sep, raw = head.partition("=")
    key, raw = key.strip(_OWS), raw.strip(_OWS)
    if not sep or _TOKEN.match(key) is None or _VALUE.match(raw) is None:
        return None
    properties = []
    if tail:
        for part in tail.split(";"):
            name, eq, value = part.partition("=")
            name, value = name.strip(_OWS), value.strip(_OWS)
            if _TOKEN.match(name) is None or (eq and _VALUE.match(value) is None):
                return None
            properties.append(f"{name}={value}" if eq else name)
    props = "".join(";" + p for p in properties)
    return key, unquote(raw, errors="replace"), props


def parse(values: List[str]) -> Tuple[Dict[str, str], Properties]:
    """Baggage items and their properties from the header's values."""
    items: Dict[str, str] = {}
    properties: Properties = {}
    total = 0
    for value in values:
        for member in value.split(","):
            member = member.strip(_OWS)
            if not member:
                continue
            size = len(member.encode("utf-8", "surrogatepass"))
            if (
                len(items) >= MAX_MEMBERS
                or size > MAX_MEMBER_BYTES
                or total + size > MAX_HEADER_BYTES
            ):
                logger.debug("left out a baggage member past the limits")
                continue
            parsed = _parse_member(member)
            if parsed is None:
                logger.debug("left out a malformed baggage member %r", member[:80])
                continue
            key, item, props = parsed
            if key in items:
                continue
            total += size + 1
            items[key] = item
            if props:
                properties[key] = (item, props)
    return items, properties


class BaggagePropagator:
    """The W3C ``baggage`` header; carries baggage only, never a trace context."""

    __slots__ = ("drops",)
    fields = (BAGGAGE,)

    def __init__(self, drops: Optional[DropCounter] = None) -> None:
        self.drops = drops or DropCounter()

    def headers(self, context: ZipkinSpanContext) -> Dict[str, str]:
        baggage = context.baggage
        if not baggage:
            return {}
        state = context.w3c
        properties = state.baggage_properties if state is not None else None
        members: List[str] = []
        total = 0
        for key, item in baggage.items():
            try:
                key, item = str(key), str(item)
                encoded = quote(item, safe=_VALUE_SAFE)
            except Exception as error:  # UnicodeEncodeError, a failing __str__, ...
                self.drops.drop("baggage_unencodable", f"{type(error).__name__} in baggage")
                continue
            if _TOKEN.match(key) is None:
                self.drops.drop("baggage_bad_key", "a key that is not an HTTP token")
                continue
            member = f"{key}={encoded}"
            if properties and key in properties and properties[key][0] == item:
                member += properties[key][1]
            size = len(member)  # ASCII by now
            if size > MAX_MEMBER_BYTES:
                self.drops.drop("baggage_over_limit", f"a member over {MAX_MEMBER_BYTES} bytes")
                continue
            if len(members) >= MAX_MEMBERS or total + size + bool(members) > MAX_HEADER_BYTES:
                self.drops.drop(
                    "baggage_over_limit",
                    f"members past {MAX_MEMBERS} or {MAX_HEADER_BYTES} header bytes",
                )
                continue
            total += size + bool(members)
            members.append(member)
        return {BAGGAGE: ",".join(members)} if members else {}

    def extract_fields(self, fields: Fields) -> Optional[ZipkinSpanContext]:
        values = fields.get(BAGGAGE)
        if not values:
            return None
        items, properties = parse(values)
        if not items:
            return None
        context = ZipkinSpanContext(0, 0, None, None, False, items, True)
        if properties:
            context.w3c = W3CState(baggage_properties=properties)
        return context
