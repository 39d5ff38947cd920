"""The schema comparer on an object's fields: removed, added, required, and other fields."""

from __future__ import annotations

from typing import Any

import pytest

from contractdiff import rules
from contractdiff.changes import Rule
from contractdiff.schemas import Direction
from tests.contractdiff.schema_diff import AT, REQUEST, RESPONSE, diff

BOTH = pytest.mark.parametrize("direction", [REQUEST, RESPONSE])
STRING = {"type": "string"}


def obj(required: tuple[str, ...] = (), **properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(required)}


def field(name: str) -> str:
    return f"{AT}/properties/{name}"


@pytest.mark.parametrize(
    ("direction", "removed", "changed"),
    [
        (REQUEST, rules.REQUEST_FIELD_REMOVED, rules.REQUEST_TYPE_NARROWED),
        (RESPONSE, rules.RESPONSE_FIELD_REMOVED, rules.RESPONSE_TYPE_CHANGED),
    ],
)
def test_a_field_removed_and_the_next_one_still_compared(
    direction: Direction, removed: Rule, changed: Rule
) -> None:
    old = obj(a=STRING, b=STRING)
    new = obj(b={"type": "integer"})
    assert diff(old, new, direction) == [
        (removed, field("a"), AT, "T.a", "T.a: field removed"),
        (changed, f"{field('b')}/type", f"{field('b')}/type", "T.b", "T.b: type string -> integer"),
    ]


@pytest.mark.parametrize(
    ("direction", "optional", "required"),
    [
        (REQUEST, rules.REQUEST_FIELD_MADE_OPTIONAL, rules.REQUEST_FIELD_MADE_REQUIRED),
        (RESPONSE, rules.RESPONSE_FIELD_MADE_OPTIONAL, rules.RESPONSE_FIELD_MADE_REQUIRED),
    ],
)
def test_fields_made_optional_or_required(
    direction: Direction, optional: Rule, required: Rule
) -> None:
    # c stays required and d stays optional: neither is a change.
    old = obj(("a", "c"), a=STRING, b=STRING, c=STRING, d=STRING)
    new = obj(("b", "c"), a=STRING, b=STRING, c=STRING, d=STRING)
    assert diff(old, new, direction) == [
        (optional, field("a"), field("a"), "T.a", "T.a: now optional"),
        (required, field("b"), field("b"), "T.b", "T.b: now required"),
    ]


def test_a_field_made_required_is_compared_too() -> None:
    old = obj(a=STRING)
    new = obj(("a",), a={"type": "string", "maxLength": 3})
    assert diff(old, new, REQUEST) == [
        (rules.REQUEST_FIELD_MADE_REQUIRED, field("a"), field("a"), "T.a", "T.a: now required"),
        (
            rules.REQUEST_CONSTRAINT_TIGHTENED,
            f"{field('a')}/maxLength",
            f"{field('a')}/maxLength",
            "T.a",
            "T.a: maxLength (none) -> 3",
        ),
    ]


def test_fields_added_to_a_request_say_whether_they_are_required() -> None:
    old = obj(a=STRING)
    new = obj(("b",), a=STRING, b=STRING, c=STRING)
    assert diff(old, new, REQUEST) == [
        (
            rules.REQUEST_FIELD_ADDED_REQUIRED,
            field("b"),
            field("b"),
            "T.b",
            "T.b: new required field",
        ),
        (
            rules.REQUEST_FIELD_ADDED_OPTIONAL,
            field("c"),
            field("c"),
            "T.c",
            "T.c: new optional field",
        ),
    ]


def test_a_field_added_to_a_response_warns_when_the_old_object_was_closed() -> None:
    added = (field("b"), field("b"), "T.b")
    assert diff(obj(a=STRING), obj(("b",), a=STRING, b=STRING)) == [
        (rules.RESPONSE_FIELD_ADDED, *added, "T.b: new field")
    ]
    closed = {"additionalProperties": False}
    assert diff(obj(a=STRING) | closed, obj(a=STRING, b=STRING) | closed) == [
        (
            rules.RESPONSE_FIELD_ADDED_TO_CLOSED,
            *added,
            "T.b: new field (the old T forbade other fields: clients that validate strictly "
            "reject it)",
        )
    ]


@BOTH
def test_fields_without_properties_or_required_on_one_side(direction: Direction) -> None:
    request = direction is REQUEST
    added = rules.REQUEST_FIELD_ADDED_REQUIRED if request else rules.RESPONSE_FIELD_ADDED
    removed = rules.REQUEST_FIELD_REMOVED if request else rules.RESPONSE_FIELD_REMOVED
    bare, full = {"type": "object"}, {"properties": {"a": STRING}, "required": ["a"]}
    message = "T.a: new required field" if request else "T.a: new field"
    assert diff(bare, full, direction) == [(added, field("a"), field("a"), "T.a", message)]
    assert diff(full, bare, direction) == [(removed, field("a"), AT, "T.a", "T.a: field removed")]


@pytest.mark.parametrize(
    ("direction", "closed", "opened"),
    [
        (REQUEST, rules.REQUEST_CLOSED, rules.REQUEST_OPENED),
        (RESPONSE, rules.RESPONSE_CLOSED, rules.RESPONSE_OPENED),
    ],
)
def test_other_fields_rejected_or_allowed(direction: Direction, closed: Rule, opened: Rule) -> None:
    pointer = f"{AT}/additionalProperties"
    shut = obj(a=STRING) | {"additionalProperties": False}
    assert diff(obj(a=STRING), shut, direction) == [
        (closed, pointer, pointer, "T", "T: other fields now rejected")
    ]
    assert diff(shut, obj(a=STRING), direction) == [
        (opened, pointer, pointer, "T", "T: other fields now allowed")
    ]


@BOTH
@pytest.mark.parametrize("other_fields", [True, {}, {"type": "string"}])
def test_other_fields_allowed_in_any_form_are_open(direction: Direction, other_fields: Any) -> None:
    given = obj(a=STRING) | {"additionalProperties": other_fields}
    assert diff(obj(a=STRING), given, direction) == []
    assert diff(given, obj(a=STRING), direction) == []
