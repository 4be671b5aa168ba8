"""Run pytest on a copy of the test tree, outside the checkout.

Inside the checkout pytest puts the repository root on ``sys.path``, so the
``opentracing/`` directory there would shadow whatever is installed. The tox envs
that test an installed API (PyPI's 2.4.0, or ours built as a wheel) run their tests
from a copy instead, after checking which ``opentracing`` the interpreter gets.

    python scripts/outside_checkout.py --opentracing 2.4.0 DEST -- -q tests/zipkin_tracer
"""

from __future__ import annotations

import argparse
import importlib.metadata
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# What the test tree needs besides itself: the Zipkin launcher its conftest loads,
# the demo services some tests run, zipkin.proto the proto3 tests compile, the
# pytest settings, and the README some tests hold the code to.
COPIED = ("tests", "scripts", "demo", "proto", "pyproject.toml", "README.rst")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--opentracing", required=True, help="the installed version expected")
    parser.add_argument("dest", type=Path, help="directory to copy the tests to (replaced)")
    parser.add_argument("pytest_args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)

    found = importlib.metadata.version("opentracing")
    if found != args.opentracing:
        parser.error(f"opentracing {found} is installed, expected {args.opentracing}")
    shutil.rmtree(args.dest, ignore_errors=True)
    args.dest.mkdir(parents=True)
    for name in COPIED:
        source = REPO / name
        if source.is_dir():
            ignore = shutil.ignore_patterns("__pycache__", ".pytest_cache")
            shutil.copytree(source, args.dest / name, ignore=ignore)
        else:
            shutil.copy(source, args.dest / name)
    check = (
        "import opentracing, sys; f = opentracing.__file__; "
        "print('opentracing from', f); sys.exit(f.startswith(sys.argv[1]))"
    )
    where = subprocess.run([sys.executable, "-c", check, str(REPO / "opentracing")], cwd=args.dest)
    if where.returncode != 0:
        print("the checkout's opentracing/ is on sys.path; refusing to run", file=sys.stderr)
        return 2
    pytest_args = [a for a in args.pytest_args if a != "--"]
    return subprocess.run([sys.executable, "-m", "pytest", *pytest_args], cwd=args.dest).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
