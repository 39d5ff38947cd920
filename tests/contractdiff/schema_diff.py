"""Two small schemas through the comparer, and every change it found as a plain tuple."""

from __future__ import annotations

from typing import Any, Final

from contractdiff.changes import Rule
from contractdiff.schemas import Direction, Findings, Place, SchemaComparer

Schema = dict[str, Any]
# rule, pointer, anchor, subject, message: everything a change tells its reader
Found = tuple[Rule, str, str, str, str]

REQUEST: Final = Direction.REQUEST
RESPONSE: Final = Direction.RESPONSE
AT: Final = "/components/schemas/T"  # where the compared schema is declared
ROOT: Final = Place(AT, AT, "T")


def diff(
    old: Schema,
    new: Schema,
    direction: Direction = RESPONSE,
    *,
    base: Schema | None = None,
    head: Schema | None = None,
) -> list[Found]:
    """Compare `old` (in `base`'s components) with `new` (in `head`'s) at ROOT."""
    findings = Findings()
    comparer = SchemaComparer(components(base or {}), components(head or {}), findings)
    comparer.compare(old, new, direction, ROOT)
    return [
        (change.rule, change.pointer, change.anchor, change.subject, change.message)
        for change in findings.changes.values()
    ]


def components(schemas: Schema) -> dict[str, Any]:
    """A document holding `schemas` as its named components."""
    return {"components": {"schemas": schemas}}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}
