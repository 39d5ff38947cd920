"""`python -m bench.budget` (`make bench-check`): the working tree against the last release.

The performance budget: no operation may cost more server CPU per request than the last
release did, by more than BUDGET (10 %), unless bench/accepted-costs.toml accepts that cost
with its reason. The last release is the highest `openapi/releases/X.Y.Z.json`; its tree is
the commit that added that file, checked out as a temporary git worktree. Both trees are
measured side by side (bench.paired): one process per tree, both alive, short batches of
requests alternated between them, on SQLite and on PostgreSQL. Each pair of batches gives a
ratio, and a cell fails when the median of its pairs' ratios is over budget and its 95 %
interval starts above 1 (the tree measurably slower at all), measured again
(`over_budget`). Exit 0 within budget, 1 over it, 2 when it cannot measure.
`--against 1.3.0` compares with an earlier release instead (what a user upgrading from it
feels), `--against PATH` with any checkout.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from math import comb
from pathlib import Path

from bench.inprocess import ChildFailed, Databases, supported_operations
from bench.paired import measure_side_by_side
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
    """One operation on one database: its pairs of batches, CPU microseconds per request.

    `release[i]` and `now[i]` were measured within milliseconds of each other, under the
    same load of the machine (bench.paired); each pair's ratio is one verdict on the tree,
    and the median of the ratios is the cell's, robust to the pairs a burst of load spoiled.
    """

    database: str
    operation: str
    release: list[float] = field(default_factory=list)
    now: list[float] = field(default_factory=list)

    @property
    def ratios(self) -> list[float]:
        """Each pair's ratio: the tree's batch over the release's."""
        return [now / release for release, now in zip(self.release, self.now, strict=True)]

    @property
    def ratio(self) -> float:
        """The median of the pairs' ratios."""
        return statistics.median(self.ratios)

    @property
    def interval(self) -> tuple[float, float]:
        """A 95 % confidence interval of that median (`median_interval`)."""
        return median_interval(self.ratios)


def median_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """A confidence interval of the median from the values' ranks, whatever their spread.

    Each value falls below the true median with probability 1/2, so the number below it is
    binomial: the interval runs from the j-th smallest value to the j-th largest, j the
    largest rank that `confidence` allows (the smallest and largest values with few pairs).
    """
    ordered = sorted(values)
    count = len(ordered)
    tail = (1 - confidence) / 2
    rank = 0  # values of rank below `rank` lie under the median with probability <= tail
    below = 0.0
    while rank < count:
        below += comb(count, rank) / 2**count
        if below > tail:
            break
        rank += 1
    rank = max(rank, 1)
    return ordered[rank - 1], ordered[count - rank]


def over_budget(cell: Cell, limit: float) -> bool:
    """Whether the median of the cell's paired ratios is over `limit`, and the tree is
    measurably slower than the release at all (its median's 95 % interval starts above 1).

    A pair of batches shares the machine's load, so a pair's ratio moves far less than
    either batch; a burst that falls on one batch spoils that pair, which the median leaves
    aside. A real slowdown moves every pair, and its interval with it. On a machine so busy
    that the pairs scatter (an unchanged tree's median at 1.13, its interval wide), the
    interval still reaches 1, and the cell is not failed on a figure the load made.
    """
    return cell.ratio > limit and cell.interval[0] > 1.0


def verdict(
    cell: Cell, version: str, accepted: Sequence[Acceptance], limit: float = BUDGET
) -> tuple[bool, str]:
    """Whether the cell is within budget (`limit`), and the word that says so."""
    if not over_budget(cell, limit):
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
    return False, f"OVER the {limit:.2f}x budget"


def render(
    cells: Sequence[Cell], version: str, accepted: Sequence[Acceptance], limit: float = BUDGET
) -> str:
    """The table: each cell's typical batch of both trees, its ratio, interval and verdict."""
    header = (
        f"{'operation':<14} {'database':<9} {'release ' + version:>15} {'now':>9} "
        f"{'ratio':>6}  {'95 % interval':<13} {'pairs':>5}  verdict"
    )
    lines = [header, "-" * len(header)]
    for cell in cells:
        _, word = verdict(cell, version, accepted, limit)
        low, high = cell.interval
        lines.append(
            f"{cell.operation:<14} {cell.database:<9} "
            f"{statistics.median(cell.release):>12.0f} us "
            f"{statistics.median(cell.now):>6.0f} us "
            f"{cell.ratio:>5.2f}x  {low:.2f}-{high:.2f}x{'':<3} {len(cell.ratios):>5}  {word}"
        )
    return "\n".join(lines)


def start_databases(
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
    """No autovacuum on the throwaway server: it would work on the rows the batches write.

    Its workers (and the statistics they gather, which could change a plan mid-run) would take
    the cores the measured processes run on, in some batches and not others, and on one
    tree's database and not the other's.
    """
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("ALTER SYSTEM SET autovacuum = off")
        connection.execute("SELECT pg_reload_conf()")


def measure(
    release_tree: Path,
    arguments: argparse.Namespace,
    scratch: Path,
    again: Sequence[Cell] = (),
    environments: tuple[dict[str, str], dict[str, str]] = ({}, {}),
) -> list[Cell]:
    """Both trees side by side (each in its environment); with `again`, more pairs of those
    cells only, added to them."""
    if again:
        kinds = [kind for kind in ("sqlite", "postgres") if any(c.database == kind for c in again)]
    else:
        kinds = [arguments.only] if arguments.only else ["sqlite", "postgres"]
    kinds, postgres_url, server = start_databases(scratch, kinds)
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
        for kind in kinds:
            measured = [operation for operation in operations if (kind, operation) in cells]
            print(
                f"-- {kind}: {arguments.pairs} pairs of {arguments.batch} requests of each of "
                f"{len(measured)} operations, the two trees side by side",
                flush=True,
            )
            release_url, now_url = databases.fresh(kind, 2)
            logs = scratch / f"{kind}-logs"
            logs.mkdir()
            batches = measure_side_by_side(
                (release_tree, REPO_ROOT),
                (release_url, now_url),
                measured,
                pairs=arguments.pairs,
                batch=arguments.batch,
                warmup=arguments.warmup,
                logs=logs,
                progress=lambda line: print(line, flush=True),
                environments=environments,
            )
            for operation, figures in batches.items():
                cells[(kind, operation)].release.extend(figures.release)
                cells[(kind, operation)].now.extend(figures.now)
        return list(cells.values())
    except ChildFailed as error:
        raise CannotMeasure(str(error)) from error
    finally:
        if server is not None:
            server.stop()


def compare(
    release_tree: Path,
    arguments: argparse.Namespace,
    scratch: Path,
    version: str,
    accepted: Sequence[Acceptance],
    *,
    limit: float = BUDGET,
    environments: tuple[dict[str, str], dict[str, str]] = ({}, {}),
) -> list[Cell]:
    """Both trees measured; the cells over budget measured again before the verdict.

    The second measurement adds as many pairs again, in new processes on new databases, and
    the verdict rests on all of them: a cell that came out over budget by chance (its
    processes' caches, its databases' layout) has a second chance, and a real slowdown is in
    every pair of both. Nothing is measured twice when everything is within budget.
    """
    (scratch / "first").mkdir()
    (scratch / "again").mkdir()
    cells = measure(release_tree, arguments, scratch / "first", environments=environments)
    over = [cell for cell in cells if not verdict(cell, version, accepted, limit)[0]]
    if over:
        names = ", ".join(
            f"{cell.operation} on {cell.database} ({cell.ratio:.2f}x)" for cell in over
        )
        print(f"-- over budget after {arguments.pairs} pairs: {names}; measuring those again")
        measure(release_tree, arguments, scratch / "again", over, environments)
    return cells


def measurement_parser(prog: str, description: str | None) -> argparse.ArgumentParser:
    """The options of a side-by-side measurement (`measure` reads them), for this command
    and the others built on it."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--pairs", type=int, default=32, help="pairs of batches per cell (32)")
    parser.add_argument("--batch", type=int, default=40, help="requests per batch (40)")
    parser.add_argument("--warmup", type=int, default=60, help="requests of each operation first")
    parser.add_argument("--only", choices=("sqlite", "postgres"), help="one database only")
    return parser


def main(argv: list[str]) -> int:
    parser = measurement_parser("python -m bench.budget", __doc__)
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
        f"\nServer CPU per request, the two trees side by side in {arguments.pairs} pairs of "
        f"batches of {arguments.batch} requests per cell (twice that for a cell over budget "
        "after the first), each batch's figure the mean of its cheaper half of requests; "
        "release and now are the trees' median batches. The verdict rests on ratio, the "
        "median of the pairs' ratios (this tree's batch over the release's), with its 95 % "
        f"interval; a cell fails when that median is over {BUDGET:.2f}x and its interval "
        "starts above 1.00x:\n"
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
