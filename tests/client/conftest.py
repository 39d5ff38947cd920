"""The TypeScript client compiled once a session, for the tests that run it with node."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.tools import ROOT, npm_tool

CLIENT = ROOT / "clients" / "typescript"


@pytest.fixture(scope="session")
def compiled_client() -> Path:
    """`tsc -p clients/typescript` (strict), once a session: its output, dist/."""
    result = subprocess.run(
        [str(npm_tool("tsc")), "-p", str(CLIENT)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"tsc --strict failed:\n{result.stdout}{result.stderr}"
    return CLIENT / "dist"
