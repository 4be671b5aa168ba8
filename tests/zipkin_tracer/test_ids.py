from __future__ import annotations

import pytest

from zipkin_tracer import ids


def test_generated_ids_are_non_zero_and_sized() -> None:
    for _ in range(200):
        assert 0 < ids.generate_span_id() < 1 << 64
        assert 0 < ids.generate_trace_id() < 1 << 64
        assert (1 << 64) <= ids.generate_trace_id(True) < 1 << 128


def test_zero_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    values = iter([0, 0, 5])
    monkeypatch.setattr(ids, "_getrandbits", lambda bits: next(values))
    assert ids.generate_span_id() == 5


def test_formatting_and_signed_conversion() -> None:
    assert ids.format_trace_id(0xABC) == "0000000000000abc"
    assert ids.format_trace_id((1 << 64) | 2) == "00000000000000010000000000000002"
    assert ids.format_span_id(1) == "0000000000000001"
    assert ids.to_signed64(0x17133D482BA4F605) == 1662740067609015813
    assert ids.to_signed64(0xB6DBB1C2B362BF51) == -5270423489115668655
    assert ids.from_signed64(-5270423489115668655) == 0xB6DBB1C2B362BF51
    assert ids.trace_id_high((7 << 64) | 9) == 7 and ids.trace_id_low((7 << 64) | 9) == 9
