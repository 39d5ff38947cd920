"""The spec grammar: each construct of specs/README.md -> the OpenAPI fragment it becomes."""

from __future__ import annotations

from textwrap import dedent
from typing import Any

import pytest

import codegen

TITLE = """\
# Mini API

A small API for parser tests.
Soft line breaks become spaces.

A second paragraph."""

INFO = """\
## Info

| Field | Value |
|---|---|
| Version | 0.1.0 |
| License | MIT |"""

SERVERS = """\
## Servers

| URL | Description |
|---|---|
| http://127.0.0.1:8000 | Local server (`make run`) |"""

TAGS = """\
## Tags

| Tag | Description |
|---|---|
| items | An owner's items. |
| admin | Operations for operators. |"""

SECURITY = """\
## Security schemes

| Name | Type | Scheme | Bearer format | Description |
|---|---|---|---|---|
| bearerAuth | http | bearer | JWT | A JWT in `Authorization: Bearer <token>`. |
| basicAuth | http | basic | | User name and password. |"""

HEADERS = """\
## Headers

| Header | Type | Description |
|---|---|---|
| X-Next-Cursor | string | Cursor of the next page. |
| Location | string | URL of the created item. |
| Retry-After | integer | Seconds to wait. |"""

ITEM = """\
### Item

An item as stored.

| Field | Type | Required | Constraints | Description |
|---|---|---|---|---|
| id | integer(int64) | yes | minimum: 1 | Server-assigned id. |
| name | string | yes | minLength: 1; maxLength: 50 | The `name`. |"""

PROBLEM = """\
### Problem

An error, as RFC 9457 problem details.

- Media type: application/problem+json
- Additional properties: allowed

| Field | Type | Required | Constraints | Description |
|---|---|---|---|---|
| title | string | yes | | Short summary. |
| status | integer(int32) | yes | minimum: 400; maximum: 599 | The HTTP status. |"""

GET_ITEM = """\
### GET /items/{item_id}

- Operation ID: getItem
- Summary: Get one item
- Tags: items
- Security: bearerAuth

Returns one item.

#### Parameters

| Name | In | Type | Required | Constraints | Description |
|---|---|---|---|---|---|
| item_id | path | integer(int64) | yes | minimum: 1 | Id of the item. |

#### Responses

| Status | Schema | Headers | Description |
|---|---|---|---|
| 200 | Item | | The item. |
| 404 | Problem | | No such item. |"""


def schemas(*blocks: str) -> str:
    return "\n\n".join(["## Schemas", ITEM, PROBLEM, *blocks])


def operations(*blocks: str) -> str:
    return "\n\n".join(["## Operations", GET_ITEM, *blocks])


def spec(**parts: str) -> str:
    """A complete small spec; a keyword replaces one top-level part ('' drops it)."""
    merged = {
        "title": TITLE,
        "info": INFO,
        "servers": SERVERS,
        "tags": TAGS,
        "security": SECURITY,
        "headers": HEADERS,
        "schemas": schemas(),
        "operations": operations(),
    } | parts
    return "\n\n".join(part for part in merged.values() if part) + "\n"


def build(**parts: str) -> dict[str, Any]:
    return codegen.build_openapi(spec(**parts))


def table_schema(rows: str, *, name: str = "Probe", head: str = "") -> str:
    """A `### Name` object schema with the given field rows (and optional lines before)."""
    return (
        f"### {name}\n\n{head}"
        "| Field | Type | Required | Constraints | Description |\n"
        "|---|---|---|---|---|\n"
        f"{dedent(rows).strip()}"
    )


def probe(type_text: str, constraints: str = "", *extra_schemas: str) -> dict[str, Any]:
    """The property schema of one field `value` with this Type and Constraints cell."""
    row = f"| value | {type_text} | yes | {constraints} | |"
    document = build(schemas=schemas(table_schema(row), *extra_schemas))
    prop: dict[str, Any] = document["components"]["schemas"]["Probe"]["properties"]["value"]
    return prop


def operation_block(
    heading: str = "POST /items",
    *,
    items: str = "- Operation ID: createItem\n- Summary: Create an item\n- Tags: items\n"
    "- Security: bearerAuth",
    body: str = "",
    parameters: str = "",
    responses: str = "| 201 | Item | Location | Created. |",
    links: str = "",
) -> str:
    parts = [f"### {heading}", items]
    if parameters:
        parts.append(
            "#### Parameters\n\n| Name | In | Type | Required | Constraints | Description |\n"
            f"|---|---|---|---|---|---|\n{dedent(parameters).strip()}"
        )
    if body:
        parts.append(
            "#### Request body\n\n| Media type | Schema | Required | Description |\n"
            f"|---|---|---|---|\n{dedent(body).strip()}"
        )
    parts.append(
        "#### Responses\n\n| Status | Schema | Headers | Description |\n"
        f"|---|---|---|---|\n{dedent(responses).strip()}"
    )
    if links:
        parts.append(
            "#### Links\n\n| Status | Name | Operation | Parameters | Description |\n"
            f"|---|---|---|---|---|\n{dedent(links).strip()}"
        )
    return "\n\n".join(parts)


def operation(document: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    found: dict[str, Any] = document["paths"][path][method]
    return found


# --- Title, Info, Servers, Tags, Security schemes, Headers ---------------------------------


def test_the_minimal_spec_is_a_valid_openapi_31_document() -> None:
    document = build()
    assert document["openapi"] == "3.1.0"
    assert list(document) == ["openapi", "info", "servers", "tags", "paths", "components"]


def test_title_and_paragraphs_become_info_title_and_description() -> None:
    info = build()["info"]
    assert info["title"] == "Mini API"
    assert info["description"] == (
        "A small API for parser tests. Soft line breaks become spaces.\n\nA second paragraph."
    )


def test_title_without_paragraphs_has_no_description() -> None:
    assert "description" not in build(title="# Mini API")["info"]


def test_info_version_and_license() -> None:
    info = build()["info"]
    assert info["version"] == "0.1.0"
    assert info["license"] == {"name": "MIT", "identifier": "MIT"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Mini team", {"name": "Mini team"}),
        ("Mini team <mini@example.com>", {"name": "Mini team", "email": "mini@example.com"}),
        (
            "Mini team <https://example.com/support>",
            {"name": "Mini team", "url": "https://example.com/support"},
        ),
    ],
)
def test_info_contact_row_becomes_info_contact(value: str, expected: dict[str, str]) -> None:
    info = build(info=INFO.replace("| License |", f"| Contact | {value} |\n| License |"))["info"]
    assert info["contact"] == expected
    assert list(info) == ["title", "version", "description", "contact", "license"]


def test_info_contact_is_optional() -> None:
    assert "contact" not in build()["info"]


def test_info_license_is_optional() -> None:
    info = build(info=INFO.replace("| License | MIT |\n", "").replace("| License | MIT |", ""))
    assert info["info"]["version"] == "0.1.0"
    assert "license" not in info["info"]


def test_servers_table_becomes_servers() -> None:
    assert build()["servers"] == [
        {"url": "http://127.0.0.1:8000", "description": "Local server (`make run`)"}
    ]


def test_servers_section_is_optional() -> None:
    assert "servers" not in build(servers="")


def test_tags_table_becomes_tags_in_order() -> None:
    assert build()["tags"] == [
        {"name": "items", "description": "An owner's items."},
        {"name": "admin", "description": "Operations for operators."},
    ]


def test_security_schemes_become_components() -> None:
    schemes = build()["components"]["securitySchemes"]
    assert schemes == {
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A JWT in `Authorization: Bearer <token>`.",
        },
        "basicAuth": {"type": "http", "scheme": "basic", "description": "User name and password."},
    }


def test_headers_become_component_headers() -> None:
    headers = build()["components"]["headers"]
    assert headers["X-Next-Cursor"] == {
        "description": "Cursor of the next page.",
        "schema": {"type": "string"},
    }
    assert headers["Retry-After"]["schema"] == {"type": "integer"}


def test_headers_section_is_optional() -> None:
    document = build(headers="", operations=operations())
    assert "headers" not in document["components"]


def test_table_headers_match_case_insensitively() -> None:
    document = build(tags=TAGS.replace("| Tag | Description |", "| tag | description |"))
    assert document["tags"][0]["name"] == "items"


# --- Object schemas -------------------------------------------------------------------------


def test_object_schema_fields_required_and_description() -> None:
    item = build()["components"]["schemas"]["Item"]
    assert item == {
        "type": "object",
        "description": "An item as stored.",
        "properties": {
            "id": {
                "type": "integer",
                "format": "int64",
                "minimum": 1,
                "description": ("Server-assigned id."),
            },
            "name": {
                "type": "string",
                "minLength": 1,
                "maxLength": 50,
                "description": "The `name`.",
            },
        },
        "required": ["id", "name"],
        "additionalProperties": False,
    }


def test_optional_fields_are_not_required_and_empty_description_is_omitted() -> None:
    rows = "| a | string | no | | |\n| b | string | No | | Bee. |"
    document = build(schemas=schemas(table_schema(rows)))
    probe_schema = document["components"]["schemas"]["Probe"]
    assert "required" not in probe_schema
    assert probe_schema["properties"] == {
        "a": {"type": "string"},
        "b": {"type": "string", "description": "Bee."},
    }
    assert "description" not in probe_schema


def test_schema_paragraphs_join_as_description() -> None:
    head = "First paragraph.\n\nSecond paragraph.\n\n"
    document = build(schemas=schemas(table_schema("| a | string | yes | | |", head=head)))
    assert document["components"]["schemas"]["Probe"]["description"] == (
        "First paragraph.\n\nSecond paragraph."
    )


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ("", False),
        ("- Additional properties: forbidden\n\n", False),
        ("- Additional properties: allowed\n\n", True),
    ],
)
def test_additional_properties_option(option: str, expected: bool) -> None:
    document = build(schemas=schemas(table_schema("| a | string | yes | | |", head=option)))
    assert document["components"]["schemas"]["Probe"]["additionalProperties"] is expected


def test_min_properties_option() -> None:
    head = "- Min properties: 1\n\n"
    document = build(schemas=schemas(table_schema("| a | string | no | | |", head=head)))
    assert document["components"]["schemas"]["Probe"]["minProperties"] == 1


def test_option_keys_are_case_insensitive() -> None:
    head = "- MIN PROPERTIES: 2\n- additional properties: allowed\n\n"
    document = build(schemas=schemas(table_schema("| a | string | no | | |", head=head)))
    probe_schema = document["components"]["schemas"]["Probe"]
    assert probe_schema["minProperties"] == 2
    assert probe_schema["additionalProperties"] is True


def test_media_type_option_sets_the_media_type_of_responses_with_that_schema() -> None:
    document = build()
    responses = operation(document, "/items/{item_id}", "get")["responses"]
    assert responses["200"]["content"] == {
        "application/json": {"schema": {"$ref": "#/components/schemas/Item"}}
    }
    assert responses["404"]["content"] == {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
    }
    # The option is not a schema keyword: the component itself carries no trace of it.
    assert "mediaType" not in document["components"]["schemas"]["Problem"]


# --- Enum schemas ---------------------------------------------------------------------------

SORT = """\
### ItemSort

The order of a list.

| Value | Description |
|---|---|
| created | Newest first. |
| name | By `name`. |"""


def test_enum_schema_lists_values_and_describes_each() -> None:
    document = build(schemas=schemas(SORT))
    assert document["components"]["schemas"]["ItemSort"] == {
        "type": "string",
        "enum": ["created", "name"],
        "description": "The order of a list.\n\n- `created`: Newest first.\n- `name`: By `name`.",
    }


def test_enum_schema_without_paragraphs_describes_only_values() -> None:
    document = build(schemas=schemas(SORT.replace("The order of a list.\n\n", "")))
    assert document["components"]["schemas"]["ItemSort"]["description"] == (
        "- `created`: Newest first.\n- `name`: By `name`."
    )


def test_enum_reference_with_a_default_value() -> None:
    assert probe("ItemSort", "default: name", SORT) == {
        "$ref": "#/components/schemas/ItemSort",
        "default": "name",
    }


def test_nullable_enum_reference_with_a_default_value() -> None:
    assert probe("ItemSort or null", "default: created", SORT) == {
        "anyOf": [{"$ref": "#/components/schemas/ItemSort"}, {"type": "null"}],
        "default": "created",
    }


def test_enum_default_in_a_query_parameter() -> None:
    block = operation_block(
        "GET /items",
        items="- Operation ID: listItems\n- Summary: List items\n- Tags: items\n"
        "- Security: bearerAuth",
        parameters="| sort | query | ItemSort | no | default: created | The order. |",
        responses="| 200 | array of Item | | The items. |",
    )
    document = build(schemas=schemas(SORT), operations=operations(block))
    assert operation(document, "/items", "get")["parameters"] == [
        {
            "name": "sort",
            "in": "query",
            "description": "The order.",
            "required": False,
            "schema": {"$ref": "#/components/schemas/ItemSort", "default": "created"},
        }
    ]


# --- The Type language ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_text", "expected"),
    [
        ("string", {"type": "string"}),
        ("integer", {"type": "integer"}),
        ("number", {"type": "number"}),
        ("boolean", {"type": "boolean"}),
        ("integer(int32)", {"type": "integer", "format": "int32"}),
        ("integer(int64)", {"type": "integer", "format": "int64"}),
        ("number(double)", {"type": "number", "format": "double"}),
        ("number(float)", {"type": "number", "format": "float"}),
        ("string(date)", {"type": "string", "format": "date"}),
        ("string(date-time)", {"type": "string", "format": "date-time"}),
        ("string(uuid)", {"type": "string", "format": "uuid"}),
        ("string(email)", {"type": "string", "format": "email"}),
        ("string(uri-reference)", {"type": "string", "format": "uri-reference"}),
        ("string or null", {"type": ["string", "null"]}),
        ("string(date) or null", {"type": ["string", "null"], "format": "date"}),
        ("integer(int64) or null", {"type": ["integer", "null"], "format": "int64"}),
        ("Item", {"$ref": "#/components/schemas/Item"}),
        ("Item or null", {"anyOf": [{"$ref": "#/components/schemas/Item"}, {"type": "null"}]}),
        ("array of Item", {"type": "array", "items": {"$ref": "#/components/schemas/Item"}}),
        ("array of string", {"type": "array", "items": {"type": "string"}}),
        (
            "array of string(uuid)",
            {"type": "array", "items": {"type": "string", "format": "uuid"}},
        ),
        (
            "array of Item or null",
            {"type": ["array", "null"], "items": {"$ref": "#/components/schemas/Item"}},
        ),
        (
            "array of array of integer",
            {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}},
        ),
    ],
)
def test_type_expression(type_text: str, expected: dict[str, Any]) -> None:
    assert probe(type_text) == expected


def test_a_schema_may_reference_one_declared_after_it() -> None:
    owner = table_schema("| item | Later | yes | | |", name="Holder")
    later = table_schema("| a | string | yes | | |", name="Later")
    document = build(schemas=schemas(owner, later))
    assert document["components"]["schemas"]["Holder"]["properties"]["item"] == {
        "$ref": "#/components/schemas/Later"
    }


# --- The Constraints language ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_text", "constraints", "expected"),
    [
        ("integer", "minimum: 1", {"minimum": 1}),
        ("integer", "maximum: 9223372036854775807", {"maximum": 9223372036854775807}),
        ("number", "minimum: -1.5", {"minimum": -1.5}),
        ("number", "exclusiveMinimum: 0", {"exclusiveMinimum": 0}),
        ("number", "exclusiveMaximum: 100.5", {"exclusiveMaximum": 100.5}),
        ("number", "multipleOf: 0.25", {"multipleOf": 0.25}),
        ("integer", "multipleOf: 5", {"multipleOf": 5}),
        ("string", "minLength: 1", {"minLength": 1}),
        ("string", "maxLength: 1000", {"maxLength": 1000}),
        ("array of string", "minItems: 1", {"minItems": 1}),
        ("array of string", "maxItems: 10", {"maxItems": 10}),
        ("string", "pattern: `^[a-z]+$`", {"pattern": "^[a-z]+$"}),
        ("string", "pattern: ^[a-z]+$", {"pattern": "^[a-z]+$"}),
        ("string", "default: hello", {"default": "hello"}),
        ("integer", "default: 20", {"default": 20}),
        ("number", "default: 2.5", {"default": 2.5}),
        ("boolean", "default: false", {"default": False}),
        ("boolean", "default: true", {"default": True}),
        ("string", "example: buy milk", {"examples": ["buy milk"]}),
        ("integer", "example: 42", {"examples": [42]}),
    ],
)
def test_constraint_keyword(type_text: str, constraints: str, expected: dict[str, Any]) -> None:
    schema = probe(type_text, constraints)
    assert {key: schema[key] for key in expected} == expected
    assert all(type(schema[key]) is type(value) for key, value in expected.items())


def test_several_constraints_separated_by_semicolons_keep_their_order() -> None:
    schema = probe("integer(int32)", "minimum: 1; maximum: 100; default: 20")
    assert schema == {
        "type": "integer",
        "format": "int32",
        "minimum": 1,
        "maximum": 100,
        "default": 20,
    }


def test_pattern_in_a_code_span_may_hold_semicolons_colons_and_escaped_pipes() -> None:
    schema = probe("string", r"pattern: `^(a;b|c:d)$`; maxLength: 9".replace("|", "\\|"))
    assert schema["pattern"] == "^(a;b|c:d)$"
    assert schema["maxLength"] == 9


def test_unique_items_is_a_boolean() -> None:
    assert probe("array of string", "uniqueItems: true")["uniqueItems"] is True
    assert probe("array of string", "uniqueItems: false")["uniqueItems"] is False


def test_items_prefixed_constraints_apply_to_the_items_of_an_array() -> None:
    schema = probe(
        "array of string",
        "maxItems: 5; items.minLength: 1; items.pattern: `^[a-z;]+$`; items.maxLength: 32",
    )
    assert schema == {
        "type": "array",
        "items": {"type": "string", "minLength": 1, "pattern": "^[a-z;]+$", "maxLength": 32},
        "maxItems": 5,
    }


def test_items_prefixed_constraints_reach_the_innermost_items() -> None:
    schema = probe("array of array of integer", "items.items.minimum: 0; items.maxItems: 2")
    assert schema["items"] == {
        "type": "array",
        "items": {"type": "integer", "minimum": 0},
        "maxItems": 2,
    }


def test_constraints_apply_to_a_nullable_type() -> None:
    assert probe("string or null", "maxLength: 1000") == {
        "type": ["string", "null"],
        "maxLength": 1000,
    }


def test_constraints_sit_beside_a_reference() -> None:
    assert probe("Item", "example: x")["$ref"] == "#/components/schemas/Item"


def test_descriptions_keep_their_markdown_source() -> None:
    row = "| value | string | yes | | Use `make run`, *then* wait. |"
    document = build(schemas=schemas(table_schema(row)))
    value = document["components"]["schemas"]["Probe"]["properties"]["value"]
    assert value["description"] == "Use `make run`, *then* wait."


# --- Operations -----------------------------------------------------------------------------


def test_operation_items_description_and_security() -> None:
    get_item = operation(build(), "/items/{item_id}", "get")
    assert get_item["operationId"] == "getItem"
    assert get_item["summary"] == "Get one item"
    assert get_item["tags"] == ["items"]
    assert get_item["description"] == "Returns one item."
    assert get_item["security"] == [{"bearerAuth": []}]
    assert list(get_item) == [
        "operationId",
        "summary",
        "tags",
        "description",
        "parameters",
        "responses",
        "security",
    ]


def test_operation_items_are_case_insensitive_and_order_free() -> None:
    block = operation_block(
        items="- security: bearerAuth\n- TAGS: items\n- summary: Create\n- operation id: createItem"
    )
    created = operation(build(operations=operations(block)), "/items", "post")
    assert created["operationId"] == "createItem"
    assert created["summary"] == "Create"


def test_several_tags_and_security_schemes_are_comma_separated() -> None:
    block = operation_block(
        items="- Operation ID: createItem\n- Summary: Create\n- Tags: items, admin\n"
        "- Security: bearerAuth, basicAuth"
    )
    created = operation(build(operations=operations(block)), "/items", "post")
    assert created["tags"] == ["items", "admin"]
    # One requirement object per scheme: any one of them suffices.
    assert created["security"] == [{"bearerAuth": []}, {"basicAuth": []}]


def test_operation_without_paragraphs_has_no_description() -> None:
    created = operation(build(operations=operations(operation_block())), "/items", "post")
    assert "description" not in created


def test_operation_description_paragraphs_join() -> None:
    block = operation_block().replace(
        "- Security: bearerAuth", "- Security: bearerAuth\n\nFirst\nline.\n\nSecond."
    )
    created = operation(build(operations=operations(block)), "/items", "post")
    assert created["description"] == "First line.\n\nSecond."


def test_several_operations_on_one_path_are_ordered_by_method() -> None:
    def on_item(method: str, operation_id: str) -> str:
        return operation_block(
            f"{method} /items/{{item_id}}",
            items=f"- Operation ID: {operation_id}\n- Summary: {operation_id}\n- Tags: items\n"
            "- Security: bearerAuth",
            parameters="| item_id | path | integer(int64) | yes | minimum: 1 | Id. |",
            responses="| 204 | | | Done. |",
        )

    document = build(
        operations=operations(on_item("DELETE", "deleteItem"), on_item("PATCH", "patchItem"))
    )
    path = document["paths"]["/items/{item_id}"]
    assert list(path) == ["get", "delete", "patch"]
    assert path["delete"]["operationId"] == "deleteItem"
    assert path["patch"]["operationId"] == "patchItem"


def test_paths_keep_the_order_of_the_spec() -> None:
    document = build(operations=operations(operation_block()))
    assert list(document["paths"]) == ["/items/{item_id}", "/items"]


def test_lower_case_method_in_heading() -> None:
    document = build(operations=operations(operation_block("post /items")))
    assert "post" in document["paths"]["/items"]


@pytest.mark.parametrize("location", ["path", "query", "header", "cookie"])
def test_parameter_locations(location: str) -> None:
    name = "item_id" if location == "path" else "probe"
    rows = "| item_id | path | integer(int64) | yes | minimum: 1 | Id. |"
    if location != "path":
        rows += f"\n| probe | {location} | string | no | maxLength: 8 | A {location} value. |"
    block = operation_block(
        "PUT /items/{item_id}",
        items="- Operation ID: putItem\n- Summary: Put\n- Tags: items\n- Security: bearerAuth",
        parameters=rows,
        responses="| 204 | | | Done. |",
    )
    parameters = operation(build(operations=operations(block)), "/items/{item_id}", "put")[
        "parameters"
    ]
    parameter = next(p for p in parameters if p["name"] == name)
    assert parameter["in"] == location
    assert parameter["required"] is (location == "path")
    if location != "path":
        assert parameter == {
            "name": "probe",
            "in": location,
            "description": f"A {location} value.",
            "required": False,
            "schema": {"type": "string", "maxLength": 8},
        }


def test_path_parameter_with_pattern_and_an_operation_without_parameters() -> None:
    block = operation_block(
        "GET /users/{user_id}/items",
        items="- Operation ID: listItems\n- Summary: List\n- Tags: items\n- Security: bearerAuth",
        parameters="| user_id | path | string | yes | minLength: 1; pattern: `^[A-Za-z0-9_-]+$` "
        "| Owner. |",
        responses="| 200 | array of Item | X-Next-Cursor | A page. |",
    )
    health = operation_block(
        "GET /health",
        items="- Operation ID: health\n- Summary: Health\n- Tags: admin\n- Security: bearerAuth",
        responses="| 204 | | | Up. |",
    )
    document = build(operations=operations(block, health))
    assert operation(document, "/users/{user_id}/items", "get")["parameters"] == [
        {
            "name": "user_id",
            "in": "path",
            "description": "Owner.",
            "required": True,
            "schema": {"type": "string", "minLength": 1, "pattern": "^[A-Za-z0-9_-]+$"},
        }
    ]
    assert operation(document, "/health", "get")["parameters"] == []


def test_request_body() -> None:
    block = operation_block(body="| application/json | Item | yes | The new item. |")
    created = operation(build(operations=operations(block)), "/items", "post")
    assert created["requestBody"] == {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}},
        "description": "The new item.",
    }
    assert list(created) == [
        "operationId",
        "summary",
        "tags",
        "parameters",
        "requestBody",
        "responses",
        "security",
    ]


def test_request_body_with_two_media_types_and_optional() -> None:
    block = operation_block(
        body="| application/json | Item | no | The item. |\n"
        "| application/merge-patch+json | Item | no | |"
    )
    body = operation(build(operations=operations(block)), "/items", "post")["requestBody"]
    assert body["required"] is False
    assert list(body["content"]) == ["application/json", "application/merge-patch+json"]
    assert body["description"] == "The item."


def test_no_request_body_section_means_no_request_body() -> None:
    assert "requestBody" not in operation(build(), "/items/{item_id}", "get")


def test_responses_with_headers_arrays_and_no_body() -> None:
    block = operation_block(
        "GET /items",
        items="- Operation ID: listItems\n- Summary: List\n- Tags: items\n- Security: bearerAuth",
        responses="""
            | 200 | array of Item | X-Next-Cursor | A page. |
            | 204 | | | Nothing. |
            | 401 | Problem | | No token. |
            | 503 | Problem | Retry-After, X-Next-Cursor | Down. |
        """,
    )
    responses = operation(build(operations=operations(block)), "/items", "get")["responses"]
    assert responses == {
        "200": {
            "description": "A page.",
            "headers": {"X-Next-Cursor": {"$ref": "#/components/headers/X-Next-Cursor"}},
            "content": {
                "application/json": {
                    "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}}
                }
            },
        },
        "204": {"description": "Nothing."},
        "401": {
            "description": "No token.",
            "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            },
        },
        "503": {
            "description": "Down.",
            "headers": {
                "Retry-After": {"$ref": "#/components/headers/Retry-After"},
                "X-Next-Cursor": {"$ref": "#/components/headers/X-Next-Cursor"},
            },
            "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            },
        },
    }


def test_array_of_a_schema_with_a_media_type_uses_that_media_type() -> None:
    block = operation_block(responses="| 201 | array of Problem | | Odd, but allowed. |")
    responses = operation(build(operations=operations(block)), "/items", "post")["responses"]
    assert list(responses["201"]["content"]) == ["application/problem+json"]


def test_links_on_a_response() -> None:
    block = operation_block(
        body="| application/json | Item | yes | The new item. |",
        links="""
            | 201 | GetCreatedItem | getItem | item_id: `$response.body#/id` | Read it. |
            | 201 | GetAgain | getItem | item_id: `$response.header.Location`; x: `$url` | |
        """,
    )
    created = operation(build(operations=operations(block)), "/items", "post")
    assert created["responses"]["201"]["links"] == {
        "GetCreatedItem": {
            "operationId": "getItem",
            "parameters": {"item_id": "$response.body#/id"},
            "description": "Read it.",
        },
        "GetAgain": {
            "operationId": "getItem",
            "parameters": {"item_id": "$response.header.Location", "x": "$url"},
        },
    }


def test_a_link_may_name_an_operation_declared_after_it() -> None:
    block = operation_block(
        links="| 201 | DeleteIt | deleteItem | item_id: `$response.body#/id` | |"
    )
    delete = operation_block(
        "DELETE /items/{item_id}",
        items="- Operation ID: deleteItem\n- Summary: Delete\n- Tags: items\n"
        "- Security: bearerAuth",
        parameters="| item_id | path | integer(int64) | yes | | Id. |",
        responses="| 204 | | | Deleted. |",
    )
    document = build(operations=operations(block, delete))
    links = operation(document, "/items", "post")["responses"]["201"]["links"]
    assert links["DeleteIt"]["operationId"] == "deleteItem"


def test_subsection_titles_are_case_insensitive() -> None:
    block = operation_block(body="| application/json | Item | yes | |").replace(
        "#### Request body", "#### Request Body"
    )
    assert "requestBody" in operation(build(operations=operations(block)), "/items", "post")


def test_the_committed_spec_builds() -> None:
    text = (codegen.ROOT / codegen.SPEC).read_text(encoding="utf-8")
    document = codegen.build_openapi(text)
    assert document["info"]["title"]
    assert document["paths"]


def test_the_readme_example_builds_and_uses_every_section() -> None:
    readme = (codegen.ROOT / "specs" / "README.md").read_text(encoding="utf-8")
    tail = readme[readme.index("## A whole spec in one page") :]
    example = tail[tail.index("```markdown\n") + len("```markdown\n") : tail.index("\n```\n")]
    document = codegen.build_openapi(example + "\n")
    assert set(document["components"]) == {"schemas", "headers", "securitySchemes"}
    assert document["servers"]
    create = document["paths"]["/api/{user_id}/tasks"]["post"]
    assert create["requestBody"]["required"] is True
    assert "links" in create["responses"]["201"]
    assert document["components"]["schemas"]["TaskSort"]["enum"] == ["created", "title"]
