"""`python -m bench.reminder_lateness`: how late reminder.due arrives after its remind_at
with a healthy receiver. 2,000 reminders due on one whole minute, two server processes of
two workers on PostgreSQL, the webhook settings' defaults (WEBHOOK_POLL_SECONDS 0.5, ...),
no kills, no other writes. Prints p50, p95, p99 and max (the target: p99 within 2 s)."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bench.event_databases import fresh_database, machine
from tests.support.crash.checks import summary
from tests.support.crash.run import Layout, Size, crash_run
from tests.support.webhook_receiver import Faults


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.reminder_lateness", description=__doc__)
    parser.add_argument("--reminders", type=int, default=2_000)
    parser.add_argument("--minutes", type=int, default=1, help="whole minutes they fall on")
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a webhook setting of the servers (WEBHOOK_POLL_SECONDS=0.2), repeatable",
    )
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    arguments = parse_arguments(argv)
    webhooks = dict(given.split("=", 1) for given in arguments.set)
    size = Size(
        reminders=arguments.reminders,
        moments=arguments.minutes,
        owners=20,
        writes=0,
        kills=0,
        touched=0.0,
        lead_seconds=10.0,
        tail_seconds=0.0,
        seed_rate=100.0,
        drain_timeout_seconds=300.0,
    )
    print(f"== reminder lateness: {machine()}", flush=True)
    with (
        tempfile.TemporaryDirectory(prefix="lateness-") as scratch,
        fresh_database(arguments.database, Path(scratch)) as url,
    ):
        run = crash_run(
            Layout(url, arguments.processes, arguments.workers),
            size,
            Path(scratch),
            faults=Faults(),
            webhooks=webhooks,
            title=f"{arguments.database}: {arguments.processes} process(es) x "
            f"{arguments.workers} worker(s), healthy receiver, {webhooks or 'default settings'}",
        )
    print("\n".join(run.figures), flush=True)
    if run.problems:
        print(f"BROKEN: {len(run.problems)} problems\n{summary(run.problems)}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
