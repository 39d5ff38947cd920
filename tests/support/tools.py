"""Tools the README's `make test` does not install (node, chromium): found, or skip/fail."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import running_in_ci

ROOT = Path(__file__).resolve().parent.parent.parent
NODE_MODULES = ROOT / "node_modules"


def missing(reason: str) -> None:
    """Skip with the reason printed; under CI=true, fail instead: CI must run the test."""
    if running_in_ci():
        pytest.fail(f"CI must run this test (.ci/run installs what it needs), but {reason}")
    pytest.skip(reason)


def node_binary() -> str:
    """The `node` on PATH, with the project's npm tools installed (`npm ci`)."""
    node = shutil.which("node")
    if node is None:
        missing("node is not installed (Debian: apt-get install nodejs npm)")
        raise AssertionError("unreachable")
    if not (NODE_MODULES / ".bin" / "tsc").exists():
        missing("the npm tools are not installed: run `npm ci` at the repository root")
    return node


def npm_tool(name: str) -> Path:
    """An executable of the project's pinned npm tools (node_modules/.bin)."""
    node_binary()
    return NODE_MODULES / ".bin" / name
