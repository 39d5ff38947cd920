"""`python -m bench.crash`: the events crash run at full size. 10,000 reminders coming due
over three minutes and a stream of writes, every server process killed with SIGKILL at
random moments and restarted, a receiver failing 30 % of attempts; on PostgreSQL (two
processes of two workers) and SQLite (one process). Prints the figures of each, and exits
1 when a promise was broken (tests/support/crash/checks.py). tests/events/test_crash.py is
the same run, smaller."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bench.event_databases import fresh_database, machine
from tests.support.crash.checks import summary
from tests.support.crash.run import Layout, Size, crash_run

# Database -> (server processes, uvicorn workers each), as in the test.
LAYOUTS = {"postgres": (2, 2), "sqlite": (1, 1)}


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.crash", description=__doc__)
    parser.add_argument("--reminders", type=int, default=10_000)
    parser.add_argument("--minutes", type=int, default=3, help="whole minutes they fall on")
    parser.add_argument("--writes", type=int, default=3_000)
    parser.add_argument("--kills", type=int, default=4, help="per server process")
    parser.add_argument("--only", choices=tuple(LAYOUTS), help="one database only")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    arguments = parse_arguments(argv)
    size = Size(
        reminders=arguments.reminders,
        moments=arguments.minutes,
        owners=50,
        writes=arguments.writes,
        kills=arguments.kills,
        touched=0.3,
        lead_seconds=10.0,
        tail_seconds=15.0,
        seed_rate=100.0,
        drain_timeout_seconds=600.0,
    )
    print(f"== events crash run: {machine()}", flush=True)
    broken = False
    for kind in [arguments.only] if arguments.only else list(LAYOUTS):
        processes, workers = LAYOUTS[kind]
        with (
            tempfile.TemporaryDirectory(prefix=f"crash-{kind}-") as scratch,
            fresh_database(kind, Path(scratch)) as url,
        ):
            run = crash_run(
                Layout(url, processes, workers),
                size,
                Path(scratch),
                title=f"{kind}: {processes} process(es) x {workers} worker(s)",
            )
        print("\n".join(run.figures), flush=True)
        if run.problems:
            broken = True
            print(f"BROKEN: {len(run.problems)} problems\n{summary(run.problems)}", flush=True)
        else:
            print("every promise kept", flush=True)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
