"""The committed OpenAPI document, and the parameter constraints handlers take from it."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

CONTRACT_PATH = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"

# JSON Schema keyword -> keyword argument of fastapi.Path / fastapi.Query.
_CONSTRAINT_ARGUMENTS = {
    "minimum": "ge",
    "maximum": "le",
    "exclusiveMinimum": "gt",
    "exclusiveMaximum": "lt",
    "minLength": "min_length",
    "maxLength": "max_length",
    "minItems": "min_length",
    "maxItems": "max_length",
    "pattern": "pattern",
}


@cache
def load_contract() -> dict[str, Any]:
    """The document the front end generates its client from: the spec is the contract."""
    document: dict[str, Any] = json.loads(CONTRACT_PATH.read_text(encoding="utf-8"))
    return document


def event_types() -> tuple[str, ...]:
    """The events the server sends, by name: the document's `webhooks`."""
    return tuple(load_contract()["webhooks"])


def query_parameter_names() -> frozenset[str]:
    """Every query parameter name the contract declares, on any operation."""
    return frozenset(
        declared["name"]
        for methods in load_contract()["paths"].values()
        for candidate in methods.values()
        for declared in candidate.get("parameters", [])
        if declared["in"] == "query"
    )


def methods_for(path: str) -> list[str]:
    """The methods the contract declares for a concrete request path (templates matched)."""
    for template, methods in load_contract()["paths"].items():
        if _template_pattern(template).fullmatch(path):
            return [method.upper() for method in methods]
    return []


@cache
def _template_pattern(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)))


def operation(operation_id: str) -> dict[str, Any]:
    for methods in load_contract()["paths"].values():
        for candidate in methods.values():
            if candidate["operationId"] == operation_id:
                found: dict[str, Any] = candidate
                return found
    raise KeyError(f"no operation {operation_id!r} in the contract")


def parameter(operation_id: str, name: str) -> dict[str, Any]:
    """Keyword arguments for fastapi.Path/Query: the contract's constraints and description."""
    for declared in operation(operation_id)["parameters"]:
        if declared["name"] == name:
            schema = declared["schema"]
            arguments: dict[str, Any] = {
                argument: schema[keyword]
                for keyword, argument in _CONSTRAINT_ARGUMENTS.items()
                if keyword in schema
            }
            arguments["description"] = declared.get("description")
            return arguments
    raise KeyError(f"operation {operation_id!r} has no parameter {name!r}")


def items(operation_id: str, name: str) -> dict[str, Any]:
    """Keyword arguments for pydantic.Field: the constraints of an array parameter's items."""
    for declared in operation(operation_id)["parameters"]:
        if declared["name"] == name:
            schema = declared["schema"]["items"]
            return {
                argument: schema[keyword]
                for keyword, argument in _CONSTRAINT_ARGUMENTS.items()
                if keyword in schema
            }
    raise KeyError(f"operation {operation_id!r} has no parameter {name!r}")


@cache
def unique_item_fields(schema_name: str) -> tuple[str, ...]:
    """The array fields of a schema whose items must differ (`uniqueItems`)."""
    properties = load_contract()["components"]["schemas"][schema_name]["properties"]
    return tuple(name for name, field in properties.items() if field.get("uniqueItems"))


def default(operation_id: str, name: str) -> Any:
    """The contract's default value of a query parameter."""
    for declared in operation(operation_id)["parameters"]:
        if declared["name"] == name:
            return declared["schema"].get("default")
    raise KeyError(f"operation {operation_id!r} has no parameter {name!r}")


@cache
def schema_fields(schema_name: str) -> frozenset[str]:
    """The property names of one of the contract's schemas."""
    return frozenset(load_contract()["components"]["schemas"][schema_name]["properties"])


def read_only_fields() -> frozenset[str]:
    """Fields of a task only the server sets: in `Task`, in no request body."""
    return schema_fields("Task") - schema_fields("TaskCreate") - schema_fields("TaskUpdate")
