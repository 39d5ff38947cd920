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


def test_the_codegen_benchmark_copies_every_package_codegen_needs() -> None:
    """bench/ times codegen in a scratch copy of its inputs: a stage left out fails there."""
    from bench.codegen_timing import INPUTS

    local = {path.name for path in ROOT.iterdir() if (path / "__init__.py").is_file()}
    needed, todo = set[str](), [ROOT / "codegen.py"]
    while todo:
        for package in imported_packages(todo.pop()) & (local - needed):
            needed.add(package)
            todo.extend((ROOT / package).rglob("*.py"))
    assert needed, "codegen.py imports no package of this project"
    assert needed <= set(INPUTS) - {"codegen.py"}
