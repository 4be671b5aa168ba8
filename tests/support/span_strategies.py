"""Hypothesis strategies for arbitrary finished spans, shared by the writers' tests."""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

from hypothesis import strategies as st

from tests.support.random_spans import SPECIAL_TAGS

_text = st.text(max_size=12) | st.sampled_from(["", "\ud800x", 'é\u2028"\\', "GET /x"])
_values = (
    _text
    | st.integers(-(2**70), 2**70)
    | st.booleans()
    | st.none()
    | st.floats(allow_nan=True)
    | st.binary(max_size=4)
)
_special = st.sampled_from(SPECIAL_TAGS)
_tags = st.dictionaries(_text, _values, max_size=4) | st.lists(_special, max_size=4).map(dict)
_log = st.dictionaries(
    _text | st.just("event") | st.just("message"), _values, min_size=1, max_size=3
)
_ids = st.integers(1, 2**64 - 1)
_times = st.integers(0, 2**62)


@st.composite
def spans(draw: Any) -> Dict[str, Any]:
    """Keyword arguments of ``finished_span`` for an arbitrary span."""
    tags = dict(draw(_tags))
    tags.update(draw(st.lists(_special, max_size=2)))
    logs: List[Tuple[int, Dict[str, Any]]] = [
        (draw(_times), fields) for fields in draw(st.lists(_log, max_size=3))
    ]
    return {
        "name": draw(_text),
        "trace_id": draw(_ids | st.integers(2**64, 2**128 - 1)),
        "span_id": draw(_ids),
        "parent_id": draw(st.none() | _ids),
        "tags": tags,
        "logs": logs,
        "start_us": draw(_times),
        "duration_us": draw(st.integers(1, 2**40)),
        "debug": draw(st.booleans()),
        "shared": draw(st.booleans()),
    }


#: Keyword arguments of ``make_tracer`` for a few kinds of local endpoint.
endpoints = st.sampled_from(
    [
        {"service_name": "frontend", "local_ip": "192.168.99.1", "local_port": 8080},
        {"service_name": "Ünïcode svc", "local_ip": "2001:db8::7"},
        {"service_name": "x", "local_ip": "::ffff:10.1.2.3", "local_port": 65535},
        {"service_name": "y", "local_ip": "127.0.0.1", "local_port": 1},
    ]
)
