"""Check the spec's examples against the operations they name, and render them into the document.

An example must fit its operation: declared parameters, a declared status, its headers, a
body exactly where the response has one. Every response body must validate against its
schema; a success's request must too (an error example's request is wrong on purpose).
Placeholders get sample values in the document (the first integer placeholder is 1, the
next 2, ...), so an example reads as one consistent session; the replay binds them to what
the server really answers. Successes render on parameters, request bodies and responses;
errors on their responses only, so a request example in /docs is always a valid request
(and a parameter whose value is a cursor shows none: its sample was never issued).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from speclang.errors import SpecError
from speclang.examples import Body, Example, Value, expand, placeholders_in, whole_placeholder

SAMPLE_MOMENT = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)
JSON = "application/json"

Locate = Callable[..., str]  # Builder.locate(line, *pointer parts)


class Samples:
    """The value each placeholder stands for in the rendered document, set where it is bound."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        # Strings only the server can make (cursors): a sample of one is never valid to send.
        self.opaque: set[str] = set()
        self._integers = 0
        self._moments = 0

    def bind(self, name: str, schema: dict[str, Any], line: int) -> None:
        if name in self.values:
            return
        kind = schema_type(schema)
        if kind == "integer":
            self._integers += 1
            self.values[name] = self._integers
        elif kind == "string" and schema.get("format") == "date-time":
            moment = SAMPLE_MOMENT + timedelta(minutes=self._moments)
            self._moments += 1
            self.values[name] = moment.isoformat().replace("+00:00", "Z")
        elif kind == "string":
            self.values[name] = base64.urlsafe_b64encode(name.encode()).decode().rstrip("=")
            self.opaque.add(name)
        else:
            raise SpecError(
                line,
                f"placeholder {{{name}}} stands for a {kind or 'untyped'} value: "
                "only integers and strings are assigned by the server",
            )


class ExampleRenderer:
    def __init__(self, document: dict[str, Any], locate: Locate) -> None:
        self.document = document
        self.locate = locate
        self.samples = Samples()
        self.operations = {
            operation["operationId"]: (path, method, operation)
            for path, methods in document["paths"].items()
            for method, operation in methods.items()
        }

    def render(self, examples: list[Example]) -> None:
        for example in examples:
            self.render_one(example)

    def render_one(self, example: Example) -> None:
        if example.operation_id not in self.operations:
            raise SpecError(
                example.operation_line, f"example of unknown operation '{example.operation_id}'"
            )
        path, method, operation = self.operations[example.operation_id]
        for value in [*example.path, *example.query, *example.headers]:
            self.require_bound(value.text, value.line)
        if example.request_body is not None:
            self.require_bound(example.request_body.value, example.request_body.line)
        parameters = self.check_parameters(example, path, operation)
        response = operation["responses"].get(str(example.status))
        if response is None:
            raise SpecError(
                example.status_line,
                f"example '{example.name}' answers {example.status}, which "
                f"{example.operation_id} does not declare",
            )
        self.check_response_headers(example, response)
        response_value = self.check_response_body(example, response)
        for value in example.response_headers:
            for name in placeholders_in(value.text):
                self.samples.bind(name, {"type": "string"}, value.line)
        pointer = ("paths", path, method)
        if response_value is not None:
            media_type, _ = next(iter(response["content"].items()))
            self.attach(
                example,
                example.line,
                (*pointer, "responses", str(example.status), "content", media_type),
                response_value,
            )
        if not example.succeeds:
            return
        request_value = self.check_request_body(example, operation)
        if request_value is not None:
            self.attach(
                example,
                example.request_body.line if example.request_body else example.line,
                (*pointer, "requestBody", "content", JSON),
                request_value,
            )
        for index, (value, typed) in parameters.items():
            # Swagger UI's Try it out sends each parameter's first example: a sample cursor
            # would make it a 422, so a parameter given an opaque value shows no example.
            if not set(placeholders_in(value.text)) & self.samples.opaque:
                self.attach(example, value.line, (*pointer, "parameters", str(index)), typed)

    def require_bound(self, value: Any, line: int) -> None:
        for name in placeholders_in(value):
            if name not in self.samples.values:
                raise SpecError(
                    line,
                    f"placeholder {{{name}}} is used before a response of an earlier "
                    "example binds it",
                )

    def check_parameters(
        self, example: Example, path: str, operation: dict[str, Any]
    ) -> dict[int, tuple[Value, Any]]:
        """Each given parameter's index in the operation and its typed, expanded value."""
        declared = {
            (p["in"], p["name"].lower() if p["in"] == "header" else p["name"]): index
            for index, p in enumerate(operation["parameters"])
        }
        typed: dict[int, tuple[Value, Any]] = {}
        given: dict[str, list[Value]] = {"path": example.path, "query": example.query}
        given["header"] = example.headers
        for location, values in given.items():
            for value in values:
                key = value.name.lower() if location == "header" else value.name
                if (location, key) not in declared:
                    raise SpecError(
                        value.line,
                        f"{example.operation_id} has no {location} parameter '{value.name}'",
                    )
                index = declared[(location, key)]
                parameter = operation["parameters"][index]
                text = expand(value.text, self.samples.values)
                if parameter["schema"].get("type") == "array":
                    earlier = typed.get(index, (value, []))[1]
                    typed[index] = (value, [*earlier, self.convert(text, parameter)])
                elif index in typed:
                    raise SpecError(value.line, f"{location} parameter '{value.name}' given twice")
                else:
                    typed[index] = (value, self.convert(text, parameter))
        names = {value.name for value in example.path}
        for parameter in operation["parameters"]:
            if parameter["in"] == "path" and parameter["name"] not in names:
                raise SpecError(
                    example.line,
                    f"example '{example.name}' needs '- Path {parameter['name']}: `...`' ({path})",
                )
        if example.succeeds:
            for index, (value, typed_value) in typed.items():
                if set(placeholders_in(value.text)) & self.samples.opaque:
                    continue  # the server's own string: its sample is no value to check
                schema = operation["parameters"][index]["schema"]
                self.validate(typed_value, schema, value.line, f"parameter '{value.name}'")
            for index, parameter in enumerate(operation["parameters"]):
                if parameter["required"] and index not in typed:
                    raise SpecError(
                        example.line,
                        f"example '{example.name}' succeeds without the required "
                        f"{parameter['in']} parameter '{parameter['name']}'",
                    )
        return typed

    def convert(self, text: Any, parameter: dict[str, Any]) -> Any:
        """A parameter's text as the JSON value its schema types (`limit` 2 is an integer);
        a whole placeholder is already its sample value."""
        if not isinstance(text, str):
            return text
        schema = self.resolve(parameter["schema"])
        if schema_type(schema) == "array":
            schema = self.resolve(schema.get("items", {}))
        if schema_type(schema) == "integer" and text.lstrip("-").isdigit():
            return int(text)
        return text  # not an integer: a success's validation names it

    def check_response_headers(self, example: Example, response: dict[str, Any]) -> None:
        declared = {name.lower() for name in response.get("headers", {})}
        for value in example.response_headers:
            if value.name.lower() not in declared:
                raise SpecError(
                    value.line,
                    f"the {example.status} response of {example.operation_id} declares no "
                    f"header '{value.name}'",
                )

    def check_response_body(self, example: Example, response: dict[str, Any]) -> Any:
        content = response.get("content")
        body = example.response_body
        if content is None:
            if body is not None:
                raise SpecError(
                    body.line, f"a {example.status} response of this operation has no body"
                )
            return None
        if body is None:
            raise SpecError(
                example.status_line, f"example '{example.name}' needs a ```json response``` body"
            )
        schema = next(iter(content.values()))["schema"]
        for where, name in whole_placeholders(body.value):
            self.samples.bind(name, self.schema_at(schema, where), body.line)
        self.require_bound(body.value, body.line)
        value = expand(body.value, self.samples.values)
        self.validate(value, schema, body.line, "the response body", body)
        return value

    def check_request_body(self, example: Example, operation: dict[str, Any]) -> Any:
        declared = operation.get("requestBody")
        body = example.request_body
        if declared is None:
            if body is not None:
                raise SpecError(body.line, f"{example.operation_id} takes no request body")
            return None
        if body is None:
            if declared["required"]:
                raise SpecError(
                    example.line, f"example '{example.name}' needs a ```json request``` body"
                )
            return None
        value = expand(body.value, self.samples.values)
        schema = declared["content"][JSON]["schema"]
        self.validate(value, schema, body.line, "the request body", body)
        return value

    def attach(self, example: Example, line: int, pointer: tuple[str, ...], value: Any) -> None:
        target = self.document
        for part in pointer:
            target = target[int(part)] if isinstance(target, list) else target[part]
        examples = target.setdefault("examples", {})
        examples[example.name] = {"summary": example.summary, "value": value}
        self.locate(line, *pointer, "examples", example.name)

    def validate(
        self, value: Any, schema: dict[str, Any], line: int, what: str, body: Body | None = None
    ) -> None:
        """SpecError at `line`, or at the line of the offending value of a written body."""
        validator = Draft202012Validator(
            {**schema, "components": self.document["components"]}, format_checker=FormatChecker()
        )
        error = next(iter(sorted(validator.iter_errors(value), key=lambda e: e.path)), None)
        if error is not None:
            where = "/".join(str(part) for part in error.absolute_path) or "(whole value)"
            if body is not None:
                line = body.line_of(tuple(error.absolute_path))
            raise SpecError(line, f"{what} does not match its schema at {where}: {error.message}")

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            target: Any = self.document
            for part in schema["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            schema = target
        for combinator in ("anyOf", "oneOf"):
            if combinator in schema:
                branches = [self.resolve(s) for s in schema[combinator]]
                return next(b for b in branches if schema_type(b) != "null")
        return schema

    def schema_at(self, schema: dict[str, Any], where: tuple[str | int, ...]) -> dict[str, Any]:
        schema = self.resolve(schema)
        for part in where:
            if isinstance(part, int):
                schema = self.resolve(schema.get("items", {}))
            else:
                schema = self.resolve(schema.get("properties", {}).get(part, {}))
        return schema


def schema_type(schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        return next((k for k in kind if k != "null"), None)
    if kind is None and "enum" in schema:
        return "string"
    return kind if isinstance(kind, str) else None


def whole_placeholders(
    value: Any, where: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Where in a JSON value each whole-string placeholder is, in document order."""
    name = whole_placeholder(value)
    if name is not None:
        yield where, name
    elif isinstance(value, list):
        for index, part in enumerate(value):
            yield from whole_placeholders(part, (*where, index))
    elif isinstance(value, dict):
        for key, part in value.items():
            yield from whole_placeholders(part, (*where, key))


def render_examples(examples: list[Example], document: dict[str, Any], locate: Locate) -> None:
    """Check every example against its operation and attach it to the document (SpecError)."""
    ExampleRenderer(document, locate).render(examples)
