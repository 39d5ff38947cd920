"""The layout keeps its promises: the server, the code generator and the gate stay apart, and
imports run one way, from the command (codegen.py) down to the stages it runs, and in the
server from the wiring down through its rooms (docs/ARCHITECTURE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Package -> the top-level packages of this project it must never import.
FORBIDDEN = {
    "backend": {"codegen", "speclang", "contractdiff", "bench", "tests"},
    "speclang": {"backend", "codegen", "contractdiff", "generated", "tests"},
    # The gate is a stage below the command: what it shares with codegen is in speclang.files.
    "contractdiff": {"backend", "codegen", "generated", "tests"},
    "generated": {"backend", "codegen", "speclang", "contractdiff"},
}


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, anywhere in it (a function's import too), by dotted name;
    `from package import name` counts as `package.name`, which is a module or else the package."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


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


def module_name(root: Path, path: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_cycle(root: Path, paths: list[Path]) -> list[str]:
    """An import cycle among the modules at `paths` under `root`: the modules in order, the
    first repeated at the end; [] when there is none."""
    modules = {module_name(root, path): path for path in paths}
    edges = {
        name: sorted(imported_modules(path) & modules.keys() - {name})
        for name, path in modules.items()
    }
    done: set[str] = set()

    def visit(name: str, trail: list[str]) -> list[str]:
        if name in trail:
            return [*trail[trail.index(name) :], name]
        if name in done:
            return []
        for imported in edges[name]:
            cycle = visit(imported, [*trail, name])
            if cycle:
                return cycle
        done.add(name)
        return []

    for name in sorted(modules):
        cycle = visit(name, [])
        if cycle:
            return cycle
    return []


def test_codegen_and_its_stages_import_one_way() -> None:
    """codegen.py imports speclang/ and contractdiff/; nothing among them imports back."""
    paths = [ROOT / "codegen.py", *sorted((ROOT / "speclang").rglob("*.py"))]
    paths += sorted((ROOT / "contractdiff").rglob("*.py"))
    assert import_cycle(ROOT, paths) == []


def test_an_import_back_into_codegen_is_a_cycle(tmp_path: Path) -> None:
    """The check itself finds the cycle contractdiff/cli.py once closed, even from a function."""
    (tmp_path / "contractdiff").mkdir()
    command, stage = tmp_path / "codegen.py", tmp_path / "contractdiff" / "cli.py"
    command.write_text("def main() -> None:\n    from contractdiff import cli\n", encoding="utf-8")
    stage.write_text("from codegen import ROOT\n", encoding="utf-8")
    assert import_cycle(tmp_path, [command, stage]) == ["codegen", "contractdiff.cli", "codegen"]


# The server's rooms (docs/ARCHITECTURE.md): each package of backend/ has one job, and imports
# between them run one way: routes -> queries -> tasks -> storage; the relay (events) beside
# routes, over queries and storage; the HTTP edge (http) and
# tokens (auth) beside them, knowing none of them; telemetry around the HTTP edge and the
# database, which the relay reports to.
BACKEND = ROOT / "backend"
# Room -> the rooms it must never import.
FORBIDDEN_ROOMS = {
    "routes": {"storage", "events"},  # handlers ask the store; the database is its business
    "queries": {"routes", "http", "auth", "events", "telemetry"},
    "tasks": {"routes", "queries", "http", "auth", "events", "telemetry"},
    "storage": {"routes", "queries", "tasks", "http", "auth", "events", "telemetry"},
    "http": {"routes", "queries", "tasks", "storage", "auth", "events", "telemetry"},
    "auth": {"routes", "queries", "tasks", "storage", "http", "events", "telemetry"},
    # The relay beside the request path: it reads the outbox, never a request.
    "events": {"routes", "http", "auth"},
    # Measures requests and statements from outside: it knows the edge and the database
    # interface, never a handler, a query or the outbox (the wiring hands it the backlog).
    "telemetry": {"routes", "queries", "tasks", "auth", "events"},
}
# The top of backend/: the wiring, which imports the rooms and which no room imports, and
# the leaves, which any room may read and which import no room.
WIRING = {"main", "errors"}
LEAVES = {"settings", "contract"}
MAX_ROOM_MODULES = 10  # past about ten files, a room has more than one job: split it


def backend_part(module: str) -> str | None:
    """The room or top-level module of backend/ that a dotted name is in; None if outside."""
    parts = module.split(".")
    return parts[1] if parts[0] == "backend" and len(parts) > 1 else None


def backend_imports(path: Path) -> set[str]:
    """The rooms and top-level modules of backend/ that the module at `path` imports."""
    return {part for part in map(backend_part, imported_modules(path)) if part is not None}


def test_backend_is_its_rooms_and_its_wiring() -> None:
    """A new room or a new top-level module is a decision: add it to the table above."""
    rooms = {path.parent.name for path in BACKEND.glob("*/__init__.py")}
    top = {path.stem for path in BACKEND.glob("*.py")} - {"__init__"}
    assert (rooms, top) == (set(FORBIDDEN_ROOMS), WIRING | LEAVES)


@pytest.mark.parametrize("room", sorted(FORBIDDEN_ROOMS))
def test_a_room_never_imports_what_it_must_not(room: str) -> None:
    forbidden = FORBIDDEN_ROOMS[room] | WIRING
    offenders = {
        str(path.relative_to(ROOT)): sorted(backend_imports(path) & forbidden)
        for path in sorted((BACKEND / room).rglob("*.py"))
        if backend_imports(path) & forbidden
    }
    assert offenders == {}


def test_the_leaves_import_no_room() -> None:
    for leaf in sorted(LEAVES):
        assert backend_imports(BACKEND / f"{leaf}.py") <= LEAVES - {leaf}, leaf


def test_the_rooms_import_one_way() -> None:
    """The table itself has no cycle: some room imports none of the others left, always."""
    left = set(FORBIDDEN_ROOMS)
    while left:
        lowest = {room for room in left if left - {room} <= FORBIDDEN_ROOMS[room]}
        assert lowest, f"the rooms {sorted(left)} may import each other in a circle"
        left -= lowest


@pytest.mark.parametrize("room", sorted(FORBIDDEN_ROOMS))
def test_a_room_holds_a_few_files(room: str) -> None:
    modules = [path for path in (BACKEND / room).glob("*.py") if path.stem != "__init__"]
    assert len(modules) <= MAX_ROOM_MODULES


def test_the_server_has_no_import_cycle() -> None:
    """Within a room too: an interface never imports its implementations (storage/factory.py
    picks the dialect, so storage/database.py imports neither dialect)."""
    cycle = import_cycle(ROOT, sorted(BACKEND.rglob("*.py")))
    assert cycle == [], " -> ".join(cycle)


def test_an_interface_importing_its_dialect_is_a_cycle(tmp_path: Path) -> None:
    """The check finds the circle the flat server's db.py once closed, from inside a function."""
    (tmp_path / "flat").mkdir()
    interface, dialect = tmp_path / "flat" / "db.py", tmp_path / "flat" / "sqlite.py"
    interface.write_text(
        "def connect() -> None:\n    from flat.sqlite import SqliteDatabase\n", encoding="utf-8"
    )
    dialect.write_text("from flat.db import Database\n", encoding="utf-8")
    assert import_cycle(tmp_path, [interface, dialect]) == ["flat.db", "flat.sqlite", "flat.db"]
