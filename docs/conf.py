"""Sphinx configuration: the guide comes from README.rst, the API reference from docstrings."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

project = "zipkin-opentracing"
release = re.search(
    r'^__version__ = "([^"]+)"', (ROOT / "zipkin_tracer" / "__init__.py").read_text(), re.M
).group(1)  # type: ignore[union-attr]
extensions = ["sphinx.ext.autodoc", "sphinx.ext.viewcode"]
autodoc_member_order = "bysource"
autodoc_inherit_docstrings = False  # third-party base classes (httpx) bring their own markup
autodoc_typehints = "description"
# Each name documented once, where it is defined (packages re-export a lot).
autodoc_default_options = {"members": True, "show-inheritance": True, "ignore-module-all": True}
exclude_patterns = ["_build", "_generated"]
html_theme = "alabaster"
nitpicky = False


def _write_defaults_table() -> None:
    """docs/_generated/defaults.rst: one row per constant of zipkin_tracer.defaults."""
    from zipkin_tracer import defaults

    rows = [(name, repr(value)) for name, value in vars(defaults).items() if name.isupper()]
    lines = [".. list-table::", "   :header-rows: 1", "", "   * - Name", "     - Value"]
    for name, value in rows:
        lines += [f"   * - ``{name}``", f"     - ``{value}``"]
    target = Path(__file__).resolve().parent / "_generated" / "defaults.rst"
    target.parent.mkdir(exist_ok=True)
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")


_write_defaults_table()
