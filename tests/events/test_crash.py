"""Crash test of the events outbox: servers killed with `kill -9` at random moments while
reminders come due and tasks are written, a receiver that fails 30 % of attempts; every
committed change and every due reminder still arrives, at least once, under one id each,
numbered per task without gaps, and nothing arrives for a change that did not commit.

PostgreSQL with two server processes of two workers each; SQLite with one process. The same
run at full size (10,000 reminders) is `make bench`'s (bench/crash.py, docs/PERFORMANCE.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.conftest import DATABASES
from tests.support.crash.checks import summary
from tests.support.crash.run import Layout, Size, crash_run
from tests.support.live_server import own_database

pytestmark = pytest.mark.slow

# Sized for a minute or so per database on two busy cores: the reminders all fall on the
# first whole minute at least 6 s after seeding (a reminder's moment is on a minute).
TEST_SIZE = Size(
    reminders=400,
    moments=1,
    owners=8,
    writes=300,
    kills=3,
    touched=0.3,
    lead_seconds=6.0,
    tail_seconds=10.0,
    seed_rate=100.0,
    drain_timeout_seconds=120.0,
)
# Database -> (server processes, uvicorn workers each).
LAYOUTS = {"postgres": (2, 2), "sqlite": (1, 1)}


@pytest.fixture(params=DATABASES, ids=DATABASES)
def crash_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database of the test's own (the relays claim every owner's reminders)."""
    return own_database(request, tmp_path, "crash")


def test_every_committed_change_and_due_reminder_arrives_through_kills(
    crash_database: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    database = request.node.callspec.params["crash_database"]
    processes, workers = LAYOUTS[database]
    run = crash_run(
        Layout(crash_database, processes, workers),
        TEST_SIZE,
        tmp_path,
        title=f"crash test on {database}: {processes} x {workers} workers",
    )
    with capsys.disabled():
        sys.stdout.write("\n" + "\n".join(run.figures) + "\n")
    assert run.problems == [], summary(run.problems) + "\n" + "\n".join(run.figures)
