"""SQLite's probe of a list's tags: how many of the owner's tasks each matches, bounded.

The store asks it before reading a window of the owner's range (backend/queries/pages.py): when
every tag of a list without words matches few tasks, a window would hold too few of them to
fill a page, and the matches themselves are cheap to sort, so the list starts from them.

Words are not counted. The trigram index holds every user's text and no owner, so counting
one owner's matches reads other users' matches first: in a file of 2,000,000 tasks of
10,001 users a word in 1 % of the tasks took 225 ms p50 under 16 connections (`make bench`),
against 34 ms without the count. A tag's rows are indexed by owner (`ix_task_tag_owner_tag`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy import ColumnElement, Integer, Label, Select, bindparam, func, select

from backend.storage.task_table import task_tag

# A tag of fewer of the owner's tasks than this starts from its matches.
FEW_MATCHES: Final = 100


def _bounded_count(found: Select[Any], name: str) -> Label[int]:
    """How many rows `found` has, counting no further than FEW_MATCHES."""
    bounded = found.limit(bindparam("few_matches", type_=Integer)).subquery()
    return select(func.count()).select_from(bounded).scalar_subquery().label(name)


def probe_statement(tags: int) -> Select[Any]:
    """One row: for each tag (`tag_0`, ...), a bounded count of the owner's tasks with it,
    read from `ix_task_tag_owner_tag` alone (at most FEW_MATCHES entries each)."""
    counts: list[ColumnElement[Any]] = []
    for index in range(tags):
        tagged = select(task_tag.c.task_id).where(
            task_tag.c.user_id == bindparam("owner"),
            task_tag.c.tag == bindparam(f"tag_{index}"),
        )
        counts.append(_bounded_count(tagged, f"tag_{index}"))
    return select(*counts)


def probe_params() -> dict[str, int]:
    return {"few_matches": FEW_MATCHES}


def few_matches(counts: Mapping[str, Any]) -> bool:
    """Whether every tag matches fewer than FEW_MATCHES of the owner's tasks."""
    return all(count < FEW_MATCHES for count in counts.values())
