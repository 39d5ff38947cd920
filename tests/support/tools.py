"""Tools the README's `make test` does not install (node, the npm tools): found, or skip/fail."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.support.skips import skip_or_fail

ROOT = Path(__file__).resolve().parent.parent.parent
NODE_MODULES = ROOT / "node_modules"


def node_binary() -> str:
    """The `node` on PATH, with the project's npm tools installed (`npm ci`)."""
    node = shutil.which("node")
    if node is None:
        skip_or_fail("node is not installed (Debian: apt-get install nodejs npm)")
    if not (NODE_MODULES / ".bin" / "tsc").exists():
        skip_or_fail("the npm tools are not installed: run `npm ci` at the repository root")
    return node


def npm_tool(name: str) -> Path:
    """An executable of the project's pinned npm tools (node_modules/.bin)."""
    node_binary()
    return NODE_MODULES / ".bin" / name
