"""The OpenTracing API and scope compatibility suites."""

from __future__ import annotations

from typing import Any, Iterator, Optional

import pytest

from opentracing import ScopeManager
from opentracing.harness.api_check import APICompatibilityCheckMixin
from opentracing.harness.scope_check import ScopeCompatibilityCheckMixin
from opentracing.scope_managers.contextvars import no_parent_scope
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
    @pytest.fixture(autouse=True)
    def _own_context(self) -> Iterator[None]:
        """Some checks leave a scope active on purpose (a close out of order);
        the default manager keeps it in one context variable for all its
        instances, so each check starts and ends with none active."""
        with no_parent_scope():
            yield

    def scope_manager(self) -> ScopeManager:
        return make_tracer().scope_manager
