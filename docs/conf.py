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
autodoc_typehints = "description"
# Each name documented once, where it is defined (packages re-export a lot).
autodoc_default_options = {"members": True, "show-inheritance": True, "ignore-module-all": True}
exclude_patterns = ["_build"]
html_theme = "alabaster"
nitpicky = False
