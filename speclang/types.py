"""The Type and Constraints columns of the spec's tables, as JSON Schema."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from speclang.errors import SpecError
from speclang.markdown import Cell, Row

PRIMITIVES = ("string", "integer", "number", "boolean")
FORMATS = {
    "string": {
        "date",
        "date-time",
        "time",
        "duration",
        "email",
        "uri",
        "uri-reference",
        "uuid",
        "byte",
        "binary",
        "password",
    },
    "integer": {"int32", "int64"},
    "number": {"float", "double"},
    "boolean": set(),
}
NUMERIC_KEYWORDS = (
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
)
VALUE_KEYWORDS = ("default", "example", "const")
BOOLEAN_KEYWORDS = ("uniqueItems",)
# `items.pattern: ...` constrains each item of an `array of ...` type.
ITEMS_PREFIX = "items."
COUNT_KEYWORDS = ("minLength", "maxLength", "minItems", "maxItems")
STRING_KEYWORDS = ("pattern",)
PARAMETER_LOCATIONS = ("path", "query", "header", "cookie")
# Status codes a response table may name: RFC 9110 and the common extensions.


def ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


@dataclass
class TypeExpression:
    """A cell of the Type column: `string(date)`, `Task`, `array of Task`, `... or null`."""

    schema: dict[str, Any]
    primitive: str | None  # the JSON type when not a reference or array


def parse_type(text: str, line: int, schema_names: set[str]) -> TypeExpression:
    nullable = False
    expression = text.strip()
    if expression.endswith(" or null"):
        nullable = True
        expression = expression[: -len(" or null")].strip()
    if expression.startswith("array of "):
        items = parse_type(expression[len("array of ") :], line, schema_names)
        schema: dict[str, Any] = {"type": "array", "items": items.schema}
        if nullable:
            schema["type"] = ["array", "null"]
        return TypeExpression(schema, None)
    match = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)(?:\(([a-z0-9-]+)\))?", expression)
    if match is None:
        raise SpecError(line, f"unknown type '{text}'")
    name, type_format = match.group(1), match.group(2)
    if name in PRIMITIVES:
        schema = {"type": [name, "null"] if nullable else name}
        if type_format is not None:
            if type_format not in FORMATS[name]:
                raise SpecError(line, f"unknown format '{type_format}' for type '{name}'")
            schema["format"] = type_format
        return TypeExpression(schema, name)
    if type_format is not None or not name[0].isupper():
        raise SpecError(line, f"unknown type '{text}'")
    if name not in schema_names:
        raise SpecError(line, f"unknown schema reference '{name}'")
    if nullable:
        return TypeExpression({"anyOf": [ref(name), {"type": "null"}]}, None)
    return TypeExpression(ref(name), None)


def coerce_value(raw: str, type_expression: TypeExpression, line: int, keyword: str) -> Any:
    kind = type_expression.primitive
    try:
        if kind == "integer":
            return int(raw)
        if kind == "number":
            return float(raw)
        if kind == "boolean":
            if raw not in ("true", "false"):
                raise ValueError(raw)
            return raw == "true"
    except ValueError:
        raise SpecError(line, f"{keyword} '{raw}' is not a valid {kind}") from None
    return raw


def apply_constraints(
    cell: Cell, type_expression: TypeExpression, line: int, enum_values: dict[str, list[str]]
) -> dict[str, Any]:
    """Merge `keyword: value; ...` constraints into the type's schema."""
    pairs: list[tuple[str, str]] = []
    for constraint in cell.split(";"):
        keyword, colon, raw = (part.strip() for part in constraint.partition(":"))
        if not colon or not raw:
            raise SpecError(line, f"constraint '{constraint}' is not 'keyword: value'")
        pairs.append((keyword, raw))
    return merge_constraints(pairs, type_expression, line, enum_values)


def merge_constraints(
    pairs: Sequence[tuple[str, str]],
    type_expression: TypeExpression,
    line: int,
    enum_values: dict[str, list[str]],
) -> dict[str, Any]:
    schema = dict(type_expression.schema)
    item_pairs: list[tuple[str, str]] = []
    for keyword, raw in pairs:
        if keyword.startswith(ITEMS_PREFIX):
            if "items" not in schema:
                raise SpecError(line, f"constraint '{keyword}' needs an 'array of' type")
            item_pairs.append((keyword.removeprefix(ITEMS_PREFIX), raw))
        elif keyword in BOOLEAN_KEYWORDS:
            if raw not in ("true", "false"):
                raise SpecError(line, f"{keyword} needs true or false, got '{raw}'")
            schema[keyword] = raw == "true"
        elif keyword in NUMERIC_KEYWORDS:
            try:
                number = float(raw) if "." in raw else int(raw)
            except ValueError:
                raise SpecError(line, f"{keyword} needs a number, got '{raw}'") from None
            if keyword in COUNT_KEYWORDS and (not isinstance(number, int) or number < 0):
                raise SpecError(line, f"{keyword} needs a whole number >= 0, got '{raw}'")
            schema[keyword] = number
        elif keyword in STRING_KEYWORDS:
            try:
                re.compile(raw)
            except re.error as error:
                raise SpecError(
                    line, f"pattern '{raw}' is not a regular expression: {error}"
                ) from None
            schema[keyword] = raw
        elif keyword in VALUE_KEYWORDS:
            # `Name or null` is an anyOf whose first member is the reference.
            reference = schema.get("$ref") or schema.get("anyOf", [{}])[0].get("$ref", "")
            target = reference.rpartition("/")[2]
            if target in enum_values and raw not in enum_values[target]:
                raise SpecError(line, f"{keyword} '{raw}' is not a value of {target}")
            value = coerce_value(raw, type_expression, line, keyword)
            if keyword == "example":
                schema["examples"] = [value]
            else:
                schema[keyword] = value
        else:
            raise SpecError(line, f"unknown constraint '{keyword}'")
    if item_pairs:
        items = schema["items"]
        kind = items.get("type")
        primitive = kind if isinstance(kind, str) and kind in PRIMITIVES else None
        schema["items"] = merge_constraints(
            item_pairs, TypeExpression(items, primitive), line, enum_values
        )
    return schema


def yes_no(row: Row, column: str) -> bool:
    value = row.text(column).lower()
    if value not in ("yes", "no"):
        raise SpecError(row.line, f"column '{column}' must be 'yes' or 'no', got '{value}'")
    return value == "yes"


def require_cell(row: Row, column: str) -> str:
    value = row.text(column)
    if not value:
        raise SpecError(row.line, f"column '{column}' is empty")
    return value
