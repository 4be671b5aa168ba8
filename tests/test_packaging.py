"""The distribution as users get it: a wheel in a fresh virtualenv, outside the checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

SMOKE = textwrap.dedent(
    """
    import importlib.resources, sys
    import opentracing, zipkin_tracer
    from zipkin_tracer import ZipkinTracer
    from zipkin_tracer.encoding.thrift_v1 import ThriftV1Encoder
    from zipkin_tracer.testing import InMemoryReporter
    assert "site-packages" in zipkin_tracer.__file__, zipkin_tracer.__file__
    idl = importlib.resources.files("zipkin_tracer.encoding") / "zipkinCore.thrift"
    assert idl.is_file(), "IDL not shipped"
    for package in ("opentracing", "zipkin_tracer"):
        assert (importlib.resources.files(package) / "py.typed").is_file(), package
    reporter = InMemoryReporter()
    tracer = ZipkinTracer(service_name="wheel-check", reporter=reporter)
    tracer.start_span("encode me").finish()
    encoder = ThriftV1Encoder()
    message = encoder.encode_message([encoder.encode_span(s) for s in reporter.spans])
    assert message[:5] == bytes([0x0C, 0, 0, 0, 1]), message[:5]
    print(message.hex())
    """
)


def run(*command: str, cwd: Path) -> str:
    result = subprocess.run(
        command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout[-4000:]}"
    return result.stdout


def test_wheel_installs_and_encodes_thrift_outside_the_checkout(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "-q",
        "-w",
        str(dist),
        str(REPO),
        cwd=tmp_path,
    )
    (wheel,) = dist.glob("*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / ("Scripts" if os.name == "nt" else "bin") / "python"
    run(str(python), "-m", "pip", "install", "-q", str(wheel), cwd=tmp_path)

    out = run(str(python), "-c", SMOKE, cwd=tmp_path)

    assert out.strip(), "no bytes encoded"
