"""The layout keeps its promises: the server, the code generator and the gate stay apart."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Package -> the top-level packages of this project it must never import.
FORBIDDEN = {
    "backend": {"codegen", "speclang", "contractdiff", "bench", "tests"},
    "speclang": {"backend", "codegen", "contractdiff", "generated", "tests"},
    "contractdiff": {"backend", "generated", "tests"},
    "generated": {"backend", "codegen", "speclang", "contractdiff"},
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.partition(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_never_imports_what_it_must_not(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & FORBIDDEN[package])
        for path in sorted((ROOT / package).rglob("*.py"))
        if imported_packages(path) & FORBIDDEN[package]
    }
    assert offenders == {}


def test_codegen_itself_never_imports_the_server() -> None:
    assert not imported_packages(ROOT / "codegen.py") & {"backend", "generated"}
