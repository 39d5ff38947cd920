"""The schema comparison's parts as plain values: `$ref`s, nullability, types, pointers."""

from __future__ import annotations

from typing import Any

import pytest

from contractdiff import rules
from contractdiff.schemas import Findings, Place, resolve, split_nullable, type_set

DOCUMENT: dict[str, Any] = {
    "components": {
        "schemas": {
            "Task": {"type": "object", "title": "task"},
            "Alias": {"$ref": "#/components/schemas/Task"},
            "Loop": {"$ref": "#/components/schemas/Loop"},
        }
    }
}


@pytest.mark.parametrize(
    ("schema", "resolved"),
    [
        ({"$ref": "#/components/schemas/Task"}, {"type": "object", "title": "task"}),
        ({"$ref": "#/components/schemas/Alias"}, {"type": "object", "title": "task"}),
        ({"$ref": "#/components/schemas/Missing"}, {}),
        ({"$ref": "#/components/schemas/Loop"}, {"$ref": "#/components/schemas/Loop"}),
        ({"type": "string"}, {"type": "string"}),
        ({"$ref": 5}, {"$ref": 5}),
    ],
)
def test_a_ref_is_followed_to_its_component(schema: dict[str, Any], resolved: Any) -> None:
    assert resolve(DOCUMENT, schema) == resolved


def test_a_ref_without_components_resolves_to_nothing() -> None:
    assert resolve({}, {"$ref": "#/components/schemas/Task"}) == {}
    assert resolve({"components": {}}, {"$ref": "#/components/schemas/Task"}) == {}


@pytest.mark.parametrize(
    ("schema", "split"),
    [
        (
            {"anyOf": [{"type": "string"}, {"type": "null"}], "description": "d"},
            ({"type": "string", "description": "d"}, True),
        ),
        (
            {
                "anyOf": [{"type": "string", "description": "inner"}, {"type": "null"}],
                "description": "d",
            },
            ({"type": "string", "description": "d"}, True),
        ),
        ({"anyOf": [{"type": "string"}]}, ({"anyOf": [{"type": "string"}]}, False)),
        (
            {"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]},
            ({"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]}, False),
        ),
        ({"type": ["string", "null"]}, ({"type": "string"}, True)),
        ({"type": ["null", "string", "integer"]}, ({"type": ["string", "integer"]}, True)),
        ({"type": ["string", "integer"]}, ({"type": ["string", "integer"]}, False)),
        ({"type": "string"}, ({"type": "string"}, False)),
    ],
)
def test_null_is_split_off(schema: dict[str, Any], split: tuple[dict[str, Any], bool]) -> None:
    assert split_nullable(schema) == split


def test_type_sets() -> None:
    assert type_set({"type": "string"}) == {"string"}
    assert type_set({"type": ["string", "null"]}) == {"string", "null"}
    assert type_set({}) == set()


def test_a_place_escapes_its_pointer_parts() -> None:
    root = Place("/components/schemas/Task", "/components/schemas/Task", "Task")
    child = root.child("properties", "a/b~c", subject="Task.a/b~c")
    assert child == Place(
        "/components/schemas/Task/properties/a~1b~0c",
        "/components/schemas/Task/properties/a~1b~0c",
        "Task.a/b~c",
    )
    gone = root.child("properties", "old", exists=False)
    assert gone == Place("/components/schemas/Task/properties/old", root.anchor, "Task")


def test_findings_keep_one_change_per_pointer_and_rule() -> None:
    findings = Findings()
    place = Place("/p", "/a", "Task.title")
    findings.add(rules.RESPONSE_FIELD_REMOVED, place, "first")
    findings.add(rules.RESPONSE_FIELD_REMOVED, place, "second")
    [change] = findings.changes.values()
    assert (change.pointer, change.anchor, change.subject, change.message) == (
        "/p",
        "/a",
        "Task.title",
        "first",
    )
