"""Entity tags and the conditional headers of contract 1.3.0 (RFC 9110 §8.8.3, §13.1).

A task's ETag is its row version as a strong tag, `"3"`. `If-Match` on a write names the
versions the task may have; the store checks them in the statement that writes, so the
check and the write are one step. `If-None-Match` on a read compares weakly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# One entity tag of a list: W/ marks a weak one; the header's pattern (the contract's) has
# already refused anything else, so this only splits.
ENTITY_TAG = re.compile(r'(W/)?"([^"]*)"')
ANY = "*"
MAX_VERSION_DIGITS = 18


class PreconditionFailed(Exception):
    """`If-Match` names no tag the task has: it changed since it was read, or is gone."""

    def __init__(self, task_id: int) -> None:
        super().__init__(f"task {task_id} has none of the tags of If-Match")
        self.task_id = task_id


class PreconditionRequired(Exception):
    """The server requires `If-Match` on writes, and the request has none."""


def etag_of(version: int) -> str:
    return f'"{version}"'


@dataclass(frozen=True, slots=True)
class Expected:
    """The versions a write accepts: `versions` None for `*` (any existing task)."""

    versions: tuple[int, ...] | None

    @property
    def satisfiable(self) -> bool:
        """False when no task can match (only weak or foreign tags): 412 without a query."""
        return self.versions is None or bool(self.versions)


def expected_of(if_match: str) -> Expected:
    """`If-Match` as versions: strong comparison, so a weak tag never matches."""
    if if_match.strip() == ANY:
        return Expected(None)
    versions = {
        int(opaque)
        for weak, opaque in ENTITY_TAG.findall(if_match)
        if not weak and _is_version(opaque)
    }
    return Expected(tuple(sorted(versions)))


def _is_version(opaque: str) -> bool:
    """Whether an opaque tag is one etag_of() writes: the strong comparison is character by
    character, so `"01"` is not `"1"`. 18 digits at most: any version fits a 64-bit column."""
    return (
        opaque.isascii()
        and opaque.isdigit()
        and not opaque.startswith("0")
        and len(opaque) <= MAX_VERSION_DIGITS
    )


def none_match(if_none_match: str, version: int) -> bool:
    """Whether `If-None-Match` names this version (weak comparison) or is `*`: then 304."""
    if if_none_match.strip() == ANY:
        return True
    return any(opaque == str(version) for _, opaque in ENTITY_TAG.findall(if_none_match))
