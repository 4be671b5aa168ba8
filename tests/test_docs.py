"""The project speaks for itself: no references to documents outside the
repository, and the documents the README links to exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("zipkin_tracer", "opentracing", "tests", "benchmarks", "docs", "demo", "scripts")
OUTSIDE = re.compile(r"§\s*\d|research list|research notes|\bissue \d+|zipkin-mapping", re.I)


def _texts() -> list:
    files = [ROOT / "README.rst"]
    for folder in FOLDERS:
        files += [p for p in (ROOT / folder).rglob("*") if p.suffix in (".py", ".rst", ".md")]
    return files


def test_no_reference_to_documents_outside_the_repository() -> None:
    this = Path(__file__).resolve()
    found = []
    for path in _texts():
        if path.resolve() == this:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if OUTSIDE.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == []


def test_documents_the_readme_names_exist() -> None:
    readme = (ROOT / "README.rst").read_text(encoding="utf-8")
    named = set(re.findall(r"``(docs/[\w./-]+)``", readme))
    assert {"docs/design.rst", "docs/performance.rst"} <= named
    for path in named:
        assert (ROOT / path).exists(), path


def test_every_document_is_named_by_the_readme_and_has_a_title() -> None:
    readme = (ROOT / "README.rst").read_text(encoding="utf-8")
    for path in sorted((ROOT / "docs").glob("*.rst")):
        assert f"``docs/{path.name}``" in readme, path.name
        title, underline = path.read_text(encoding="utf-8").splitlines()[:2]
        assert re.fullmatch(r"=+", underline) and len(underline) >= len(title), path.name
