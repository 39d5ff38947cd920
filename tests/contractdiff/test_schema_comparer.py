"""The schema comparer on two small schemas: null, `$ref`s, types, formats, defaults, items.

Each test names every change the comparer reports, with its rule, pointer, anchor, subject
and message, and no other. Constraints and enums are in test_schema_constraints.py,
properties in test_schema_properties.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from contractdiff import rules
from contractdiff.changes import Rule
from contractdiff.schemas import Direction
from tests.contractdiff.schema_diff import AT, REQUEST, RESPONSE, diff, ref

BOTH = pytest.mark.parametrize("direction", [REQUEST, RESPONSE])


@pytest.mark.parametrize(
    ("direction", "removed", "added"),
    [
        (REQUEST, rules.REQUEST_NULL_REMOVED, rules.REQUEST_NULL_ADDED),
        (RESPONSE, rules.RESPONSE_NULL_REMOVED, rules.RESPONSE_NULL_ADDED),
    ],
)
def test_null_removed_and_added(direction: Direction, removed: Rule, added: Rule) -> None:
    plain = {"type": "string"}
    assert diff({"type": ["string", "null"]}, plain, direction) == [
        (removed, AT, AT, "T", "T: null is no longer allowed")
    ]
    assert diff(plain, {"anyOf": [plain, {"type": "null"}]}, direction) == [
        (added, AT, AT, "T", "T: may now be null")
    ]


@BOTH
def test_null_written_either_way_is_the_same_schema(direction: Direction) -> None:
    nullable = {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert diff({"type": ["string", "null"]}, nullable, direction) == []
    assert diff(nullable, {"type": ["string", "null"]}, direction) == []


def test_a_shared_ref_is_compared_where_declared_and_only_its_siblings_here() -> None:
    # The component's own change is reported at the component (compare_components).
    base, head = {"S": {"type": "string"}}, {"S": {"type": "integer"}}
    old, new = {**ref("S"), "default": "a"}, {**ref("S"), "default": "b"}
    assert diff(old, new, REQUEST, base=base, head=head) == [
        (rules.DEFAULT_CHANGED, f"{AT}/default", f"{AT}/default", "T", "T: default 'a' -> 'b'")
    ]
    assert diff(ref("S"), ref("S"), base=base, head=head) == []


@pytest.mark.parametrize(
    ("direction", "rule"),
    [
        (REQUEST, rules.REQUEST_CONSTRAINT_TIGHTENED),
        (RESPONSE, rules.RESPONSE_CONSTRAINT_TIGHTENED),
    ],
)
def test_what_sits_beside_a_shared_ref_is_read_in_the_direction_of_the_data(
    direction: Direction, rule: Rule
) -> None:
    schemas = {"S": {"type": "string"}}
    new = {**ref("S"), "maxLength": 5}
    assert diff(ref("S"), new, direction, base=schemas, head=schemas) == [
        (rule, f"{AT}/maxLength", f"{AT}/maxLength", "T", "T: maxLength (none) -> 5")
    ]


def test_two_refs_are_compared_by_what_they_name_in_their_own_document() -> None:
    base, head = {"A": {"type": "string"}}, {"B": {"type": "integer"}}
    assert diff(ref("A"), ref("B"), base=base, head=head) == [
        (rules.RESPONSE_TYPE_CHANGED, f"{AT}/type", f"{AT}/type", "T", "T: type string -> integer")
    ]


def test_a_ref_on_one_side_is_compared_with_the_inline_schema_on_the_other() -> None:
    changed = (rules.RESPONSE_TYPE_CHANGED, f"{AT}/type", f"{AT}/type", "T")
    assert diff(ref("A"), {"type": "integer"}, base={"A": {"type": "string"}}) == [
        (*changed, "T: type string -> integer")
    ]
    assert diff({"type": "string"}, ref("B"), head={"B": {"type": "integer"}}) == [
        (*changed, "T: type string -> integer")
    ]


def test_a_nullable_ref_is_compared_by_what_it_names() -> None:
    head = {"B": {"type": "string"}}
    assert diff({"type": "integer"}, {"anyOf": [ref("B"), {"type": "null"}]}, head=head) == [
        (rules.RESPONSE_NULL_ADDED, AT, AT, "T", "T: may now be null"),
        (rules.RESPONSE_TYPE_CHANGED, f"{AT}/type", f"{AT}/type", "T", "T: type integer -> string"),
    ]
    base = {"A": {"type": "string"}}
    assert diff({"anyOf": [ref("A"), {"type": "null"}]}, {"type": "integer"}, base=base) == [
        (rules.RESPONSE_NULL_REMOVED, AT, AT, "T", "T: null is no longer allowed"),
        (rules.RESPONSE_TYPE_CHANGED, f"{AT}/type", f"{AT}/type", "T", "T: type string -> integer"),
    ]


def test_a_cycle_of_refs_is_followed_once() -> None:
    base = {"Node": {"type": "object", "properties": {"next": ref("Node")}}}
    head = {"Item": {"type": "object", "description": "d", "properties": {"next": ref("Item")}}}
    assert diff(ref("Node"), ref("Item"), base=base, head=head) == [
        (
            rules.DOCUMENTATION_CHANGED,
            f"{AT}/description",
            f"{AT}/description",
            "T",
            "T: description changed",
        )
    ]


def test_a_ref_that_names_itself_ends_against_an_inline_schema() -> None:
    assert diff(ref("Loop"), {"type": "string"}, base={"Loop": ref("Loop")}) == []
    assert diff({"type": "string"}, ref("Loop"), head={"Loop": ref("Loop")}) == []


def test_a_ref_against_an_inline_schema_is_followed_as_deep_as_the_inline_schema_goes() -> None:
    # Each level of the inline schema is a schema of its own: meeting the same $ref again
    # one level down is no cycle, and a change there is reported.
    node = {"Node": {"type": "object", "properties": {"next": ref("Node")}}}
    inline = {"type": "object", "properties": {"next": {"type": "string"}}}
    deep = {"type": "object", "properties": {"next": inline}}
    second = f"{AT}/properties/next/properties/next"
    assert diff(ref("Node"), deep, base=node) == [
        (
            rules.RESPONSE_TYPE_CHANGED,
            f"{second}/type",
            f"{second}/type",
            "T.next.next",
            "T.next.next: type object -> string",
        ),
        (
            rules.RESPONSE_FIELD_REMOVED,
            f"{second}/properties/next",
            second,
            "T.next.next.next",
            "T.next.next.next: field removed",
        ),
    ]
    assert diff(deep, ref("Node"), head=node) == [
        (
            rules.RESPONSE_TYPE_CHANGED,
            f"{second}/type",
            f"{second}/type",
            "T.next.next",
            "T.next.next: type string -> object",
        ),
        (
            rules.RESPONSE_FIELD_ADDED,
            f"{second}/properties/next",
            f"{second}/properties/next",
            "T.next.next.next",
            "T.next.next.next: new field",
        ),
    ]


def test_the_same_pair_of_refs_is_compared_again_at_another_place() -> None:
    base, head = {"A": {"type": "string"}}, {"B": {"type": "integer"}}
    old = {"type": "object", "properties": {"a": ref("A"), "b": ref("A")}}
    new = {"type": "object", "properties": {"a": ref("B"), "b": ref("B")}}
    assert diff(old, new, base=base, head=head) == [
        (
            rules.RESPONSE_TYPE_CHANGED,
            f"{AT}/properties/{name}/type",
            f"{AT}/properties/{name}/type",
            f"T.{name}",
            f"T.{name}: type string -> integer",
        )
        for name in ("a", "b")
    ]


def test_a_pair_of_refs_is_told_apart_by_its_old_ref() -> None:
    # Comparing Y with B leads to X with B: a pair of its own, whose change is reported.
    base = {
        "Y": {"type": "object", "properties": {"child": ref("X")}},
        "X": {"type": "string"},
    }
    head = {"B": {"type": "object", "properties": {"child": ref("B")}}}
    child, grandchild = f"{AT}/properties/child", f"{AT}/properties/child/properties/child"
    assert diff(ref("Y"), ref("B"), base=base, head=head) == [
        (
            rules.RESPONSE_TYPE_CHANGED,
            f"{child}/type",
            f"{child}/type",
            "T.child",
            "T.child: type string -> object",
        ),
        (
            rules.RESPONSE_FIELD_ADDED,
            grandchild,
            grandchild,
            "T.child.child",
            "T.child.child: new field",
        ),
    ]


def test_a_pair_of_refs_is_told_apart_by_its_new_ref() -> None:
    base = {"A": {"type": "object", "properties": {"child": ref("A")}}}
    head = {
        "Y": {"type": "object", "properties": {"child": ref("X")}},
        "X": {"type": "string"},
    }
    child, grandchild = f"{AT}/properties/child", f"{AT}/properties/child/properties/child"
    assert diff(ref("A"), ref("Y"), base=base, head=head) == [
        (
            rules.RESPONSE_TYPE_CHANGED,
            f"{child}/type",
            f"{child}/type",
            "T.child",
            "T.child: type object -> string",
        ),
        (
            rules.RESPONSE_FIELD_REMOVED,
            grandchild,
            child,
            "T.child.child",
            "T.child.child: field removed",
        ),
    ]


TWO = ["string", "integer"]
TYPES = [
    (REQUEST, "integer", "number", rules.REQUEST_TYPE_WIDENED, "integer -> number"),
    (REQUEST, "string", TWO, rules.REQUEST_TYPE_WIDENED, "string -> integer/string"),
    (REQUEST, TWO, "string", rules.REQUEST_TYPE_NARROWED, "integer/string -> string"),
    (REQUEST, "string", "number", rules.REQUEST_TYPE_NARROWED, "string -> number"),
    (REQUEST, "number", "integer", rules.REQUEST_TYPE_NARROWED, "number -> integer"),
    (RESPONSE, TWO, "string", rules.RESPONSE_TYPE_NARROWED, "integer/string -> string"),
    (RESPONSE, "number", "integer", rules.RESPONSE_TYPE_NARROWED, "number -> integer"),
    (
        RESPONSE,
        ["number", "string"],
        "integer",
        rules.RESPONSE_TYPE_NARROWED,
        "number/string -> integer",
    ),
    (RESPONSE, "string", "integer", rules.RESPONSE_TYPE_CHANGED, "string -> integer"),
    (RESPONSE, "integer", "number", rules.RESPONSE_TYPE_CHANGED, "integer -> number"),
    (RESPONSE, "string", TWO, rules.RESPONSE_TYPE_CHANGED, "string -> integer/string"),
]


@pytest.mark.parametrize(("direction", "old", "new", "rule", "change"), TYPES)
def test_a_type_change_is_read_in_the_direction_of_the_data(
    direction: Direction, old: Any, new: Any, rule: Rule, change: str
) -> None:
    assert diff({"type": old}, {"type": new}, direction) == [
        (rule, f"{AT}/type", f"{AT}/type", "T", f"T: type {change}")
    ]


@BOTH
def test_a_type_given_on_one_side_only_is_no_change(direction: Direction) -> None:
    assert diff({}, {"type": "string"}, direction) == []
    assert diff({"type": "string"}, {}, direction) == []


FORMATS = [
    (REQUEST, None, "date", rules.REQUEST_TYPE_NARROWED, "(none) -> date"),
    (REQUEST, "date", None, rules.REQUEST_TYPE_WIDENED, "date -> (none)"),
    (REQUEST, "date", "date-time", rules.REQUEST_TYPE_NARROWED, "date -> date-time"),
    (RESPONSE, None, "date", rules.RESPONSE_TYPE_NARROWED, "(none) -> date"),
    (RESPONSE, "date", None, rules.RESPONSE_TYPE_CHANGED, "date -> (none)"),
    (RESPONSE, "date", "date-time", rules.RESPONSE_TYPE_CHANGED, "date -> date-time"),
]


@pytest.mark.parametrize(("direction", "old", "new", "rule", "change"), FORMATS)
def test_a_format_change_is_read_in_the_direction_of_the_data(
    direction: Direction, old: str | None, new: str | None, rule: Rule, change: str
) -> None:
    def string(format_name: str | None) -> dict[str, str]:
        return {"type": "string"} | ({"format": format_name} if format_name else {})

    anchor = f"{AT}/format" if new else AT
    assert diff(string(old), string(new), direction) == [
        (rule, f"{AT}/format", anchor, "T", f"T: format {change}")
    ]


@BOTH
def test_a_default_added_changed_or_removed(direction: Direction) -> None:
    pointer = f"{AT}/default"
    found = (rules.DEFAULT_CHANGED, pointer)
    assert diff({"default": 1}, {"default": 2}, direction) == [
        (*found, pointer, "T", "T: default 1 -> 2")
    ]
    assert diff({}, {"default": "a"}, direction) == [
        (*found, pointer, "T", "T: default '(none)' -> 'a'")
    ]
    assert diff({"default": "a"}, {}, direction) == [
        (*found, AT, "T", "T: default 'a' -> '(none)'")
    ]
    assert diff({"default": 1}, {"default": 1}, direction) == []


@pytest.mark.parametrize("keyword", ["description", "title", "examples", "example"])
def test_documentation_added_changed_or_removed(keyword: str) -> None:
    pointer = f"{AT}/{keyword}"
    found = (rules.DOCUMENTATION_CHANGED, pointer)
    message = f"T: {keyword} changed"
    assert diff({keyword: "a"}, {keyword: "b"}) == [(*found, pointer, "T", message)]
    assert diff({}, {keyword: "b"}) == [(*found, pointer, "T", message)]
    assert diff({keyword: "a"}, {}, REQUEST) == [(*found, AT, "T", message)]
    assert diff({keyword: "a"}, {keyword: "a"}) == []


@BOTH
def test_the_items_of_an_array_are_compared_in_the_same_direction(direction: Direction) -> None:
    rule = rules.REQUEST_TYPE_NARROWED if direction is REQUEST else rules.RESPONSE_TYPE_CHANGED
    old = {"type": "array", "items": {"type": "string"}}
    new = {"type": "array", "items": {"type": "integer"}}
    assert diff(old, new, direction) == [
        (rule, f"{AT}/items/type", f"{AT}/items/type", "T[]", "T[]: type string -> integer")
    ]


def test_items_given_on_one_side_only_are_not_compared() -> None:
    described = (rules.DOCUMENTATION_CHANGED, f"{AT}/description", f"{AT}/description")
    items = {"type": "array", "items": {"type": "string"}}
    assert diff(items, {"type": "array", "description": "d"}) == [
        (*described, "T", "T: description changed")
    ]
    assert diff({"type": "array"}, {**items, "description": "d"}) == [
        (*described, "T", "T: description changed")
    ]


def test_properties_are_compared_when_either_side_is_an_object() -> None:
    closed = {"type": "object", "additionalProperties": False}
    typed = (rules.RESPONSE_TYPE_CHANGED, f"{AT}/type", f"{AT}/type", "T")
    fields = (f"{AT}/additionalProperties", f"{AT}/additionalProperties", "T")
    assert diff(closed, {"type": "string"}) == [
        (*typed, "T: type object -> string"),
        (rules.RESPONSE_OPENED, *fields, "T: other fields now allowed"),
    ]
    assert diff({"type": "string"}, closed) == [
        (*typed, "T: type string -> object"),
        (rules.RESPONSE_CLOSED, *fields, "T: other fields now rejected"),
    ]


def test_properties_are_compared_when_either_side_has_them_without_a_type() -> None:
    field = f"{AT}/properties/a"
    assert diff({"properties": {"a": {}}}, {}) == [
        (rules.RESPONSE_FIELD_REMOVED, field, AT, "T.a", "T.a: field removed")
    ]
    assert diff({}, {"properties": {"a": {}}}) == [
        (rules.RESPONSE_FIELD_ADDED, field, field, "T.a", "T.a: new field")
    ]
