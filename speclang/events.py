"""The spec's `## Events`: what the server sends to a receiver, as the document's `webhooks`.

`### Delivery` holds what every delivery carries (`#### Headers`, the Standard Webhooks
headers) and what a receiver answers (`#### Responses`). Every other level-3 heading is one
event, named `noun.verb` (`task.created`), with `- Payload:`, `- Summary:` and `- Tags:`
items, paragraphs saying when it is sent, and one ```` ```json ```` example of its payload.
specs/README.md describes the grammar.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, Final

from jsonschema import Draft202012Validator, FormatChecker

from speclang.errors import SpecError
from speclang.examples import Body
from speclang.markdown import Section
from speclang.types import apply_constraints, parse_type, require_cell, yes_no

EVENT_NAME: Final = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
DELIVERY: Final = "Delivery"
HEADER_COLUMNS: Final = ("Name", "Type", "Required", "Constraints", "Description")
RESPONSE_COLUMNS: Final = ("Status", "Description")
STATUS: Final = re.compile(r"[1-5](XX|[0-9][0-9])|default")
EVENT_ITEMS: Final = {"payload": "Payload", "summary": "Summary", "tags": "Tags"}
JSON: Final = "application/json"

Locate = Callable[..., str]  # Builder.locate(line, *pointer parts)


def operation_id(event_name: str) -> str:
    """`task.created` -> `taskCreated`: the webhook's operationId, which tools name it by."""
    words = re.split(r"[._]", event_name)
    return words[0] + "".join(word.capitalize() for word in words[1:])


def read_events(
    section: Section,
    components: dict[str, Any],
    tags: set[str],
    operation_ids: dict[str, int],
    locate: Locate,
) -> dict[str, Any]:
    """The `webhooks` of the document: one `post` per event, in the spec's order.

    `operation_ids` are those of the operations, by line: an event's must differ from them.
    """
    locate(section.line, "webhooks")
    delivery = section.require_child(DELIVERY)
    headers = delivery_headers(delivery, components)
    responses = delivery_responses(delivery)
    webhooks: dict[str, Any] = {}
    first_line: dict[str, int] = {}
    for child in section.children:
        if child is delivery:
            continue
        if EVENT_NAME.fullmatch(child.title) is None:
            raise SpecError(
                child.line,
                f"event name '{child.title}' is not lower-case words joined by '.' "
                f"(e.g. 'task.created'), nor '{DELIVERY}'",
            )
        if child.title in first_line:
            raise SpecError(
                child.line,
                f"duplicate event '{child.title}' (first at line {first_line[child.title]})",
            )
        first_line[child.title] = child.line
        derived = operation_id(child.title)
        if derived in operation_ids:
            raise SpecError(
                child.line,
                f"event '{child.title}' has the operationId '{derived}' of the operation at "
                f"line {operation_ids[derived]}",
            )
        operation_ids[derived] = child.line
        locate(child.line, "webhooks", child.title, "post")
        described = event(child, components, tags, locate)
        request_body = described.pop("requestBody")
        webhooks[child.title] = {
            "post": {
                "operationId": derived,
                **described,
                "parameters": [dict(header) for header in headers],
                "requestBody": request_body,
                "responses": {status: dict(answer) for status, answer in responses.items()},
                # The server calls the receiver: no token of ours is asked for (the receiver
                # checks the signature in the headers above).
                "security": [],
            }
        }
    if not webhooks:
        raise SpecError(section.line, "the Events section declares no event")
    return webhooks


def delivery_headers(section: Section, components: dict[str, Any]) -> list[dict[str, Any]]:
    rows = section.require_child("Headers").table(HEADER_COLUMNS).rows
    enum_values = {name: list(s["enum"]) for name, s in components.items() if "enum" in s}
    found: list[dict[str, Any]] = []
    seen: set[str] = set()
    for row in rows:
        name = require_cell(row, "Name")
        if name.lower() in seen:
            raise SpecError(row.line, f"duplicate delivery header '{name}'")
        seen.add(name.lower())
        type_expression = parse_type(require_cell(row, "Type"), row.line, set(components))
        schema = apply_constraints(row.cells["Constraints"], type_expression, row.line, enum_values)
        header: dict[str, Any] = {"name": name, "in": "header"}
        if row.cells["Description"].source:
            header["description"] = row.cells["Description"].source
        header["required"] = yes_no(row, "Required")
        header["schema"] = schema
        found.append(header)
    return found


def delivery_responses(section: Section) -> dict[str, Any]:
    answers = section.require_child("Responses")
    responses: dict[str, Any] = {}
    for row in answers.table(RESPONSE_COLUMNS).rows:
        status = require_cell(row, "Status")
        if STATUS.fullmatch(status) is None:
            raise SpecError(
                row.line,
                f"receiver status '{status}' is not a status code, a range such as 2XX, or default",
            )
        if status in responses:
            raise SpecError(row.line, f"duplicate receiver status {status}")
        require_cell(row, "Description")
        responses[status] = {"description": row.cells["Description"].source}
    if not any(status.startswith("2") for status in responses):
        raise SpecError(answers.line, "the Responses table needs a success (2xx) status")
    return responses


def event(
    section: Section, components: dict[str, Any], tags: set[str], locate: Locate
) -> dict[str, Any]:
    if section.children:
        raise SpecError(section.children[0].line, "an event has no sections inside it")
    options = section.options()
    for key in sorted(set(options) - set(EVENT_ITEMS)):
        raise SpecError(options[key].line, f"unknown event item '{key}'")
    for key, label in EVENT_ITEMS.items():
        if key not in options:
            raise SpecError(section.line, f"event '{section.title}' needs a '- {label}: ...' item")
    if not section.paragraphs:
        raise SpecError(
            section.line, f"event '{section.title}' needs a sentence saying when it is sent"
        )
    payload = options["payload"]
    if payload.text not in components or components[payload.text].get("type") != "object":
        raise SpecError(
            payload.line,
            f"payload '{payload.text}' is not an object schema declared under '## Schemas'",
        )
    event_tags = [tag.strip() for tag in options["tags"].text.split(",")]
    for tag in event_tags:
        if tag not in tags:
            raise SpecError(options["tags"].line, f"unknown tag '{tag}'")
    schema = {"$ref": f"#/components/schemas/{payload.text}"}
    example = payload_example(section, schema, components)
    pointer = ("webhooks", section.title, "post")
    locate(payload.line, *pointer, "requestBody")
    locate(options["summary"].line, *pointer, "summary")
    locate(options["tags"].line, *pointer, "tags")
    return {
        "summary": options["summary"].text,
        "description": "\n\n".join(section.paragraphs),
        "tags": event_tags,
        "requestBody": {
            "description": f"The event, a `{payload.text}`.",
            "required": True,
            "content": {
                JSON: {
                    "schema": schema,
                    "examples": {
                        section.title: {"summary": options["summary"].text, "value": example}
                    },
                }
            },
        },
    }


def payload_example(section: Section, schema: dict[str, Any], components: dict[str, Any]) -> Any:
    """The event's one ```json example, checked against its payload schema."""
    fences = section.fences
    if not fences:
        raise SpecError(
            section.line, f"event '{section.title}' needs a ```json example of its payload"
        )
    if len(fences) > 1:
        raise SpecError(fences[1].line, "second code block in one event")
    fence = fences[0]
    if fence.info != "json":
        raise SpecError(fence.line, f"code block '{fence.info}' in an event: expected 'json'")
    try:
        value = json.loads(fence.content)
    except json.JSONDecodeError as error:
        raise SpecError(
            fence.line + error.lineno, f"the event's example is not JSON: {error.msg}"
        ) from None
    validator = Draft202012Validator(
        {**schema, "components": {"schemas": components}}, format_checker=FormatChecker()
    )
    mismatch = next(iter(sorted(validator.iter_errors(value), key=lambda e: e.path)), None)
    if mismatch is not None:
        path = tuple(mismatch.absolute_path)
        where = "/".join(str(part) for part in path) or "(whole value)"
        raise SpecError(
            Body(value, fence.line, fence.content).line_of(path),
            f"the event's example does not match its payload at {where}: {mismatch.message}",
        )
    return value
