"""Assertion helpers for the harness mixins.

They raise ``AssertionError`` like ``assert`` does, but survive ``python -O`` and
do not need ``unittest.TestCase``, so a mixin also works on a bare instance.
"""

from __future__ import annotations

from typing import Any


def check(condition: object, message: str) -> None:
    """Fail with ``message`` unless ``condition`` is true."""
    if not condition:
        raise AssertionError(message)


def check_calls(mock_fn: Any, expected: int, what: str) -> None:
    """Fail unless ``mock_fn`` was called exactly ``expected`` times."""
    actual = mock_fn.call_count
    check(actual == expected, f"{what}: expected {expected} call(s), got {actual}")
