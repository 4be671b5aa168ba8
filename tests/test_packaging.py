"""The distributions as users get them: wheels in a fresh virtualenv, outside the checkout.

Two wheels come out of the repository: ``opentracing`` (the API, built from
``opentracing/pyproject.toml``) and ``zipkin-opentracing`` (the tracer, which depends
on it). Contrib libraries that depend on ``opentracing`` must install beside them
without replacing our files, and leave a working tracer when uninstalled.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
import venv
from pathlib import Path
from typing import Iterator

import pytest

REPO = Path(__file__).resolve().parent.parent
CONTRIB = REPO / "tests" / "ecosystem" / "requirements.txt"
SOURCES = ("setup.py", "pyproject.toml", "MANIFEST.in", "README.rst", "thrift")
PACKAGES = ("opentracing", "zipkin_tracer")
# The module each contrib distribution installs (imported against our API).
MODULES = {
    "Flask-OpenTracing": "flask_opentracing",
    "django_opentracing": "django_opentracing",
    "grpcio-opentracing": "grpc_opentracing",
    "requests-opentracing": "requests_opentracing",
    "opentelemetry-opentracing-shim": "opentelemetry.shim.opentracing_shim",
}

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
    opentracing.set_global_tracer(tracer)
    with opentracing.global_tracer().start_active_span("encode me"):
        pass
    encoder = ThriftV1Encoder()
    message = encoder.encode_message([encoder.encode_span(s) for s in reporter.spans])
    assert message[:5] == bytes([0x0C, 0, 0, 0, 1]), message[:5]
    print(message.hex())
    """
)

# Which files of the ``opentracing`` import package are loaded, and who owns them.
WHO_OWNS = textwrap.dedent(
    """
    import importlib.metadata, json, pathlib, opentracing
    root = pathlib.Path(opentracing.__file__).parent
    files = {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*.py"))}
    owners = sorted(
        d.metadata["Name"]
        for d in importlib.metadata.distributions()
        if any(str(f).startswith("opentracing/") for f in (d.files or ()))
    )
    print(json.dumps({"version": importlib.metadata.version("opentracing"),
                      "owners": owners, "root": str(root), "files": files}))
    """
)


def run(*command: str, cwd: Path) -> str:
    result = subprocess.run(
        command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout[-4000:]}"
    return result.stdout


def api_version() -> str:
    text = (REPO / "opentracing" / "pyproject.toml").read_text(encoding="utf-8")
    match = re.search(r'^version = "([^"]+)"', text, re.M)
    assert match is not None
    return match.group(1)


def contrib_requirements() -> list[str]:
    lines = CONTRIB.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


class Env:
    """A fresh virtualenv outside the checkout, driven through its own pip."""

    def __init__(self, root: Path) -> None:
        self.root = root
        venv.create(root / "venv", with_pip=True)
        bindir = "Scripts" if os.name == "nt" else "bin"
        self.python = str(root / "venv" / bindir / "python")

    def pip(self, *args: str) -> str:
        return run(self.python, "-m", "pip", "--disable-pip-version-check", *args, cwd=self.root)

    def python_c(self, code: str) -> str:
        return run(self.python, "-c", code, cwd=self.root)

    def assert_our_opentracing(self) -> None:
        import json

        found = json.loads(self.python_c(WHO_OWNS))
        assert found["version"] == api_version()
        assert found["owners"] == ["opentracing"], found["owners"]
        assert "site-packages" in found["root"], found["root"]
        ours = {
            str(p.relative_to(REPO / "opentracing")): p.read_text()
            for p in sorted((REPO / "opentracing").rglob("*.py"))
            if "build" not in p.relative_to(REPO / "opentracing").parts
        }
        assert found["files"] == ours


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Both wheels, built from a copy of the sources (no build trees in the checkout)."""
    tmp = tmp_path_factory.mktemp("build")
    src = tmp / "src"
    src.mkdir()
    for name in SOURCES + PACKAGES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("build", "*.egg-info"))
        else:
            shutil.copy(path, src / name)
    dist = tmp / "dist"
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist)]
    run(*pip_wheel, str(src), str(src / "opentracing"), cwd=tmp)
    built = sorted(dist.glob("*.whl"))
    assert [w.name.split("-")[0] for w in built] == ["opentracing", "zipkin_opentracing"]
    return built


@pytest.fixture(scope="module")
def env(wheels: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    environment = Env(tmp_path_factory.mktemp("env"))
    environment.pip("install", "-q", *map(str, wheels))
    yield environment


def test_tracer_wheel_ships_no_api_files(wheels: list[Path]) -> None:
    import zipfile

    tracer_wheel = wheels[1]
    with zipfile.ZipFile(tracer_wheel) as archive:
        names = archive.namelist()
        metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
        requires = [
            line
            for line in archive.read(metadata).decode().splitlines()
            if line.startswith("Requires-Dist: opentracing")
        ]
    assert not [n for n in names if n.startswith("opentracing/")]
    assert requires == ["Requires-Dist: opentracing<3,>=2.4"]


def test_wheels_install_and_encode_thrift_outside_the_checkout(env: Env) -> None:
    out = env.python_c(SMOKE)

    assert out.strip(), "no bytes encoded"
    env.assert_our_opentracing()


@pytest.mark.parametrize("requirement", contrib_requirements())
def test_contrib_library_installs_beside_ours_and_uninstalls_cleanly(
    env: Env, requirement: str
) -> None:
    name = requirement.split("==")[0]
    env.pip("install", "-q", requirement)

    env.pip("check")
    env.assert_our_opentracing()
    env.python_c(f"import {MODULES[name]}")

    env.pip("uninstall", "-y", name)
    env.assert_our_opentracing()
    assert env.python_c(SMOKE).strip()
