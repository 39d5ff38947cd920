"""`python -m bench`: measure the API against its baselines and write docs/BENCHMARKS.md."""

import argparse
import contextlib
import dataclasses
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

from bench import database as db
from bench.budget import CannotMeasure, last_release, worktree
from bench.codegen_timing import time_codegen
from bench.load import ensure_wrk
from bench.online_migration import time_online_migration
from bench.plan import DatabaseReport, Options, run_database
from bench.report import console_summary, machine_facts, render
from tests.support.postgres import PostgresUnavailable, start_postgres

REPO_ROOT = Path(__file__).resolve().parent.parent


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="2 s runs, scaling up to 100k (about 5 min)"
    )
    parser.add_argument(
        "--duration", type=int, help="whole seconds per measurement (default 5; quick 2)"
    )
    parser.add_argument("--rounds", type=int, help="interleaved rounds, at least 3 (default 3)")
    parser.add_argument(
        "--max-scale", type=int, help="largest scaling dataset (default 1,000,000; quick 100,000)"
    )
    parser.add_argument("--only", choices=("sqlite", "postgres"), help="one database only")
    parser.add_argument("--skip-scaling", action="store_true", help="no 1k/100k/1M list runs")
    parser.add_argument(
        "--tree",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="another checkout of the API to measure beside this one (repeatable), "
        "e.g. 1.0.0=../release-1.0.0; the last release's tree is measured unless --no-release",
    )
    parser.add_argument(
        "--no-release", action="store_true", help="do not measure the last release's tree"
    )
    parser.add_argument(
        "--migration-tasks",
        type=int,
        default=1_000_000,
        help="tasks upgraded to head under the previous release's load (0 skips it)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=REPO_ROOT / "docs" / "BENCHMARKS.md",
        help="where the Markdown report goes (default docs/BENCHMARKS.md)",
    )
    return parser.parse_args(argv)


def named_trees(arguments: argparse.Namespace) -> list[tuple[str, Path]]:
    trees = []
    for given in arguments.tree:
        name, separator, path = given.partition("=")
        if not separator or not Path(path).is_dir():
            raise SystemExit(f"--tree {given!r}: expected NAME=PATH of a checkout")
        trees.append((name, Path(path).resolve()))
    return trees


def build_options(arguments: argparse.Namespace) -> Options:
    duration = float(arguments.duration or (2 if arguments.quick else 5))
    rounds = arguments.rounds or 3
    if rounds < 3:
        raise SystemExit("--rounds must be at least 3 (medians of interleaved rounds)")
    return Options(
        duration=duration,
        warmup=1.0,
        rounds=rounds,
        users=10,
        tasks_per_user=1_000,
        max_scale=arguments.max_scale or (100_000 if arguments.quick else 1_000_000),
        skip_scaling=arguments.skip_scaling,
        deep_walk_seconds=8.0 if arguments.quick else 30.0,
    )


def main(argv: list[str]) -> int:
    arguments = parse_arguments(argv)
    with contextlib.ExitStack() as stack:
        trees = named_trees(arguments)
        if not arguments.no_release:
            try:
                version, commit = last_release()
            except CannotMeasure as error:
                raise SystemExit(f"the last release's tree cannot be measured: {error}") from None
            scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
            trees.insert(0, (f"release {version}", stack.enter_context(worktree(commit, scratch))))
        options = dataclasses.replace(build_options(arguments), trees=tuple(trees))
        return measure_all(arguments, options, argv)


def measure_all(arguments: argparse.Namespace, options: Options, argv: list[str]) -> int:
    started = time.monotonic()
    wrk = ensure_wrk()
    load = os.getloadavg()[0]
    print(f"== load average (1 min) now {load:.2f} on {os.cpu_count()} cores")
    if load > 0.5 * (os.cpu_count() or 1):
        print("!! the machine is busy: figures will be noisy (each table reports the load seen)")
    secret = secrets.token_urlsafe(32)  # BETTER_AUTH_SECRET for every server: 43 characters
    kinds = [arguments.only] if arguments.only else ["sqlite", "postgres"]
    reports: list[DatabaseReport] = []
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        workdir = Path(scratch)
        for kind in kinds:
            print(f"== {kind}")
            if kind == "sqlite":
                database = db.sqlite_database(workdir / "bench.sqlite3")
                reports.append(run_database(database, REPO_ROOT, workdir, secret, wrk, options))
                continue
            try:
                server = start_postgres(workdir / "postgres")
            except PostgresUnavailable as missing:
                if arguments.only == "postgres":
                    raise SystemExit(f"PostgreSQL unavailable: {missing}") from missing
                print(f"!! PostgreSQL skipped: {missing}")
                continue
            try:
                url = server.create_database("bench")
                database = db.postgres_database(url, server.conninfo("bench"))
                reports.append(run_database(database, REPO_ROOT, workdir, secret, wrk, options))
            finally:
                server.destroy()
    print("== codegen timing")
    codegen = time_codegen(REPO_ROOT)
    if arguments.migration_tasks and arguments.only != "sqlite":
        print("== online migration: alembic upgrade head under the previous release's load")
        time_online_migration(arguments.migration_tasks)

    mode = "quick" if arguments.quick else "full"
    command = "python -m bench" + (" " + " ".join(argv) if argv else "")
    markdown = render(machine_facts(wrk, options, mode), reports, codegen, command)
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_text(markdown)
    print(console_summary(reports, codegen))
    failures = sum(
        result.status_errors + result.socket_errors
        for report in reports
        for result in [*report.results, *report.scaling]
    )
    elapsed = time.monotonic() - started
    print(f"\n== wrote {arguments.output} in {elapsed / 60:.1f} min")
    if failures:
        print(f"!! {failures} failed requests during measured runs: see the tables")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
