"""The committed contract (openapi/openapi.json) as tests read it: its operations, and a
valid value for any of its schemas."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

ROOT = Path(__file__).resolve().parent.parent.parent
CONTRACT_PATH: Final = ROOT / "openapi" / "openapi.json"
HTTP_METHODS: Final = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def load_contract(path: Path = CONTRACT_PATH) -> dict[str, Any]:
    contract: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return contract


def resolve(schema: dict[str, Any], contract: dict[str, Any]) -> dict[str, Any]:
    """The object a local reference ("#/components/schemas/Name") points at, or `schema`."""
    while "$ref" in schema:
        target: Any = contract
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        schema = target
    return schema


@dataclass(frozen=True)
class Operation:
    """One operation of the document: where it is, and its declaration as written."""

    method: str
    path: str
    declaration: dict[str, Any]

    @property
    def operation_id(self) -> str:
        return str(self.declaration["operationId"])


def operations(contract: dict[str, Any]) -> Iterator[Operation]:
    for path, item in contract["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                yield Operation(method, path, item[method])


def parameters(operation: Operation, contract: dict[str, Any]) -> list[dict[str, Any]]:
    """The operation's parameters, those of its path item first, references resolved."""
    shared = contract["paths"][operation.path].get("parameters", [])
    declared = [*shared, *operation.declaration.get("parameters", [])]
    return [resolve(parameter, contract) for parameter in declared]


def minimal_value(schema: dict[str, Any], contract: dict[str, Any]) -> Any:
    """The smallest value valid under `schema`: required members only (plus enough optional
    ones for minProperties), lengths and bounds at their minimum."""
    schema = resolve(schema, contract)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for combinator in ("oneOf", "anyOf", "allOf"):
        if combinator in schema:
            return minimal_value(schema[combinator][0], contract)
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next((name for name in kind if name != "null"), "null")
    match kind:
        case "object":
            properties: dict[str, Any] = schema.get("properties", {})
            wanted = list(schema.get("required", []))
            optional = [name for name in properties if name not in wanted]
            wanted += optional[: max(0, schema.get("minProperties", 0) - len(wanted))]
            return {name: minimal_value(properties.get(name, {}), contract) for name in wanted}
        case "array":
            item = minimal_value(schema.get("items", {}), contract)
            return [item] * schema.get("minItems", 0)
        case "string":
            return _minimal_string(schema)
        case "integer":
            return int(max(schema.get("minimum", 1), schema.get("exclusiveMinimum", 0) + 1))
        case "number":
            return float(schema.get("minimum", 1))
        case "boolean":
            return True
        case "null":
            return None
    raise ValueError(f"no value for schema type {kind!r}")


def _minimal_string(schema: dict[str, Any]) -> str:
    match schema.get("format"):
        case "date":
            return "2030-01-31"
        case "date-time":
            return "2030-01-31T12:00:00Z"
    min_length: int = schema.get("minLength", 1)
    return "x" * max(1, min_length)


def documented_value(declaration: dict[str, Any], contract: dict[str, Any]) -> Any:
    """A parameter's or media type's own example (`example`, else its first named example),
    else the minimal value of its schema."""
    if "example" in declaration:
        return declaration["example"]
    named: dict[str, Any] = declaration.get("examples", {})
    for example in named.values():
        resolved = resolve(example, contract)
        if "value" in resolved:
            return resolved["value"]
    return minimal_value(declaration.get("schema", {}), contract)


@dataclass(frozen=True)
class ResponseExample:
    """A named example of a response: `paths.*.*.responses.STATUS.content.TYPE.examples.NAME`."""

    operation: Operation
    status: str
    media_type: str
    name: str
    value: Any


def response_examples(contract: dict[str, Any]) -> list[ResponseExample]:
    """Every named example of every response, in the document's order."""
    found = []
    for operation in operations(contract):
        for status, response in operation.declaration.get("responses", {}).items():
            content: dict[str, Any] = resolve(response, contract).get("content", {})
            for media_type, declaration in content.items():
                for name, example in declaration.get("examples", {}).items():
                    value = resolve(example, contract).get("value")
                    found.append(ResponseExample(operation, status, media_type, name, value))
    return found
