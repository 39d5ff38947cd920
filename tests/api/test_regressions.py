"""Regression tests: each one reproduces a defect found once, without a live server."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import sqlalchemy

from backend.schema import upgrade_to_head

MIGRATORS = 8


def _migrate_after(barrier: multiprocessing.synchronize.Barrier, url: str) -> None:
    barrier.wait(timeout=30)
    upgrade_to_head(url)


def test_workers_migrating_one_sqlite_file_at_once_all_succeed(tmp_path: Path) -> None:
    """`uvicorn --workers N` on SQLite migrates in every worker at start; two of them used to
    both find no alembic_version table, and the second died with 'table already exists'."""
    url = f"sqlite:///{tmp_path / 'todo.db'}"
    context = multiprocessing.get_context("fork")  # workers already hold alembic: tight race
    barrier = context.Barrier(MIGRATORS)
    workers = [
        context.Process(target=_migrate_after, args=(barrier, url)) for _ in range(MIGRATORS)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert [worker.exitcode for worker in workers] == [0] * MIGRATORS
    engine = sqlalchemy.create_engine(url)
    with engine.connect() as connection:
        versions = connection.execute(sqlalchemy.text("SELECT version_num FROM alembic_version"))
        assert [row[0] for row in versions] == ["0001"]
        assert connection.execute(sqlalchemy.text("SELECT count(*) FROM tasks")).scalar() == 0
    engine.dispose()
