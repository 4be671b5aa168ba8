"""The OpenTracing API and scope compatibility suites."""

from __future__ import annotations

from typing import Any, Optional

from opentracing.harness.api_check import APICompatibilityCheckMixin
from opentracing.harness.scope_check import ScopeCompatibilityCheckMixin
from opentracing.scope_managers import ThreadLocalScopeManager
from tests.support.tracers import make_tracer
from zipkin_tracer import ZipkinTracer


class TestZipkinTracerApi(APICompatibilityCheckMixin):
    def tracer(self) -> ZipkinTracer:
        return make_tracer()

    def is_parent(self, parent: Optional[Any], span: Any) -> bool:
        if parent is None:
            return span.context.parent_id is None
        return bool(
            span.context.parent_id == parent.context.span_id
            and span.context.trace_id == parent.context.trace_id
        )


class TestScopeManager(ScopeCompatibilityCheckMixin):
    def scope_manager(self) -> ThreadLocalScopeManager:
        return make_tracer().scope_manager  # type: ignore[no-any-return]
