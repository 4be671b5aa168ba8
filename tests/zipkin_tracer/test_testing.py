from __future__ import annotations

from zipkin_tracer import ZipkinTracer
from zipkin_tracer.testing import InMemoryReporter


def test_in_memory_reporter() -> None:
    reporter = InMemoryReporter()
    tracer = ZipkinTracer("svc", local_ip="127.0.0.1", reporter=reporter)
    with tracer.start_active_span("work", tags={"span.kind": "client"}):
        pass
    (span,) = reporter.spans
    assert span.finished
    (view,) = reporter.json_spans()
    assert view["name"] == "work" and view["kind"] == "CLIENT"
    assert view["localEndpoint"] == {"serviceName": "svc", "ipv4": "127.0.0.1"}
    assert reporter.metrics == {"spans": 1}
    assert tracer.flush() is True and tracer.close() is True and reporter.closed
    reporter.clear()
    assert reporter.spans == []
