"""`python -m bench.budget` (`make bench-check`): the working tree against the last release.

The performance budget: no operation may cost more server CPU per request than the last
release did, by more than BUDGET (10 %), unless bench/accepted-costs.toml accepts that cost
with its reason. The last release is the highest `openapi/releases/X.Y.Z.json`; its tree is
the commit that added that file, checked out as a temporary git worktree. Both trees are
measured by bench.inprocess (sequential requests straight to the ASGI app, CPU time per
request), on SQLite and on PostgreSQL, in separate processes interleaved run by run. The
cheapest runs are the ones least disturbed by the machine's other work: a cell fails only
when the tree's best run and its second-best run are both over budget against the
release's, and its second-best costs more than the release's third-best (`over_budget`).
Exit 0 within budget, 1 over it, 2 when it cannot measure. `--against 1.3.0` compares with
an earlier release instead (what a user upgrading from it feels), `--against PATH` with any
checkout.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.inprocess import Databases, run_child, supported_operations
from speclang.changelog import SEMANTIC_VERSION
from tests.support.postgres import PostgresServer, PostgresUnavailable, start_postgres

REPO_ROOT = Path(__file__).resolve().parent.parent
RELEASES = REPO_ROOT / "openapi" / "releases"
ACCEPTED_COSTS = REPO_ROOT / "bench" / "accepted-costs.toml"
BUDGET = 1.10  # at most 10 % more CPU per request than the last release


class CannotMeasure(Exception):
    """The comparison cannot be made here (no git history, no database); says why."""


def _version(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in path.stem.split("."))


def _git(*arguments: str) -> str:
    result = subprocess.run(
        ["git", *arguments], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise CannotMeasure(f"git {' '.join(arguments)}: {result.stderr.strip()}")
    return result.stdout.strip()


def last_release() -> tuple[str, str]:
    """The newest released version and the commit that added its document."""
    return release()


def release(version: str | None = None) -> tuple[str, str]:
    """A released version (the newest when None) and the commit that added its document."""
    released = sorted(RELEASES.glob("*.json"), key=_version)
    if not released:
        raise CannotMeasure(f"no release in {RELEASES.relative_to(REPO_ROOT)}")
    chosen = released[-1] if version is None else RELEASES / f"{version}.json"
    if chosen not in released:
        names = ", ".join(path.stem for path in released)
        raise CannotMeasure(f"{version} is not a release (released: {names})")
    relative = chosen.relative_to(REPO_ROOT).as_posix()
    if _git("rev-parse", "--is-shallow-repository") == "true":
        # A shallow clone may lack the release's commit; the history is fetched once.
        subprocess.run(["git", "fetch", "--quiet", "--unshallow"], cwd=REPO_ROOT, check=False)
    commit = _git("log", "--diff-filter=A", "--format=%H", "-1", "--", relative)
    if not commit:
        raise CannotMeasure(f"no commit in this clone's history adds {relative}")
    return chosen.stem, commit


@contextmanager
def worktree(commit: str, scratch: Path) -> Iterator[Path]:
    """`commit` checked out beside this one, removed afterwards."""
    path = scratch / f"release-{commit[:12]}"
    _git("worktree", "add", "--detach", "--quiet", str(path), commit)
    try:
        yield path
    finally:
        _git("worktree", "remove", "--force", str(path))


@dataclass(frozen=True)
class Acceptance:
    release: str
    database: str
    operation: str
    up_to: float
    reason: str


def accepted_costs(path: Path = ACCEPTED_COSTS) -> list[Acceptance]:
    """The costs over budget that people reviewed and accepted, each with its reason."""
    if not path.exists():
        return []
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    accepted = []
    for entry in document.get("accepted", []):
        reason = str(entry.get("reason", "")).strip()
        if not reason:
            raise CannotMeasure(f"{path.name}: an accepted cost without a reason: {entry}")
        accepted.append(
            Acceptance(
                str(entry["release"]),
                str(entry["database"]),
                str(entry["operation"]),
                float(entry["up_to"]),
                reason,
            )
        )
    return accepted


@dataclass
class Cell:
    """One operation on one database: every run of both trees, CPU microseconds per request.

    Another process on the machine only ever adds to a run's CPU time (a shared core's caches,
    the host's clock, PostgreSQL's own work beside the client), so a tree's cheapest runs are
    the figures closest to its own cost, and the ones compared.
    """

    database: str
    operation: str
    release: list[float] = field(default_factory=list)
    now: list[float] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        """The tree's best run over the release's best run."""
        return min(self.now) / min(self.release)

    @property
    def second_ratio(self) -> float:
        """The tree's second-best run over the release's (the best, with a single run)."""
        return _nth_best(self.now, 2) / _nth_best(self.release, 2)

    @property
    def clear_of_release(self) -> bool:
        """Whether the tree's second-best run costs more than the release's third-best."""
        return _nth_best(self.now, 2) > _nth_best(self.release, 3)


def _nth_best(runs: Sequence[float], place: int) -> float:
    return sorted(runs)[min(place, len(runs)) - 1]


def over_budget(cell: Cell, limit: float) -> bool:
    """Over `limit` on the best runs and on the second-best runs, and clear of the release's.

    One tree's best run can be the only one that met no interference, so a best run alone
    decides by chance; when every run of a tree met some, its second-best run still shows
    it. When the release had two such lucky runs, its third-best run costs as much as the
    tree's second-best: nothing then shows the tree slower. A real slowdown moves every run
    of the tree, past the release's three best.
    """
    return cell.ratio > limit and cell.second_ratio > limit and cell.clear_of_release


def verdict(cell: Cell, version: str, accepted: Sequence[Acceptance]) -> tuple[bool, str]:
    """Whether the cell is within budget, and the word that says so."""
    if not over_budget(cell, BUDGET):
        if cell.ratio > BUDGET and cell.second_ratio > BUDGET:
            return True, "ok (2nd best <= release's 3rd best)"
        if cell.ratio > BUDGET or cell.second_ratio > BUDGET:
            return True, "ok (over on one of best, 2nd only)"
        return True, "ok"
    for acceptance in accepted:
        if (acceptance.release, acceptance.database, acceptance.operation) == (
            version,
            cell.database,
            cell.operation,
        ):
            if not over_budget(cell, acceptance.up_to):
                return True, f"accepted up to {acceptance.up_to:.2f}x"
            return False, f"OVER (accepted only up to {acceptance.up_to:.2f}x)"
    return False, f"OVER the {BUDGET:.2f}x budget"


def render(cells: Sequence[Cell], version: str, accepted: Sequence[Acceptance]) -> str:
    header = (
        f"{'operation':<14} {'database':<9} {'release ' + version:>15} {'now':>9} "
        f"{'ratio':>6} {'2nd':>6}  spread (release / now)  verdict"
    )
    lines = [header, "-" * len(header)]
    for cell in cells:
        _, word = verdict(cell, version, accepted)
        spread = (
            f"{min(cell.release):.0f}-{max(cell.release):.0f} / "
            f"{min(cell.now):.0f}-{max(cell.now):.0f}"
        )
        lines.append(
            f"{cell.operation:<14} {cell.database:<9} "
            f"{min(cell.release):>12.0f} us {min(cell.now):>6.0f} us "
            f"{cell.ratio:>5.2f}x {cell.second_ratio:>5.2f}x  {spread:<22} {word}"
        )
    return "\n".join(lines)


def _databases(
    scratch: Path, kinds: list[str]
) -> tuple[list[str], str | None, PostgresServer | None]:
    """The databases to measure on, and a PostgreSQL server when one is used."""
    if "postgres" not in kinds:
        return kinds, None, None
    try:
        server = start_postgres(scratch / "postgres")
    except PostgresUnavailable as error:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            raise CannotMeasure(f"CI must measure PostgreSQL, but {error}") from error
        print(f"== SKIPPED PostgreSQL: {error}")
        return [kind for kind in kinds if kind != "postgres"], None, None
    url = server.url(driver="postgresql")
    _quiet(url)
    return kinds, url, server


def _quiet(url: str) -> None:
    """No autovacuum on the throwaway server: it would work on one run's rows in the next run.

    Its workers (and the statistics they gather, which could change a plan mid-run) would take
    the cores the measured process runs on; the second tree of each pair paid for the first.
    """
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("ALTER SYSTEM SET autovacuum = off")
        connection.execute("SELECT pg_reload_conf()")


def measure(
    release_tree: Path, arguments: argparse.Namespace, scratch: Path, again: Sequence[Cell] = ()
) -> list[Cell]:
    """Every run of both trees; with `again`, more runs of those cells only, added to them."""
    if again:
        kinds = [kind for kind in ("sqlite", "postgres") if any(c.database == kind for c in again)]
    else:
        kinds = [arguments.only] if arguments.only else ["sqlite", "postgres"]
    kinds, postgres_url, server = _databases(scratch, kinds)
    try:
        operations = [
            operation
            for operation in supported_operations(REPO_ROOT)
            if operation in supported_operations(release_tree)
        ]
        cells = {(cell.database, cell.operation): cell for cell in again} or {
            (kind, operation): Cell(kind, operation) for kind in kinds for operation in operations
        }
        databases = Databases(scratch, postgres_url)
        trees = [("release", release_tree), ("now", REPO_ROOT)]
        for run in range(1, arguments.runs + 1):
            # The order of the trees alternates, so a drift of the machine favours neither.
            ordered = trees if run % 2 else trees[::-1]
            for kind in kinds:
                measured = [operation for operation in operations if (kind, operation) in cells]
                for name, tree in ordered:
                    figures = run_child(
                        tree, databases.new(kind), measured, arguments.requests, arguments.warmup
                    )
                    for operation, value in figures.items():
                        getattr(cells[(kind, operation)], name).append(value)
            print(f"-- run {run}/{arguments.runs} measured", flush=True)
        return list(cells.values())
    finally:
        if server is not None:
            server.stop()


def compare(
    release_tree: Path,
    arguments: argparse.Namespace,
    scratch: Path,
    version: str,
    accepted: Sequence[Acceptance],
) -> list[Cell]:
    """Both trees measured; the cells over budget measured again before the verdict.

    On a busy machine every run of one tree can meet more load than the other's for minutes
    (an unchanged tree measured 1.66x on one cell, 3 cells over, at load average 4); more
    runs give the unlucky tree its chance, and a real slowdown is still there in all of them.
    Nothing is measured twice when everything is within budget.
    """
    (scratch / "first").mkdir()
    (scratch / "again").mkdir()
    cells = measure(release_tree, arguments, scratch / "first")
    over = [cell for cell in cells if not verdict(cell, version, accepted)[0]]
    if over:
        names = ", ".join(f"{cell.operation} on {cell.database}" for cell in over)
        print(f"-- over budget after {arguments.runs} runs: {names}; measuring those again")
        measure(release_tree, arguments, scratch / "again", over)
    return cells


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.budget", description=__doc__)
    # More, shorter runs: the best of seven is less often a run that met interference than the
    # best of five, for about the same number of requests.
    parser.add_argument("--runs", type=int, default=7, help="interleaved runs per tree (7)")
    parser.add_argument("--requests", type=int, default=400, help="measured requests per op")
    parser.add_argument("--warmup", type=int, default=100, help="requests before measuring")
    parser.add_argument("--only", choices=("sqlite", "postgres"), help="one database only")
    parser.add_argument(
        "--against",
        metavar="VERSION|PATH",
        help="a release (1.3.0) or a checkout of this project to compare with, instead of the "
        "last release",
    )
    arguments = parser.parse_args(argv)
    try:
        accepted = accepted_costs()
        with tempfile.TemporaryDirectory(prefix="bench-budget-") as scratch_name:
            scratch = Path(scratch_name)
            against = arguments.against
            if against and not SEMANTIC_VERSION.fullmatch(against):
                tree = Path(against).resolve()
                if not (tree / "openapi" / "openapi.json").is_file():
                    raise CannotMeasure(
                        f"{against} is neither a release (X.Y.Z) nor a checkout of this project"
                    )
                version = tree.name
                print(f"== performance budget: this tree against {against}")
                cells = compare(tree, arguments, scratch, version, accepted)
            else:
                version, commit = release(against)
                print(f"== performance budget: this tree against release {version} ({commit[:12]})")
                with worktree(commit, scratch) as release_tree:
                    cells = compare(release_tree, arguments, scratch, version, accepted)
    except CannotMeasure as error:
        print(f"bench-check cannot measure: {error}", file=sys.stderr)
        return 2
    print(
        f"\nServer CPU per request, the best of {arguments.runs} interleaved runs of "
        f"{arguments.requests} requests, twice that for a cell over budget after the first "
        f"{arguments.runs} (budget: {BUDGET:.2f}x the last release; a cell fails "
        "when both its best and its second-best runs (2nd) are over it, and its second-best "
        "costs more than the release's third-best):\n"
    )
    print(render(cells, version, accepted))
    over = [cell for cell in cells if not verdict(cell, version, accepted)[0]]
    if over:
        names = ", ".join(f"{cell.operation} on {cell.database}" for cell in over)
        print(
            f"\nerror: over budget against release {version}: {names}. Make it cheaper, or "
            f"accept the cost with its reason in {ACCEPTED_COSTS.relative_to(REPO_ROOT)}."
        )
        return 1
    print(f"\nWithin budget against release {version}.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
