"""The package's import graph: no cycles, and each room imports only downwards.

Read from the source (``ast``), so it sees every module-level import, also
those that only run when another module is imported first. Imports inside
functions (lazy, e.g. thriftpy2 or the default reporter) are not edges;
imports under ``if TYPE_CHECKING:`` are not edges either, but the rooms that
must not know the span or the tracer may not name them even there.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Set, Tuple

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "zipkin_tracer"

#: These rooms work on a context or a recorded span they are handed; they
#: never import the span or the tracer.
INDEPENDENT = ("zipkin_tracer.model", "zipkin_tracer.encoding", "zipkin_tracer.propagation")
FORBIDDEN = ("zipkin_tracer.span", "zipkin_tracer.tracer")


def _name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> Dict[str, Path]:
    return {_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(module: str, path: Path, known: Set[str]) -> Tuple[Set[str], Set[str]]:
    """(runtime module-level imports, TYPE_CHECKING-only imports) of our own modules."""
    runtime: Set[str] = set()
    typing_only: Set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]

    def targets(node: ast.AST) -> Set[str]:
        found: Set[str] = set()
        if isinstance(node, ast.Import):
            found = {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found = {base} | {f"{base}.{alias.name}" for alias in node.names}
        return {name for name in found if name in known}

    def walk(body: List[ast.stmt], into: Set[str]) -> None:
        for node in body:
            if isinstance(node, ast.If):
                walk(node.body, typing_only if _is_type_checking(node) else into)
                walk(node.orelse, into)
            elif isinstance(node, (ast.Try,)):
                walk(node.body, into)
                for handler in node.handlers:
                    walk(handler.body, into)
                walk(node.orelse, into)
                walk(node.finalbody, into)
            else:
                into |= targets(node)

    walk(ast.parse(path.read_text(encoding="utf-8")).body, runtime)
    runtime.discard(module)
    return runtime, typing_only - runtime


def graph() -> Tuple[Dict[str, Set[str]], Dict[str, Set[str]]]:
    modules = _modules()
    known = set(modules)
    runtime: Dict[str, Set[str]] = {}
    typing_only: Dict[str, Set[str]] = {}
    for module, path in modules.items():
        runtime[module], typing_only[module] = _imports(module, path, known)
        # the root package is imported before any of its modules: not an edge
        runtime[module].discard("zipkin_tracer")
    return runtime, typing_only


def _cycle(edges: Dict[str, Set[str]]) -> List[str]:
    state: Dict[str, int] = {}
    stack: List[str] = []

    def visit(node: str) -> List[str]:
        state[node] = 1
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                return stack[stack.index(target) :] + [target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(edges):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return []


def _closure(edges: Dict[str, Set[str]], start: str) -> Set[str]:
    seen: Set[str] = set()
    todo = [start]
    while todo:
        for target in edges.get(todo.pop(), ()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def test_the_graph_sees_known_edges() -> None:
    runtime, _ = graph()
    assert "zipkin_tracer.span" in runtime["zipkin_tracer.tracer"]
    assert "zipkin_tracer.context" in runtime["zipkin_tracer.propagation.b3"]


def test_no_import_cycle_at_runtime() -> None:
    runtime, _ = graph()
    assert _cycle(runtime) == []


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


@pytest.mark.parametrize(
    "module",
    sorted(m for m in _modules() if any(m == r or m.startswith(r + ".") for r in INDEPENDENT)),
)
def test_model_encoding_and_propagation_never_import_the_span_or_tracer(module: str) -> None:
    runtime, typing_only = graph()
    reached = _closure(runtime, module) | typing_only[module]
    assert not reached & set(FORBIDDEN), f"{module} reaches {sorted(reached & set(FORBIDDEN))}"


INSTRUMENTATION = (
    "zipkin_tracer.wsgi",
    "zipkin_tracer.requests",
    "zipkin_tracer._instrumentation",
    "zipkin_tracer.asgi",
    "zipkin_tracer.httpx",
    "zipkin_tracer.aiohttp",
    "zipkin_tracer._http_client",
    "zipkin_tracer.executor_context",
)


@pytest.mark.parametrize("module", INSTRUMENTATION)
def test_instrumentation_never_imports_transport_or_reporting(module: str) -> None:
    runtime, _ = graph()
    reached = _closure(runtime, module)
    assert not {
        m for m in reached if m.startswith(("zipkin_tracer.transport", "zipkin_tracer.reporting"))
    }


def test_transport_never_imports_instrumentation() -> None:
    runtime, _ = graph()
    for module in runtime:
        if module.startswith("zipkin_tracer.transport"):
            assert not _closure(runtime, module) & set(INSTRUMENTATION), module
