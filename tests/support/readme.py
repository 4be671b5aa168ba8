"""README.rst's code, as written: the tests run each example the guide shows."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import List

README = Path(__file__).resolve().parents[2] / "README.rst"

_PYTHON = re.compile(r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)")
_LITERAL = re.compile(r"::\n\n((?:    .*\n|\n)+)")


def _dedent(block: str) -> str:
    return textwrap.dedent(block.rstrip("\n")) + "\n"  # blocks inside lists are indented more


def text() -> str:
    return README.read_text(encoding="utf-8")


def python_blocks() -> List[str]:
    """Every ``code-block:: python`` of the README, in order."""
    return [_dedent(m.group(1)) for m in _PYTHON.finditer(text())]


def python_block(after: str) -> str:
    """The first Python block that follows the text ``after``."""
    found = _PYTHON.search(_section(after))
    assert found is not None, f"no Python block after {after!r}"
    return _dedent(found.group(1))


def literal_block(after: str) -> str:
    """The first ``::`` literal block (shell commands, output) that follows ``after``."""
    found = _LITERAL.search(_section(after))
    assert found is not None, f"no literal block after {after!r}"
    return _dedent(found.group(1))


def _section(after: str) -> str:
    whole = text()
    assert whole.count(after) == 1, f"{after!r} must occur exactly once in README.rst"
    return whole.split(after, 1)[1]


#: Every Python example of the README, by name: the text just before it.
EXAMPLES = {
    "quickstart": "save this as ``quickstart.py``",
    "sampling": "Every trace is recorded unless you choose otherwise.",
    "where spans go": "Where spans go\n~~~~~~~~~~~~~~\n",
    "between services": "the callee extracts it and starts its span as a child:",
    "inventory": "``inventory.py``, a service of its own:",
    "frontend": "``frontend.py``, which calls it with ``requests``:",
    "fastapi": "The frontend as an ASGI service calling the inventory with ``httpx``:",
    "django": "one-file site, ``shop.py``",
    "wsgi": "WSGI servers (Flask, Django, any WSGI app)\n",
    "flask hooks": "the hooks that name spans after routes:",
    "asgi": "ASGI servers (FastAPI, Starlette, Django under ASGI)\n",
    "asgi django route": "set_route(scope, template)``; for Django, a middleware:",
    "httpx": "HTTP clients: ``httpx``\n",
    "aiohttp": "aiohttp: clients and servers\n",
    "requests": "``requests.get()`` and friends) with one call:",
    "log filter": "Log correlation\n~~~~~~~~~~~~~~~\n",
    "log dictconfig": "With ``logging.config.dictConfig``:",
    "threads": "Hand the parent over\nexplicitly:",
    "threads activate": "activate the parent there without finishing it:",
    "asyncio": "concurrent requests on one event loop never see each other's spans:",
    "custom reporter": "build it yourself and hand it to the tracer:",
}


def example(name: str) -> str:
    """The README's Python example called ``name`` in :data:`EXAMPLES`."""
    return python_block(EXAMPLES[name])
