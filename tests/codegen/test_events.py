# ruff: noqa: E501 - the cases quote whole rows of the spec
"""The `## Events` grammar: events -> the document's `webhooks`, and a broken section's errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import codegen
from tests.codegen.test_errors import SPEC, assert_spec_error, line_of, replace_once, write_spec
from tests.codegen.test_grammar import schemas, spec, table_schema

TAGS = """\
## Tags

| Tag | Description |
|---|---|
| items | An owner's items. |
| events | What the server sends. |"""

PAYLOAD = table_schema(
    """\
    | id | string | yes | minLength: 1 | The event's id. |
    | type | string | yes | const: item.created | The kind of event. |
    | item | Item | yes | | The new item. |""",
    name="ItemCreatedEvent",
    head="The body of an `item.created` event.\n\n- Additional properties: allowed\n\n",
)

EVENTS = """\
## Events

Events are signed POST requests to the receiver's URL.

### Delivery

#### Headers

| Name | Type | Required | Constraints | Description |
|---|---|---|---|---|
| webhook-id | string | yes | minLength: 1 | The event's `id`. |
| webhook-timestamp | integer(int64) | yes | minimum: 0 | When it was signed. |

#### Responses

| Status | Description |
|---|---|
| 2XX | Accepted. |
| default | Sent again later, with the same `webhook-id`. |

### item.created

- Payload: ItemCreatedEvent
- Summary: An item was created
- Tags: events

Sent when an item is created.

```json
{"id": "evt_1", "type": "item.created", "item": {"id": 1, "name": "milk"}}
```"""


def build_events(events: str = EVENTS) -> dict[str, Any]:
    text = spec(tags=TAGS, schemas=schemas(PAYLOAD)) + "\n" + events + "\n"
    return codegen.build_openapi(text)


def test_an_event_becomes_a_webhook_post_with_its_payload_example_headers_and_answers() -> None:
    document = build_events()
    assert list(document) == [
        "openapi",
        "info",
        "servers",
        "tags",
        "paths",
        "webhooks",
        "components",
    ]
    post = document["webhooks"]["item.created"]["post"]
    assert post["operationId"] == "itemCreated"
    assert post["summary"] == "An item was created"
    assert post["description"] == "Sent when an item is created."
    assert post["tags"] == ["events"]
    assert [(p["name"], p["in"], p["required"]) for p in post["parameters"]] == [
        ("webhook-id", "header", True),
        ("webhook-timestamp", "header", True),
    ]
    assert post["parameters"][1]["schema"] == {"type": "integer", "format": "int64", "minimum": 0}
    content = post["requestBody"]["content"]["application/json"]
    assert post["requestBody"]["required"] is True
    assert content["schema"] == {"$ref": "#/components/schemas/ItemCreatedEvent"}
    assert content["examples"]["item.created"]["value"]["item"] == {"id": 1, "name": "milk"}
    assert post["responses"] == {
        "2XX": {"description": "Accepted."},
        "default": {"description": "Sent again later, with the same `webhook-id`."},
    }
    assert post["security"] == []


def test_the_events_intro_is_a_section_of_the_api_description() -> None:
    description = build_events()["info"]["description"]
    assert description.endswith(
        "## Events\n\nEvents are signed POST requests to the receiver's URL."
    )


def test_const_constrains_a_field_to_one_value() -> None:
    schema = build_events()["components"]["schemas"]["ItemCreatedEvent"]
    assert schema["properties"]["type"] == {
        "type": "string",
        "const": "item.created",
        "description": "The kind of event.",
    }


def test_a_spec_without_events_has_no_webhooks() -> None:
    assert "webhooks" not in codegen.build_openapi(spec())


def test_the_project_spec_declares_the_events_receivers_get() -> None:
    document = codegen.build_openapi((codegen.ROOT / codegen.SPEC).read_text(encoding="utf-8"))
    assert list(document["webhooks"]) == [
        "reminder.due",
        "task.created",
        "task.updated",
        "task.completed",
        "task.deleted",
    ]
    headers = {p["name"] for p in document["webhooks"]["task.created"]["post"]["parameters"]}
    assert headers == {"webhook-id", "webhook-timestamp", "webhook-signature"}


# --- Errors, through the command line -----------------------------------------------------

ERROR_SPEC = (
    replace_once(SPEC, "| items | Items. |", "| items | Items. |\n| events | Events. |").replace(
        "## Operations", PAYLOAD + "\n\n## Operations"
    )
    + "\n"
    + EVENTS
    + "\n"
)
EXAMPLE = '{"id": "evt_1", "type": "item.created", "item": {"id": 1, "name": "milk"}}'


def case(name: str, old: str, new: str, marker: str, *words: str) -> Any:
    return pytest.param(old, new, marker, words, id=name)


CASES = [
    case(
        "event-name",
        "### item.created",
        "### Item Created",
        "### Item Created",
        "event name 'Item Created' is not lower-case words joined by '.'",
    ),
    case(
        "duplicate-event",
        "```\n",
        "```\n\n### item.created\n\n- Payload: ItemCreatedEvent\n- Summary: Again\n- Tags: events\n\nTwice.\n\n```json\n"
        + EXAMPLE
        + "\n```\n",
        "### item.created\n\n- Payload: ItemCreatedEvent\n- Summary: Again",
        "duplicate event 'item.created' (first at line",
    ),
    case(
        "missing-payload",
        "- Payload: ItemCreatedEvent\n",
        "",
        "### item.created",
        "event 'item.created' needs a '- Payload: ...' item",
    ),
    case(
        "unknown-payload",
        "- Payload: ItemCreatedEvent",
        "- Payload: ItemEvent",
        "- Payload: ItemEvent",
        "payload 'ItemEvent' is not an object schema declared under '## Schemas'",
    ),
    case(
        "unknown-event-item",
        "- Tags: events\n",
        "- Tags: events\n- Retries: 3\n",
        "- Retries: 3",
        "unknown event item 'retries'",
    ),
    case(
        "unknown-tag",
        "- Tags: events",
        "- Tags: hooks",
        "- Tags: hooks",
        "unknown tag 'hooks'",
    ),
    case(
        "no-sentence",
        "Sent when an item is created.\n",
        "",
        "### item.created",
        "event 'item.created' needs a sentence saying when it is sent",
    ),
    case(
        "no-example",
        "```json\n" + EXAMPLE + "\n```",
        "",
        "### item.created",
        "needs a ```json example of its payload",
    ),
    case(
        "example-not-json",
        EXAMPLE,
        '{"id": "evt_1",\n "type": }',
        ' "type": }',
        "the event's example is not JSON",
    ),
    case(
        "example-against-payload",
        EXAMPLE,
        '{\n  "id": "evt_1",\n  "type": "item.deleted",\n  "item": {"id": 1, "name": "milk"}\n}',
        '"type": "item.deleted"',
        "does not match its payload at type",
    ),
    case(
        "receiver-status",
        "| 2XX | Accepted. |",
        "| 2xx | Accepted. |",
        "| 2xx |",
        "receiver status '2xx' is not a status code, a range such as 2XX, or default",
    ),
    case(
        "no-success",
        "| 2XX | Accepted. |\n",
        "",
        "#### Responses\n\n| Status | Description |",
        "the Responses table needs a success (2xx) status",
    ),
    case(
        "no-delivery",
        "### Delivery\n",
        "### Sending\n",
        "## Events",
        "missing required section 'Delivery' under 'Events'",
    ),
    case(
        "delivery-header-columns",
        "| Name | Type | Required | Constraints | Description |\n|---|---|---|---|---|\n| webhook-id",
        "| Header | Type | Required | Constraints | Description |\n|---|---|---|---|---|\n| webhook-id",
        "| Header | Type | Required | Constraints | Description |",
        "table columns are Header | Type",
    ),
]


@pytest.mark.parametrize(("old", "new", "marker", "words"), CASES)
def test_events_error(
    tmp_path: Path, old: str, new: str, marker: str, words: tuple[str, ...]
) -> None:
    text = replace_once(ERROR_SPEC, old, new)
    write_spec(tmp_path, text)
    assert_spec_error(tmp_path, line_of(text, marker), *words)


def test_the_error_spec_is_valid() -> None:
    document = codegen.build_openapi(ERROR_SPEC)
    assert list(document["webhooks"]) == ["item.created"]
