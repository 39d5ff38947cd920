"""Whether an HTTP answer keeps to the committed contract: its status documented for the
operation, its media type, its body valid under the schema, its documented headers valid."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import jsonschema

from tests.support.contract import Operation, operations, resolve

PARAMETER = re.compile(r"\\\{[^/]+?\\\}")


@dataclass(frozen=True)
class Answer:
    """One request's answer: its method and URL path, status, headers and parsed body."""

    method: str
    path: str
    status: int
    headers: Mapping[str, str]
    """Lower-case names."""
    body: Any
    """The JSON body, or None when there is none."""

    @classmethod
    def of(cls, response: httpx.Response) -> Answer:
        """The answer an HTTP client received."""
        return cls(
            method=response.request.method,
            path=response.request.url.path,
            status=response.status_code,
            headers={name.lower(): value for name, value in response.headers.items()},
            body=response.json() if response.content else None,
        )


def operation_at(contract: dict[str, Any], method: str, path: str) -> Operation | None:
    """The operation a request to `path` reaches, its `{parameters}` matching one segment."""
    for operation in operations(contract):
        template = PARAMETER.sub("[^/]+", re.escape(operation.path))
        if operation.method == method.lower() and re.fullmatch(template, path):
            return operation
    return None


def schema_problems(value: Any, schema: dict[str, Any], contract: dict[str, Any]) -> list[str]:
    """What makes `value` invalid under `schema` (JSON Schema 2020-12, formats checked)."""
    # Local references ("#/components/...") resolve against the schema's root.
    rooted = {**schema, "components": contract["components"]}
    validator = jsonschema.Draft202012Validator(
        rooted, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
        for error in validator.iter_errors(value)
    ]


def answer_problems(answer: Answer, contract: dict[str, Any]) -> list[str]:
    """Every way `answer` departs from the contract; empty when it keeps to it."""
    operation = operation_at(contract, answer.method, answer.path)
    if operation is None:
        return [f"{answer.method} {answer.path}: no operation of the contract"]
    where = f"{operation.operation_id} {answer.status}"
    declared = operation.declaration["responses"].get(str(answer.status))
    if declared is None:
        return [f"{where}: a status the contract does not document"]
    response = resolve(declared, contract)
    problems: list[str] = []
    for name, header in response.get("headers", {}).items():
        header = resolve(header, contract)
        value = answer.headers.get(name.lower())
        if value is None:
            if header.get("required", False):
                problems.append(f"{where}: the required header {name} is missing")
            continue
        problems += [
            f"{where}: header {name}: {issue}"
            for issue in schema_problems(value, header.get("schema", {}), contract)
        ]
    content: dict[str, Any] = response.get("content", {})
    if not content:
        if answer.body is not None:
            problems.append(f"{where}: a body where the contract documents none")
        return problems
    media_type = answer.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in content:
        return [*problems, f"{where}: media type {media_type!r}, not one of {sorted(content)}"]
    problems += [
        f"{where}: body {issue}"
        for issue in schema_problems(answer.body, content[media_type].get("schema", {}), contract)
    ]
    return problems
