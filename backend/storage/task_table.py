"""The tasks table as the API reads it: the table objects, and the columns of its Task."""

from __future__ import annotations

from sqlalchemy import case

from backend.storage.models import PRIORITY_RANKS, TaskRecord, TaskTagRecord

tasks = TaskRecord.__table__  # type: ignore[attr-defined]
task_tag = TaskTagRecord.__table__  # type: ignore[attr-defined]
PRIORITY_LABEL = case(
    {rank: label for label, rank in PRIORITY_RANKS.items()}, value=tasks.c.priority
).label("priority")
# The columns of generated.models.Task, in its order; the folded text stays in the database.
COLUMNS = (
    tasks.c.id,
    tasks.c.user_id,
    tasks.c.title,
    tasks.c.description,
    tasks.c.completed,
    tasks.c.due_date,
    PRIORITY_LABEL,
    tasks.c.tags,
    tasks.c.created_at,
    tasks.c.updated_at,
    tasks.c.due_time,
    tasks.c.time_zone,
    tasks.c.due_at,
    tasks.c.recurrence,
    tasks.c.next_occurrence_id,
    tasks.c.remind_before_minutes,
    tasks.c.remind_at,
)
