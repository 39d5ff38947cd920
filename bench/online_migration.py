"""`python -m bench.online_migration`: `alembic upgrade head` under the previous release's load.

Seeds N tasks (default 1,000,000) of 1,000 users at revision 0001 (contract 1.0.0's schema)
on a throwaway PostgreSQL, then upgrades to head while release 1.0.0's list, insert and
update statements run from four connections (tests/support/previous_release.py). Prints the
upgrade's duration, the longest wait of any of those statements, and whether every
acknowledged write is there afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from alembic import command

from backend.storage.schema import alembic_config
from tests.support.postgres import start_postgres
from tests.support.previous_release import (
    UpgradeUnderLoad,
    seed_revision_1,
    stored_rows,
    upgrade_under_load,
)

USERS = 1_000


def time_online_migration(tasks: int) -> UpgradeUnderLoad:
    """Run the upgrade of `tasks` seeded tasks under load; print and return its figures."""
    with tempfile.TemporaryDirectory(prefix="online-migration-") as scratch:
        server = start_postgres(Path(scratch) / "postgres")
        try:
            url = server.create_database("migration")
            conninfo = server.conninfo("migration")
            command.upgrade(alembic_config(url), "0001")
            started = time.perf_counter()
            seed_revision_1(conninfo, tasks=tasks, users=USERS)
            seeded = time.perf_counter() - started
            print(f"== {tasks:,} tasks of {USERS:,} users at 0001 in {seeded:.1f} s")
            result = asyncio.run(upgrade_under_load(url, conninfo, tasks=tasks, users=USERS))
            traffic = result.traffic
            kept = stored_rows(conninfo, list(traffic.acknowledged)) == traffic.acknowledged
        finally:
            server.destroy()
    if result.returncode != 0:
        raise SystemExit(f"alembic upgrade head failed:\n{result.output}")
    print(f"== alembic upgrade 0001 -> head under load: {result.seconds:.1f} s")
    print(
        f"== {traffic.statements:,} statements of the previous release meanwhile: "
        f"{len(traffic.failures)} failed; the longest waited {traffic.longest_wait:.3f} s "
        f"({traffic.longest_statement}, {traffic.longest_started_at - result.started_at:.1f} s "
        f"into the upgrade); {len(traffic.acknowledged):,} acknowledged writes, "
        f"{'all' if kept else 'NOT all'} kept"
    )
    return result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.online_migration", description=__doc__)
    parser.add_argument("--tasks", type=int, default=1_000_000)
    time_online_migration(parser.parse_args(argv).tasks)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
