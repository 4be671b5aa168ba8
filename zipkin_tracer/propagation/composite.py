"""Several formats at once: inject writes every listed one, extract takes the first valid.

Names are OpenTelemetry's ``OTEL_PROPAGATORS`` names: ``tracecontext``,
``baggage``, ``b3`` (B3 single), ``b3multi``, ``jaeger`` and ``none``. Both
B3 names read either B3 form on extract, as before.

Extract: every listed format reads the carrier; the first one (in list order)
with valid IDs wins. A later format that carries the *same* trace and span
IDs adds what the winner lacks (B3's debug flag and parent ID, W3C's
``tracestate`` and random flag); one that disagrees is ignored, its
``tracestate`` with it. Baggage is the union of every format's, earlier
formats winning a key; keys are compared without case across formats (B3
and jaeger lower-case them, W3C does not). With no IDs anywhere, the first sampling decision
(``b3: 0``) and the baggage still make a context, as B3 alone did.

Inject first removes, in any case, the trace headers of every known format
already in the carrier (a forwarded stale ``b3`` or ``traceparent`` beside
fresh ones would mislead the receiver into the wrong parent), then writes
each listed format.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple, Union

from opentracing import InvalidCarrierException
from zipkin_tracer import defaults
from zipkin_tracer.context import ZipkinSpanContext
from zipkin_tracer.propagation.b3 import B3_KEYS, B3Propagator
from zipkin_tracer.propagation.baggage import BaggagePropagator, Properties
from zipkin_tracer.propagation.carrier import DropCounter, read_fields, remove_keys
from zipkin_tracer.propagation.jaeger import TRACE_HEADER, JaegerPropagator
from zipkin_tracer.propagation.tracecontext import FIELDS as W3C_FIELDS
from zipkin_tracer.propagation.tracecontext import TraceContextPropagator, W3CState

logger = logging.getLogger(__name__)

NAMES = ("tracecontext", "baggage", "b3", "b3multi", "jaeger", "none")
#: Unambiguous spellings accepted anywhere.
ALIASES = {"b3-single": "b3", "b3single": "b3", "b3-multi": "b3multi"}
#: Joins B3 and W3C fleets: reads B3 (both forms), traceparent and baggage;
#: writes B3 multi, traceparent (+ tracestate) and baggage. W3C first: it
#: wins when the two disagree (see README, Propagation).
DEFAULT = defaults.PROPAGATION
#: The whole value "b3" of our own option keeps its meaning from before lists.
LEGACY = {"b3": ("b3multi",), "b3-single": ("b3",)}
_TRACE_HEADERS = frozenset(B3_KEYS) | frozenset(W3C_FIELDS) | {TRACE_HEADER}


def parse_names(value: Union[str, Sequence[str]], legacy: bool) -> Tuple[str, ...]:
    """Validated propagator names, duplicates removed, order kept.

    ``legacy`` is True for our own option and ``ZIPKIN_PROPAGATION``: there
    the whole value ``"b3"`` means B3 multi (its meaning before lists).
    Raises ``ValueError`` naming what is allowed.
    """
    if isinstance(value, str):
        text = value.strip().lower()
        if legacy and text in LEGACY:
            return LEGACY[text]
        parts = [part.strip() for part in text.split(",")]
    elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        parts = [v.strip().lower() for v in value]
    else:
        raise ValueError(f"must be a comma-separated list of {', '.join(NAMES)}; got {value!r}")
    names: List[str] = []
    for part in parts:
        name = ALIASES.get(part, part)
        if name not in NAMES:
            raise ValueError(
                f"must be a comma-separated list of {', '.join(NAMES)}; "
                f"{part!r} is not one (in {value!r})"
            )
        if name not in names:
            names.append(name)
    if not names:
        raise ValueError(f"must name at least one of {', '.join(NAMES)}; got {value!r}")
    if "none" in names and len(names) > 1:
        raise ValueError(f"'none' cannot be combined with other propagators; got {value!r}")
    return tuple(names)


def _build(name: str, http: bool, drops: DropCounter) -> Any:
    if name == "tracecontext":
        return TraceContextPropagator()
    if name == "baggage":
        return BaggagePropagator(drops)
    if name == "jaeger":
        return JaegerPropagator(drops)
    return B3Propagator(single=name == "b3", http=http, drops=drops)


class CompositePropagator:
    """The listed formats for ``HTTP_HEADERS`` (``http=True``) or ``TEXT_MAP``."""

    def __init__(
        self,
        names: Sequence[str] = DEFAULT,
        http: bool = True,
        drops: Optional[DropCounter] = None,
    ) -> None:
        self.names = tuple(names)
        self.drops = drops or DropCounter()
        self._parts = [_build(n, http, self.drops) for n in self.names if n != "none"]
        stale = set()
        for part in self._parts:
            stale.update(part.fields)
        if any(not isinstance(part, BaggagePropagator) for part in self._parts):
            stale |= _TRACE_HEADERS
        self._stale = frozenset(stale)

    def headers(self, context: ZipkinSpanContext) -> Dict[str, str]:
        """What ``inject`` writes, as a new dict (never raises)."""
        out: Dict[str, str] = {}
        for part in self._parts:
            try:
                out.update(part.headers(context))
            except Exception as error:  # a context built by hand with odd values
                self.drops.drop("inject_failed", f"{type(part).__name__}: {error!r}")
        return out

    def inject(self, context: ZipkinSpanContext, carrier: Any) -> None:
        if not hasattr(carrier, "__setitem__"):
            raise InvalidCarrierException(
                f"carrier must be a mutable mapping (e.g. a dict), got {type(carrier).__name__}"
            )
        if not self._parts:
            return
        entries = self.headers(context)
        try:
            remove_keys(carrier, self._stale)
            for key, value in entries.items():
                carrier[key] = value
        except Exception as error:
            raise InvalidCarrierException(f"could not write to the carrier: {error!r}")

    def extract(self, carrier: Any) -> Optional[ZipkinSpanContext]:
        fields = read_fields(carrier)
        if not self._parts:
            return None
        found: List[ZipkinSpanContext] = []
        for part in self._parts:
            try:
                context = part.extract_fields(fields)
            except Exception:  # a parser bug must never reach the application
                logger.debug("%s failed to extract; ignored", type(part).__name__, exc_info=True)
                continue
            if context is not None:
                found.append(context)
        return merge(found)


def merge(found: List[ZipkinSpanContext]) -> Optional[ZipkinSpanContext]:
    """One context from what each format extracted, in list order (see the module doc)."""
    if len(found) < 2:
        return found[0] if found else None
    baggage: Dict[str, str] = {}
    properties: Properties = {}
    folded: Set[str] = set()  # B3 and jaeger lower-case keys: "UserId" and "userid" are one
    for context in found:
        if context.baggage:
            added = [k for k in context.baggage if k.lower() not in folded]
            for key in added:
                baggage.setdefault(key, context.baggage[key])
            folded.update(k.lower() for k in added)
        carried = context.w3c
        if carried is not None and carried.baggage_properties:
            for key, entry in carried.baggage_properties.items():
                properties.setdefault(key, entry)
    winner = next((c for c in found if c.trace_id), None)
    if winner is None:
        decision = next((c for c in found if c.sampled is not None or c.debug), None)
        if decision is None and not baggage:
            return None
        sampled, debug = (decision.sampled, decision.debug) if decision else (None, False)
        context = ZipkinSpanContext(0, 0, None, sampled, debug, baggage or None, True)
        if properties:
            context.w3c = W3CState(baggage_properties=properties)
        return context
    agreeing = [c for c in found if c.trace_id == winner.trace_id and c.span_id == winner.span_id]
    parent_id, sampled, debug = winner.parent_id, winner.sampled, winner.debug
    for context in agreeing:
        debug = debug or context.debug
        if parent_id is None:
            parent_id = context.parent_id
        if sampled is None:
            sampled = context.sampled
    w3c = next((c.w3c for c in agreeing if c.w3c is not None), None)
    join = any(c.w3c is None for c in agreeing)
    state: Optional[W3CState] = None
    if w3c is not None or properties:
        state = W3CState(
            tracestate=w3c.tracestate if w3c else "",
            random=w3c.random if w3c else False,
            join=join,
            baggage_properties=properties or None,
        )
    context = ZipkinSpanContext(
        winner.trace_id,
        winner.span_id,
        parent_id,
        True if debug else sampled,
        debug,
        baggage or None,
        True,
    )
    context.w3c = state
    return context
