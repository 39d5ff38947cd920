"""A statement's operation and table, read from its SQL: the labels and span names."""

from __future__ import annotations

import pytest

from backend.telemetry.statements import operation_of


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT tasks.id FROM tasks WHERE tasks.user_id = %(owner)s", ("SELECT", "tasks")),
        ("INSERT INTO tasks (title) VALUES (%(title)s) RETURNING tasks.id", ("INSERT", "tasks")),
        ("UPDATE tasks SET title=%(title)s WHERE tasks.id = %(id)s", ("UPDATE", "tasks")),
        ("DELETE FROM task_event WHERE task_event.id IN (SELECT 1)", ("DELETE", "task_event")),
        (
            "WITH created AS (INSERT INTO tasks (title) SELECT 1 RETURNING tasks.id), "
            "remembered AS (INSERT INTO idempotency_keys (key) SELECT 2) "
            "SELECT created.id FROM created",
            ("SELECT", "created"),
        ),
        ("SELECT 1 AS ok", ("SELECT", "other")),
        ("PRAGMA optimize", ("other", "other")),
    ],
)
def test_the_operation_and_table_of_a_statement(sql: str, expected: tuple[str, str]) -> None:
    assert operation_of(sql) == expected
