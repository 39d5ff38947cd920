"""The two locks: `make run` installs what serving needs (requirements-runtime.lock), `make
test` everything (requirements.lock); the first is a part of the second, at the same pins."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^ \\]+)((?:\s*\\\s*--hash=\S+)+)", re.MULTILINE)
# Tools of the tests and of development that serving never needs.
TOOLS = (
    "pytest",
    "schemathesis",
    "hypothesis",
    "mypy",
    "ruff",
    "mutmut",
    "datamodel-code-generator",
)


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lock: str) -> dict[str, tuple[str, frozenset[str]]]:
    """Package -> (version, hashes) of a lock written by `uv pip compile --generate-hashes`."""
    text = (ROOT / lock).read_text(encoding="utf-8")
    return {
        normalized(name): (version, frozenset(re.findall(r"--hash=(\S+)", hashes)))
        for name, version, hashes in PIN.findall(text)
    }


def test_the_runtime_lock_is_part_of_the_full_one_at_the_same_pins() -> None:
    runtime, full = pins("requirements-runtime.lock"), pins("requirements.lock")
    assert runtime, "no pin read from requirements-runtime.lock"
    assert {name: full.get(name) for name in runtime} == runtime


def test_the_runtime_lock_holds_no_development_tool() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = set(pins("requirements-runtime.lock"))
    direct = {normalized(re.split(r"[<>=\[; ]", spec)[0]) for spec in project["dependencies"]}
    development = {
        normalized(re.split(r"[<>=\[; ]", spec)[0])
        for spec in project["optional-dependencies"]["dev"]
    }
    assert direct <= runtime
    assert runtime & (development | set(TOOLS)) == set()


def test_make_run_installs_the_runtime_lock_only() -> None:
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    planned = subprocess.run(
        [make, "-n", "-B", "run"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    installs = [line for line in planned.splitlines() if "pip install" in line]
    assert installs and all("-r requirements-runtime.lock" in line for line in installs)
