"""The schema comparer on constraints and enums: which way each edit moves, in each direction."""

from __future__ import annotations

import pytest

from contractdiff import rules
from contractdiff.changes import Rule
from contractdiff.schemas import LOWER_BOUNDS, UPPER_BOUNDS, Direction
from tests.contractdiff.schema_diff import AT, REQUEST, RESPONSE, diff

BOTH = pytest.mark.parametrize("direction", [REQUEST, RESPONSE])
# (direction, tightened) -> the rule: a request may only relax, a response may only tighten.
CONSTRAINT: dict[tuple[Direction, bool], Rule] = {
    (REQUEST, True): rules.REQUEST_CONSTRAINT_TIGHTENED,
    (REQUEST, False): rules.REQUEST_CONSTRAINT_RELAXED,
    (RESPONSE, True): rules.RESPONSE_CONSTRAINT_TIGHTENED,
    (RESPONSE, False): rules.RESPONSE_CONSTRAINT_RELAXED,
}


def bound(keyword: str, value: object) -> dict[str, object]:
    return {} if value is None else {keyword: value}


# (before, after, tightened) for a lower bound; an upper bound moves the other way.
MOVES = [(1, 2, True), (2, 1, False), (None, 1, True), (1, None, False)]


@BOTH
@pytest.mark.parametrize("keyword", LOWER_BOUNDS + UPPER_BOUNDS)
@pytest.mark.parametrize(("before", "after", "raised"), MOVES)
def test_a_bound_added_moved_or_removed(
    direction: Direction, keyword: str, before: int | None, after: int | None, raised: bool
) -> None:
    added_or_removed = before is None or after is None
    tightened = raised if added_or_removed or keyword in LOWER_BOUNDS else not raised
    shown = [("(none)" if value is None else value) for value in (before, after)]
    assert diff(bound(keyword, before), bound(keyword, after), direction) == [
        (
            CONSTRAINT[direction, tightened],
            f"{AT}/{keyword}",
            AT if after is None else f"{AT}/{keyword}",
            "T",
            f"T: {keyword} {shown[0]} -> {shown[1]}",
        )
    ]


@BOTH
@pytest.mark.parametrize("keyword", [*LOWER_BOUNDS, *UPPER_BOUNDS, "pattern", "uniqueItems"])
def test_a_constraint_kept_is_no_change(direction: Direction, keyword: str) -> None:
    assert diff({keyword: 1}, {keyword: 1}, direction) == []


PATTERNS = [
    (REQUEST, None, "^a$", rules.REQUEST_CONSTRAINT_TIGHTENED),
    (REQUEST, "^a$", None, rules.REQUEST_CONSTRAINT_RELAXED),
    (REQUEST, "^a$", "^b$", rules.REQUEST_CONSTRAINT_TIGHTENED),
    (RESPONSE, None, "^a$", rules.RESPONSE_CONSTRAINT_TIGHTENED),
    (RESPONSE, "^a$", None, rules.RESPONSE_CONSTRAINT_RELAXED),
    # Another pattern may let through what the old one refused: an old client may fail.
    (RESPONSE, "^a$", "^b$", rules.RESPONSE_CONSTRAINT_RELAXED),
]


@pytest.mark.parametrize(("direction", "before", "after", "rule"), PATTERNS)
def test_a_pattern_added_changed_or_removed(
    direction: Direction, before: str | None, after: str | None, rule: Rule
) -> None:
    anchor = AT if after is None else f"{AT}/pattern"
    message = f"T: pattern {before or '(none)'} -> {after or '(none)'}"
    assert diff(bound("pattern", before), bound("pattern", after), direction) == [
        (rule, f"{AT}/pattern", anchor, "T", message)
    ]


# (before, after, tightened): only `true` constrains; `false` and no keyword do not.
UNIQUE_ITEMS = [
    (None, True, True),
    (False, True, True),
    (True, None, False),
    (True, False, False),
    # No constraint either way: read as relaxed, which needs no bump of its own.
    (None, False, False),
    (False, None, False),
]


@BOTH
@pytest.mark.parametrize(("before", "after", "tightened"), UNIQUE_ITEMS)
def test_unique_items_added_or_removed(
    direction: Direction, before: bool | None, after: bool | None, tightened: bool
) -> None:
    shown = [("(none)" if value is None else value) for value in (before, after)]
    assert diff(bound("uniqueItems", before), bound("uniqueItems", after), direction) == [
        (
            CONSTRAINT[direction, tightened],
            f"{AT}/uniqueItems",
            AT if after is None else f"{AT}/uniqueItems",
            "T",
            f"T: uniqueItems {shown[0]} -> {shown[1]}",
        )
    ]


@BOTH
def test_an_enum_added_or_removed_as_a_whole(direction: Direction) -> None:
    enum = {"type": "string", "enum": ["a", "b"]}
    pointer = f"{AT}/enum"
    assert diff({"type": "string"}, enum, direction) == [
        (CONSTRAINT[direction, True], pointer, pointer, "T", "T: enum added")
    ]
    assert diff(enum, {"type": "string"}, direction) == [
        (CONSTRAINT[direction, False], pointer, AT, "T", "T: enum removed")
    ]
    assert diff(enum, {"type": "string", "enum": ["a", "b"]}, direction) == []


@pytest.mark.parametrize(
    ("direction", "removed", "added"),
    [
        (REQUEST, rules.REQUEST_ENUM_VALUE_REMOVED, rules.REQUEST_ENUM_VALUE_ADDED),
        (RESPONSE, rules.RESPONSE_ENUM_VALUE_REMOVED, rules.RESPONSE_ENUM_VALUE_ADDED),
    ],
)
def test_enum_values_removed_and_added_each_where_it_is(
    direction: Direction, removed: Rule, added: Rule
) -> None:
    # A removed value points into the old enum, and is anchored at the schema.
    old = {"enum": ["a", "b", "c"]}
    new = {"enum": ["a", "c", "d", "e"]}
    assert diff(old, new, direction) == [
        (removed, f"{AT}/enum/1", AT, "T.b", "T: value 'b' removed"),
        (added, f"{AT}/enum/2", f"{AT}/enum/2", "T.d", "T: value 'd' added"),
        (added, f"{AT}/enum/3", f"{AT}/enum/3", "T.e", "T: value 'e' added"),
    ]
