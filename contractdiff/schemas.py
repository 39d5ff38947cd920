"""The rules for JSON Schemas, read in the direction the data travels.

A schema a client *sends* (request) may only widen: the new contract must accept every value
the old one did. A schema a client *receives* (response) may only narrow: an old client must
understand every value the new contract can produce. An event's payload (event) is received
too, by a receiver, and read by the response rules; only a new enum value breaks it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from contractdiff import rules
from contractdiff.changes import Change, Rule

LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
DOCUMENTATION_KEYS = ("description", "title", "examples", "example")
SCHEMA_PREFIX = "#/components/schemas/"

Schema = dict[str, Any]


class Direction(enum.Enum):
    REQUEST = "request"
    RESPONSE = "response"
    EVENT = "event"


@dataclass(frozen=True)
class Place:
    """Where a comparison is: the pointer, the nearest part of the new document, the subject."""

    pointer: str
    anchor: str
    subject: str

    def child(self, *parts: str, subject: str | None = None, exists: bool = True) -> Place:
        pointer = self.pointer + "".join(
            "/" + p.replace("~", "~0").replace("/", "~1") for p in parts
        )
        return Place(pointer, pointer if exists else self.anchor, subject or self.subject)


@dataclass
class Findings:
    """The changes found so far; one per (pointer, rule), whatever the path that found it."""

    changes: dict[tuple[str, str], Change] = field(default_factory=dict)

    def add(self, rule: Rule, place: Place, message: str) -> None:
        key = (place.pointer, rule.code)
        if key not in self.changes:
            self.changes[key] = Change(rule, place.pointer, place.anchor, place.subject, message)


def resolve(document: dict[str, Any], schema: Schema) -> Schema:
    """Follow a local `$ref` to the component it names."""
    seen: set[str] = set()
    while isinstance(schema.get("$ref"), str) and schema["$ref"] not in seen:
        seen.add(schema["$ref"])
        name = schema["$ref"].removeprefix(SCHEMA_PREFIX)
        schema = document.get("components", {}).get("schemas", {}).get(name, {})
    return schema


def split_nullable(schema: Schema) -> tuple[Schema, bool]:
    """`anyOf: [X, {type: null}]` or `type: [T, null]` -> (the schema without null, nullable)."""
    any_of = schema.get("anyOf")
    if isinstance(any_of, list):
        others = [member for member in any_of if member != {"type": "null"}]
        if len(others) == 1 and len(others) < len(any_of):
            merged = {key: value for key, value in schema.items() if key != "anyOf"}
            return {**others[0], **merged}, True
    types = schema.get("type")
    if isinstance(types, list) and "null" in types:
        rest = [t for t in types if t != "null"]
        return {**schema, "type": rest[0] if len(rest) == 1 else rest}, True
    return schema, False


def type_set(schema: Schema) -> set[str]:
    types = schema.get("type")
    if isinstance(types, str):
        return {types}
    if isinstance(types, list):
        return {str(t) for t in types}
    return set()


class SchemaComparer:
    """Compares two schemas of one place in one direction, adding what differs to `findings`."""

    def __init__(self, base: dict[str, Any], head: dict[str, Any], findings: Findings) -> None:
        self.base = base
        self.head = head
        self.findings = findings
        self._visiting: set[tuple[str | int, str | int, Direction]] = set()

    def compare(self, old: Schema, new: Schema, direction: Direction, place: Place) -> None:
        old_ref, new_ref = old.get("$ref"), new.get("$ref")
        if isinstance(old_ref, str) and old_ref == new_ref:
            # The component itself is compared once, where it is declared; here only what sits
            # beside the reference (a parameter's `default`, a description) can differ.
            self.compare_resolved(
                {k: v for k, v in old.items() if k != "$ref"},
                {k: v for k, v in new.items() if k != "$ref"},
                direction,
                place,
            )
            return
        # A `$ref` stands for its component; an inline schema only for itself, so a `$ref`
        # met again against a deeper part of an inline schema is compared, not taken for a cycle.
        key = (
            old_ref if isinstance(old_ref, str) else id(old),
            new_ref if isinstance(new_ref, str) else id(new),
            direction,
        )
        if old_ref is not None or new_ref is not None:
            if key in self._visiting:
                return
            self._visiting.add(key)
        try:
            self.compare_resolved(
                resolve(self.base, old), resolve(self.head, new), direction, place
            )
        finally:
            self._visiting.discard(key)

    def compare_resolved(
        self, old: Schema, new: Schema, direction: Direction, place: Place
    ) -> None:
        request = direction is Direction.REQUEST
        old, old_null = split_nullable(old)
        new, new_null = split_nullable(new)
        if old_null and not new_null:
            rule = rules.REQUEST_NULL_REMOVED if request else rules.RESPONSE_NULL_REMOVED
            self.findings.add(rule, place, f"{place.subject}: null is no longer allowed")
        elif new_null and not old_null:
            rule = rules.REQUEST_NULL_ADDED if request else rules.RESPONSE_NULL_ADDED
            self.findings.add(rule, place, f"{place.subject}: may now be null")
        if old.get("$ref") is not None or new.get("$ref") is not None:
            self.compare(old, new, direction, place)
            return
        self._types(old, new, request, place)
        self._bounds(old, new, request, place)
        self._enum(old, new, direction, place)
        self._const(old, new, request, place)
        if old.get("default") != new.get("default"):
            self.findings.add(
                rules.DEFAULT_CHANGED,
                place.child("default", exists="default" in new),
                f"{place.subject}: default {old.get('default', '(none)')!r} -> "
                f"{new.get('default', '(none)')!r}",
            )
        for keyword in DOCUMENTATION_KEYS:
            if old.get(keyword) != new.get(keyword):
                self.findings.add(
                    rules.DOCUMENTATION_CHANGED,
                    place.child(keyword, exists=keyword in new),
                    f"{place.subject}: {keyword} changed",
                )
        if "object" in type_set(old) | type_set(new) or "properties" in old or "properties" in new:
            self._properties(old, new, direction, place)
        if isinstance(old.get("items"), dict) and isinstance(new.get("items"), dict):
            self.compare(
                old["items"],
                new["items"],
                direction,
                place.child("items", subject=f"{place.subject}[]"),
            )

    def _types(self, old: Schema, new: Schema, request: bool, place: Place) -> None:
        old_types, new_types = type_set(old), type_set(new)
        if old_types and new_types and old_types != new_types:
            if request:
                widened = new_types > old_types or (
                    "number" in new_types and old_types == {"integer"}
                )
                rule = rules.REQUEST_TYPE_WIDENED if widened else rules.REQUEST_TYPE_NARROWED
            else:
                narrowed = new_types < old_types or (
                    new_types == {"integer"} and "number" in old_types
                )
                rule = rules.RESPONSE_TYPE_NARROWED if narrowed else rules.RESPONSE_TYPE_CHANGED
            self.findings.add(
                rule,
                place.child("type"),
                f"{place.subject}: type {'/'.join(sorted(old_types))} -> "
                f"{'/'.join(sorted(new_types))}",
            )
        old_format, new_format = old.get("format"), new.get("format")
        if old_format != new_format:
            if request:
                rule = (
                    rules.REQUEST_TYPE_WIDENED
                    if new_format is None
                    else rules.REQUEST_TYPE_NARROWED
                )
            else:
                rule = (
                    rules.RESPONSE_TYPE_NARROWED
                    if old_format is None
                    else rules.RESPONSE_TYPE_CHANGED
                )
            self.findings.add(
                rule,
                place.child("format", exists=new_format is not None),
                f"{place.subject}: format {old_format or '(none)'} -> {new_format or '(none)'}",
            )

    def _bounds(self, old: Schema, new: Schema, request: bool, place: Place) -> None:
        for keyword in (*LOWER_BOUNDS, *UPPER_BOUNDS, "pattern", "uniqueItems"):
            before, after = old.get(keyword), new.get(keyword)
            if before == after:
                continue
            if keyword == "uniqueItems":
                tightened = bool(after) and not before
            elif keyword == "pattern":
                tightened = after is not None
            elif before is None or after is None:
                tightened = before is None
            elif keyword in LOWER_BOUNDS:
                tightened = after > before
            else:
                tightened = after < before
            if request:
                rule = (
                    rules.REQUEST_CONSTRAINT_TIGHTENED
                    if tightened
                    else rules.REQUEST_CONSTRAINT_RELAXED
                )
            else:
                loosened = not tightened or (keyword == "pattern" and before is not None)
                rule = (
                    rules.RESPONSE_CONSTRAINT_RELAXED
                    if loosened
                    else rules.RESPONSE_CONSTRAINT_TIGHTENED
                )
            self.findings.add(
                rule,
                place.child(keyword, exists=after is not None),
                f"{place.subject}: {keyword} {before if before is not None else '(none)'} -> "
                f"{after if after is not None else '(none)'}",
            )

    def _const(self, old: Schema, new: Schema, request: bool, place: Place) -> None:
        before, after = old.get("const"), new.get("const")
        if before == after:
            return
        if before is None or after is None:
            tightened = before is None
            if request:
                rule = (
                    rules.REQUEST_CONSTRAINT_TIGHTENED
                    if tightened
                    else rules.REQUEST_CONSTRAINT_RELAXED
                )
            else:
                rule = (
                    rules.RESPONSE_CONSTRAINT_TIGHTENED
                    if tightened
                    else rules.RESPONSE_CONSTRAINT_RELAXED
                )
        else:
            rule = rules.REQUEST_CONSTRAINT_TIGHTENED if request else rules.RESPONSE_TYPE_CHANGED
        self.findings.add(
            rule,
            place.child("const", exists=after is not None),
            f"{place.subject}: const {before!r} -> {after!r}",
        )

    def _enum(self, old: Schema, new: Schema, direction: Direction, place: Place) -> None:
        request = direction is Direction.REQUEST
        before, after = old.get("enum"), new.get("enum")
        if before == after:
            return
        if before is None or after is None:
            tightened = before is None
            if request:
                rule = (
                    rules.REQUEST_CONSTRAINT_TIGHTENED
                    if tightened
                    else rules.REQUEST_CONSTRAINT_RELAXED
                )
            else:
                rule = (
                    rules.RESPONSE_CONSTRAINT_TIGHTENED
                    if tightened
                    else rules.RESPONSE_CONSTRAINT_RELAXED
                )
            self.findings.add(
                rule,
                place.child("enum", exists=after is not None),
                f"{place.subject}: enum {'added' if tightened else 'removed'}",
            )
            return
        for value in before:
            if value not in after:
                rule = (
                    rules.REQUEST_ENUM_VALUE_REMOVED
                    if request
                    else rules.RESPONSE_ENUM_VALUE_REMOVED
                )
                self.findings.add(
                    rule,
                    place.child(
                        "enum",
                        str(before.index(value)),
                        exists=False,
                        subject=f"{place.subject}.{value}",
                    ),
                    f"{place.subject}: value {value!r} removed",
                )
        for value in after:
            if value not in before:
                if direction is Direction.EVENT:
                    rule = rules.EVENT_ENUM_VALUE_ADDED
                else:
                    rule = (
                        rules.REQUEST_ENUM_VALUE_ADDED
                        if request
                        else rules.RESPONSE_ENUM_VALUE_ADDED
                    )
                self.findings.add(
                    rule,
                    place.child(
                        "enum", str(after.index(value)), subject=f"{place.subject}.{value}"
                    ),
                    f"{place.subject}: value {value!r} added",
                )

    def _properties(self, old: Schema, new: Schema, direction: Direction, place: Place) -> None:
        request = direction is Direction.REQUEST
        old_properties: dict[str, Schema] = old.get("properties", {})
        new_properties: dict[str, Schema] = new.get("properties", {})
        old_required = set(old.get("required", []))
        new_required = set(new.get("required", []))
        old_open = old.get("additionalProperties", True) is not False
        new_open = new.get("additionalProperties", True) is not False
        for name, old_property in old_properties.items():
            field_place = place.child(
                "properties", name, subject=f"{place.subject}.{name}", exists=name in new_properties
            )
            if name not in new_properties:
                rule = rules.REQUEST_FIELD_REMOVED if request else rules.RESPONSE_FIELD_REMOVED
                self.findings.add(rule, field_place, f"{field_place.subject}: field removed")
                continue
            if name in new_required and name not in old_required:
                rule = (
                    rules.REQUEST_FIELD_MADE_REQUIRED
                    if request
                    else rules.RESPONSE_FIELD_MADE_REQUIRED
                )
                self.findings.add(rule, field_place, f"{field_place.subject}: now required")
            elif name in old_required and name not in new_required:
                rule = (
                    rules.REQUEST_FIELD_MADE_OPTIONAL
                    if request
                    else rules.RESPONSE_FIELD_MADE_OPTIONAL
                )
                self.findings.add(rule, field_place, f"{field_place.subject}: now optional")
            self.compare(old_property, new_properties[name], direction, field_place)
        for name in new_properties:
            if name in old_properties:
                continue
            field_place = place.child("properties", name, subject=f"{place.subject}.{name}")
            if request:
                required = name in new_required
                rule = (
                    rules.REQUEST_FIELD_ADDED_REQUIRED
                    if required
                    else rules.REQUEST_FIELD_ADDED_OPTIONAL
                )
                message = (
                    f"{field_place.subject}: new {'required' if required else 'optional'} field"
                )
            else:
                rule = (
                    rules.RESPONSE_FIELD_ADDED if old_open else rules.RESPONSE_FIELD_ADDED_TO_CLOSED
                )
                message = f"{field_place.subject}: new field" + (
                    ""
                    if old_open
                    else f" (the old {place.subject} forbade other fields: "
                    "clients that validate strictly reject it)"
                )
            self.findings.add(rule, field_place, message)
        if old_open != new_open:
            if request:
                rule = rules.REQUEST_OPENED if new_open else rules.REQUEST_CLOSED
            else:
                rule = rules.RESPONSE_OPENED if new_open else rules.RESPONSE_CLOSED
            self.findings.add(
                rule,
                place.child("additionalProperties"),
                f"{place.subject}: other fields {'now allowed' if new_open else 'now rejected'}",
            )
