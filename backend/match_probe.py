"""SQLite's probe of a list's tags and words: how many of the owner's tasks each matches, bounded.

The store asks it before reading a window of the owner's range (backend/store.py, _plans):
when every tag and the words match few tasks, a window would hold too few of them to fill a
page, and the matches themselves are cheap to sort, so the list starts from them instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy import (
    ColumnElement,
    Integer,
    Label,
    Select,
    bindparam,
    column,
    func,
    literal_column,
    select,
    table,
)

from backend.models import SEARCH_TABLE, TaskRecord, TaskTagRecord

# A tag or the words of fewer of the owner's tasks than this start from their matches.
FEW_MATCHES: Final = 100

tasks = TaskRecord.__table__  # type: ignore[attr-defined]
task_tag = TaskTagRecord.__table__  # type: ignore[attr-defined]


def _bounded_count(found: Select[Any], name: str) -> Label[int]:
    """How many rows `found` has, counting no further than FEW_MATCHES."""
    bounded = found.limit(bindparam("few_matches", type_=Integer)).subquery()
    return select(func.count()).select_from(bounded).scalar_subquery().label(name)


def probe_statement(tags: int, full_text: bool) -> Select[Any]:
    """One row: for each tag (`tag_0`, ...) and for the words (`words`), a bounded count.

    Each count reads at most FEW_MATCHES index entries: the owner's `task_tag` rows of the
    tag (`ix_task_tag_owner_tag` alone), or the trigram index's matches joined to the
    owner's tasks by primary key (`user_id || ''`, which no index serves, keeps SQLite's
    planner from starting at the owner's range).
    """
    counts: list[ColumnElement[Any]] = []
    for index in range(tags):
        tagged = select(task_tag.c.task_id).where(
            task_tag.c.user_id == bindparam("owner"),
            task_tag.c.tag == bindparam(f"tag_{index}"),
        )
        counts.append(_bounded_count(tagged, f"tag_{index}"))
    if full_text:
        search = table(SEARCH_TABLE, column("rowid"))
        matching = (
            select(tasks.c.id)
            .select_from(search.join(tasks, tasks.c.id == search.c.rowid))
            .where(
                literal_column(SEARCH_TABLE).op("MATCH")(bindparam("full_text")),
                tasks.c.user_id.concat(literal_column("''")) == bindparam("owner"),
            )
        )
        counts.append(_bounded_count(matching, "words"))
    return select(*counts)


def probe_params() -> dict[str, int]:
    return {"few_matches": FEW_MATCHES}


def few_matches(counts: Mapping[str, Any]) -> bool:
    """Whether every tag and the words match fewer than FEW_MATCHES of the owner's tasks."""
    return all(count < FEW_MATCHES for count in counts.values())
