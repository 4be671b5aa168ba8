"""Bytes on the wire are frozen: 500 seeded random spans through every encoder.

The hashes were taken from the encoders before their fast paths moved into
``zipkin_tracer.model``, then retaken once when the ``error`` tag gained its kind
prefix (one of the 500 spans changed, in that tag only); proto3's when it was
added, equal to protobuf's own serialisation. Any change to the bytes of any
span, in any encoding, with the fast path on or off, fails here.
"""

from __future__ import annotations

import hashlib
from typing import Callable, Dict, List

import pytest

from tests.support.random_spans import random_spans
from tests.support.zipkin_proto import serialize
from zipkin_tracer.encoding.json_v2 import JsonV2Encoder, _dumps, model_to_dict, model_to_json
from zipkin_tracer.encoding.proto3 import Proto3Encoder, write_span
from zipkin_tracer.encoding.thrift_v1 import ThriftV1Encoder
from zipkin_tracer.model import to_model
from zipkin_tracer.span import ZipkinSpan

GOLDEN: Dict[str, str] = {
    "json_fast": "a7366fce82878f1715c5ba40c742b365ba88e710f68d2f1625ea0b46abe56519",
    "json_model": "a7366fce82878f1715c5ba40c742b365ba88e710f68d2f1625ea0b46abe56519",
    "json_reference": "a7366fce82878f1715c5ba40c742b365ba88e710f68d2f1625ea0b46abe56519",
    "thrift_fast": "053e4372d5edc9c7d4c140942a934bcfaf7c70b50cc0c3da7268fc5ff4db3e37",
    "thrift_reference": "053e4372d5edc9c7d4c140942a934bcfaf7c70b50cc0c3da7268fc5ff4db3e37",
    "proto3_fast": "4caacbe83b212f1c484a62ea851e2054465a695afad6d22abb9a23c92227d5de",
    "proto3_model": "4caacbe83b212f1c484a62ea851e2054465a695afad6d22abb9a23c92227d5de",
    "proto3_reference": "4caacbe83b212f1c484a62ea851e2054465a695afad6d22abb9a23c92227d5de",
}


def _modes() -> Dict[str, Callable[[ZipkinSpan], bytes]]:
    json_fast = JsonV2Encoder()
    thrift_fast = ThriftV1Encoder(fast=True)
    thrift_reference = ThriftV1Encoder(fast=False)
    cache: Dict[object, str] = {}
    return {
        "json_fast": json_fast.encode_span,
        "json_model": lambda span: model_to_json(to_model(span), cache).encode("ascii"),
        "json_reference": lambda span: _dumps(model_to_dict(to_model(span))).encode("ascii"),
        "thrift_fast": thrift_fast.encode_span,
        "thrift_reference": thrift_reference.encode_span,
        "proto3_fast": Proto3Encoder().encode_span,
        "proto3_model": lambda span: write_span(to_model(span)),
        "proto3_reference": lambda span: serialize(to_model(span)),  # protobuf itself
    }


def digest(encode: Callable[[ZipkinSpan], bytes], spans: List[ZipkinSpan]) -> str:
    hasher = hashlib.sha256()
    for span in spans:
        data = encode(span)
        hasher.update(len(data).to_bytes(4, "big"))
        hasher.update(data)
    return hasher.hexdigest()


def current() -> Dict[str, str]:
    spans = random_spans()
    return {name: digest(encode, spans) for name, encode in _modes().items()}


@pytest.mark.parametrize("mode", sorted(GOLDEN))
def test_bytes_match_the_golden_hash(mode: str) -> None:
    spans = random_spans()
    assert digest(_modes()[mode], spans) == GOLDEN[mode]


def test_every_mode_has_a_hash() -> None:
    assert set(GOLDEN) == set(_modes())


def test_fast_and_reference_paths_agree_span_by_span() -> None:
    modes = _modes()
    for span in random_spans():
        assert modes["json_fast"](span) == modes["json_reference"](span)
        assert modes["thrift_fast"](span) == modes["thrift_reference"](span)
        assert modes["proto3_fast"](span) == modes["proto3_reference"](span)


if __name__ == "__main__":  # python -m tests.zipkin_tracer.encoding.test_golden
    for name, value in current().items():
        print(f'    "{name}": "{value}",')
