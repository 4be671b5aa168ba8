"""The API harness run on the no-op Tracer (baggage and scope checks disabled)."""

from __future__ import annotations

import unittest

from opentracing import Tracer
from opentracing.harness.api_check import APICompatibilityCheckMixin


class TestNoopTracerAPI(APICompatibilityCheckMixin, unittest.TestCase):
    def tracer(self) -> Tracer:
        return Tracer()

    def check_baggage_values(self) -> bool:
        return False

    def check_scope_manager(self) -> bool:
        return False
