"""Reading and writing header carriers, shared by every format.

A carrier is read once into :class:`Fields`: lower-cased names mapped to
their values in carrier order. A value may be ``str``, ``bytes`` (read as
Latin-1, as HTTP servers do) or a list/tuple of those (a header sent more
than once); anything else, nested lists included, is ignored, so hostile
carriers (self-referencing lists, odd objects) never raise.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Dict, Iterable, List, Optional

from opentracing import InvalidCarrierException

logger = logging.getLogger(__name__)

Fields = Dict[str, List[str]]


def _text(value: Any) -> Optional[str]:
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("latin-1")
    return None


def read_fields(carrier: Any) -> Fields:
    """Every entry of a mapping carrier, by lower-cased name, values in order."""
    try:
        items = carrier.items()
    except Exception:
        raise InvalidCarrierException(
            f"carrier must be a mapping of header names to values, got {type(carrier).__name__}"
        )
    fields: Fields = {}
    try:
        for key, value in items:
            if type(key) is not str:
                key = _text(key)
                if key is None:
                    continue
            if type(value) is str:
                texts = [value]
            elif isinstance(value, (list, tuple)):
                texts = [t for t in map(_text, value) if t is not None]
            else:
                text = _text(value)
                texts = [] if text is None else [text]
            if texts:
                name = key.lower()
                seen = fields.get(name)
                if seen is None:
                    fields[name] = texts
                else:
                    seen.extend(texts)
    except Exception:
        raise InvalidCarrierException(
            "carrier items must be (name, value) pairs; iterating it failed"
        )
    return fields


def first(fields: Fields, name: str) -> Optional[str]:
    values = fields.get(name)
    return values[0] if values else None


def remove_keys(carrier: Any, names: Iterable[str]) -> None:
    """Delete entries whose lower-cased name is in ``names`` (any case)."""
    keys = getattr(carrier, "keys", None)
    if keys is None or not hasattr(carrier, "__delitem__"):
        return
    wanted = frozenset(names)
    for key in [k for k in keys() if isinstance(k, str) and k.lower() in wanted]:
        del carrier[key]


class DropCounter:
    """Counts what inject or extract had to leave out, by reason; logs the first of each."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: Dict[str, int] = {}

    def drop(self, reason: str, detail: str) -> None:
        with self._lock:
            seen = self.counts.get(reason, 0)
            self.counts[reason] = seen + 1
        if not seen:
            logger.warning(
                "propagation left out %s (%s); later ones are only counted", reason, detail
            )

    def snapshot(self) -> Dict[str, int]:
        with self._lock:
            return dict(self.counts)
