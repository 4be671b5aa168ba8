"""``import zipkin_tracer`` loads no web framework; a missing one gets a clear error."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

FRAMEWORKS = ("httpx", "aiohttp", "starlette", "fastapi", "uvicorn", "django", "flask")


def python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60
    )


def test_the_tracer_and_the_asgi_middleware_load_no_framework() -> None:
    result = python(
        f"""
        import sys
        import zipkin_tracer
        from zipkin_tracer import ZipkinTracer
        from zipkin_tracer.testing import InMemoryReporter
        import zipkin_tracer.asgi, zipkin_tracer.wsgi, zipkin_tracer.executor_context
        ZipkinTracer("lazy", reporter=InMemoryReporter()).start_span("x").finish()
        loaded = [name for name in {FRAMEWORKS!r} if name in sys.modules]
        print(loaded)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("module", ["httpx", "aiohttp"])
def test_a_missing_framework_names_the_extra(module: str) -> None:
    result = python(
        f"""
        import sys
        sys.modules[{module!r}] = None  # as if not installed
        import zipkin_tracer.{module}
        """
    )
    assert result.returncode == 1
    assert f"pip install 'zipkin-opentracing[{module}]'" in result.stderr
