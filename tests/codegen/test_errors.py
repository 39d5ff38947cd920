"""A broken spec: the real CLI exits 2 with `specs/api/rest-endpoints.md:LINE: message`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import codegen

CODEGEN = str(codegen.ROOT / "codegen.py")
PREFIX = "specs/api/rest-endpoints.md"

# Every line is distinct enough for a test to find it by a marker, so that line numbers
# are computed, not counted by hand.
SPEC = """\
# Mini API

A small API whose spec each test breaks in one place.

## Info

| Field | Value |
|---|---|
| Version | 0.1.0 |

## Tags

| Tag | Description |
|---|---|
| items | Items. |

## Security schemes

| Name | Type | Scheme | Bearer format | Description |
|---|---|---|---|---|
| bearerAuth | http | bearer | JWT | A token. |

## Headers

| Header | Type | Description |
|---|---|---|
| Location | string | URL of the created item. |

## Schemas

### Item

- Additional properties: forbidden

| Field | Type | Required | Constraints | Description |
|---|---|---|---|---|
| id | integer(int64) | yes | minimum: 1 | Server-assigned id. |
| name | string | yes | minLength: 1; maxLength: 50 | The name. |
| size | integer(int32) | no | default: 3 | Size. |

### ItemSort

| Value | Description |
|---|---|
| created | Newest first. |
| name | By name. |

### Problem

- Media type: application/problem+json

| Field | Type | Required | Constraints | Description |
|---|---|---|---|---|
| title | string | yes | | Short summary. |

## Operations

### GET /items/{item_id}

- Operation ID: getItem
- Summary: Get one item
- Tags: items
- Security: bearerAuth

#### Parameters

| Name | In | Type | Required | Constraints | Description |
|---|---|---|---|---|---|
| item_id | path | integer(int64) | yes | minimum: 1 | Id of the item. |
| sort | query | ItemSort | no | default: created | Unused order. |

#### Responses

| Status | Schema | Headers | Description |
|---|---|---|---|
| 200 | Item | | The item. |
| 404 | Problem | | No such item. |

### POST /items

- Operation ID: createItem
- Summary: Create an item
- Tags: items
- Security: bearerAuth

#### Request body

| Media type | Schema | Required | Description |
|---|---|---|---|
| application/json | Item | yes | The new item. |

#### Responses

| Status | Schema | Headers | Description |
|---|---|---|---|
| 201 | Item | Location | Created. |
| 422 | Problem | | Invalid body. |

#### Links

| Status | Name | Operation | Parameters | Description |
|---|---|---|---|---|
| 201 | GetCreatedItem | getItem | item_id: `$response.body#/id` | Read it. |
"""

GET_HEADING = "### GET /items/{item_id}"
POST_HEADING = "### POST /items"
GET_PARAMETERS_ROW = "| item_id | path | integer(int64) | yes | minimum: 1 | Id of the item. |"
NAME_ROW = "| name | string | yes | minLength: 1; maxLength: 50 | The name. |"
GET_RESPONSES = """\
#### Responses

| Status | Schema | Headers | Description |
|---|---|---|---|
| 200 | Item | | The item. |
| 404 | Problem | | No such item. |
"""
LINK_ROW = "| 201 | GetCreatedItem | getItem | item_id: `$response.body#/id` | Read it. |"


def run_codegen(root: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, CODEGEN, "--root", str(root), *arguments],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def write_spec(root: Path, text: str) -> None:
    path = root / "specs" / "api" / "rest-endpoints.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def line_of(text: str, marker: str) -> int:
    """The 1-based line of the one occurrence of `marker` in `text`."""
    assert text.count(marker) == 1, f"marker {marker!r} is not unique"
    return text[: text.index(marker)].count("\n") + 1


def replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"{old!r} is not unique in the base spec"
    return text.replace(old, new)


def assert_spec_error(root: Path, line: int, *words: str) -> str:
    completed = run_codegen(root)
    assert "Traceback" not in completed.stderr
    assert completed.returncode == 2, completed.stderr
    assert completed.stdout == ""
    assert completed.stderr.startswith(f"{PREFIX}:{line}: "), completed.stderr
    message = completed.stderr.removeprefix(f"{PREFIX}:{line}: ").strip()
    assert "\n" not in message
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"
    # A broken spec writes nothing.
    assert not (root / "openapi").exists()
    assert not (root / "generated").exists()
    return message


def test_the_base_spec_is_valid(tmp_path: Path) -> None:
    write_spec(tmp_path, SPEC)
    completed = run_codegen(tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert (tmp_path / "openapi" / "openapi.yaml").is_file()


def case(name: str, old: str, new: str, marker: str, *words: str) -> Any:
    """Replace `old` by `new`; expect an error on the line of `marker` naming `words`."""
    return pytest.param(old, new, marker, words, id=name)


def in_name_row(old: str, new: str) -> tuple[str, str]:
    """The base spec's `name` field row, and that row with one change."""
    return NAME_ROW, NAME_ROW.replace(old, new)


def in_link_row(old: str, new: str) -> tuple[str, str]:
    return LINK_ROW, LINK_ROW.replace(old, new)


CASES = [
    # The Type language
    case("unknown-type", *in_name_row("string", "strin"), "| strin |", "unknown type 'strin'"),
    case(
        "unknown-type-lower-case", *in_name_row("string", "item"), "| item |", "unknown type 'item'"
    ),
    case(
        "unknown-type-empty-array",
        *in_name_row("string", "array of"),
        "| array of |",
        "unknown type 'array of'",
    ),
    case(
        "unknown-format",
        *in_name_row("string", "string(dat)"),
        "string(dat)",
        "unknown format 'dat' for type 'string'",
    ),
    case(
        "unknown-schema-reference",
        *in_name_row("string", "Itme"),
        "Itme",
        "unknown schema reference 'Itme'",
    ),
    case(
        "unknown-schema-reference-in-array",
        *in_name_row("string", "array of Itme or null"),
        "Itme",
        "unknown schema reference 'Itme'",
    ),
    case(
        "unknown-schema-reference-in-request-body",
        "| application/json | Item |",
        "| application/json | Nope |",
        "Nope",
        "unknown schema reference 'Nope'",
    ),
    case(
        "unknown-schema-reference-in-response",
        "| 404 | Problem |",
        "| 404 | Problme |",
        "Problme",
        "unknown schema reference 'Problme'",
    ),
    # The Constraints language
    case(
        "unknown-constraint",
        *in_name_row("maxLength", "maxLenght"),
        "maxLenght",
        "unknown constraint 'maxLenght'",
    ),
    case(
        "item-constraint-on-a-type-that-is-not-an-array",
        *in_name_row("maxLength: 50", "items.maxLength: 50"),
        "items.maxLength",
        "constraint 'items.maxLength' needs an 'array of' type",
    ),
    case(
        "unique-items-that-is-not-a-boolean",
        *in_name_row("maxLength: 50", "uniqueItems: yes"),
        "uniqueItems",
        "uniqueItems needs true or false, got 'yes'",
    ),
    case(
        "constraint-without-colon",
        *in_name_row("minLength: 1;", "minLength 1;"),
        "minLength 1;",
        "'minLength 1'",
        "is not 'keyword: value'",
    ),
    case(
        "constraint-not-a-number",
        *in_name_row("maxLength: 50", "maxLength: fifty"),
        "fifty",
        "maxLength needs a number, got 'fifty'",
    ),
    case(
        "length-negative",
        *in_name_row("maxLength: 50", "maxLength: -3"),
        "-3",
        "maxLength needs a whole number >= 0, got '-3'",
    ),
    case(
        "length-not-whole",
        *in_name_row("minLength: 1", "minLength: 1.5"),
        "1.5",
        "minLength needs a whole number >= 0, got '1.5'",
    ),
    case(
        "bad-pattern",
        *in_name_row("minLength: 1", "pattern: `^[a-z`"),
        "^[a-z",
        "pattern '^[a-z' is not a regular expression",
    ),
    case(
        "default-not-an-integer",
        "| default: 3 |",
        "| default: three |",
        "three",
        "default 'three' is not a valid integer",
    ),
    case(
        "default-not-an-enum-value",
        "| default: created |",
        "| default: newest |",
        "newest",
        "default 'newest' is not a value of ItemSort",
    ),
    case(
        "default-not-a-value-of-a-nullable-enum",
        "| ItemSort | no | default: created |",
        "| ItemSort or null | no | default: x |",
        "ItemSort or null",
        "default 'x' is not a value of ItemSort",
    ),
    # Cells
    case(
        "required-not-yes-or-no",
        *in_name_row("| yes |", "| maybe |"),
        "| maybe |",
        "column 'Required' must be 'yes' or 'no', got 'maybe'",
    ),
    case(
        "empty-required-cell",
        *in_name_row("| string |", "| |"),
        "| name | |",
        "column 'Type' is empty",
    ),
    # Tables
    case(
        "row-with-too-many-cells",
        NAME_ROW,
        NAME_ROW + " extra |",
        "extra",
        "malformed table row: 6 cells, the table has 5 columns",
    ),
    case(
        "row-with-too-few-cells",
        NAME_ROW,
        "| name | string | yes | The name. |",
        "| name | string | yes | The",
        "malformed table row: 4 cells, the table has 5 columns",
    ),
    case(
        "blank-line-inside-a-table",
        NAME_ROW,
        "\n" + NAME_ROW,
        NAME_ROW,
        "table row outside a table",
    ),
    case(
        "wrong-table-columns",
        "| Tag | Description |",
        "| Tag | Summary |",
        "| Tag | Summary |",
        "table columns are Tag | Summary; expected Tag | Description",
    ),
    case(
        "section-without-a-table",
        "| Tag | Description |\n|---|---|\n| items | Items. |",
        "Tags are listed here.",
        "## Tags",
        "section 'Tags' needs a table",
        "Tag | Description",
    ),
    # Sections
    case(
        "info-without-version",
        "| Version | 0.1.0 |",
        "| Release | 0.1.0 |",
        "## Info",
        "the Info table needs a 'Version' row",
    ),
    case(
        "contact-with-two-addresses",
        "| Version | 0.1.0 |",
        "| Version | 0.1.0 |\n| Contact | Team <a@example.com> <b@example.com> |",
        "| Contact |",
        "contact 'Team <a@example.com> <b@example.com>' is not 'Name', 'Name <email>'",
    ),
    case(
        "contact-without-a-name",
        "| Version | 0.1.0 |",
        "| Version | 0.1.0 |\n| Contact | <a@example.com> |",
        "| Contact |",
        "contact '<a@example.com>' is not 'Name'",
    ),
    case(
        "missing-responses",
        GET_RESPONSES,
        "",
        GET_HEADING,
        "missing required section 'Responses' under 'GET /items/{item_id}'",
    ),
    case(
        "missing-schemas",
        "## Schemas",
        "## Models",
        "# Mini API",
        "missing required section 'Schemas' under 'Mini API'",
    ),
    case("missing-tags", "## Tags", "## Labels", "# Mini API", "missing required section 'Tags'"),
    case(
        "missing-security-schemes",
        "## Security schemes",
        "## Auth",
        "# Mini API",
        "missing required section 'Security schemes'",
    ),
    case(
        "missing-operations",
        "## Operations",
        "## Routes",
        "# Mini API",
        "missing required section 'Operations'",
    ),
    case("missing-info", "## Info", "## About", "# Mini API", "missing required section 'Info'"),
    case("no-title", "# Mini API\n", "Mini API\n", "Mini API", "exactly one '# Title' heading"),
    case(
        "two-titles",
        "## Operations",
        "# Second title\n\n## Operations",
        "# Mini API",
        "exactly one '# Title' heading",
    ),
    # Schemas
    case(
        "schema-name-not-pascal-case",
        "### ItemSort",
        "### item_sort",
        "### item_sort",
        "schema name 'item_sort' must be PascalCase",
    ),
    case(
        "duplicate-field",
        NAME_ROW,
        NAME_ROW + "\n| name | string | no | | Again. |",
        "Again.",
        "duplicate field 'name'",
    ),
    case(
        "unknown-schema-option",
        "- Additional properties: forbidden",
        "- Nullable: yes",
        "- Nullable: yes",
        "unknown schema option 'nullable'",
    ),
    case(
        "additional-properties-value",
        "- Additional properties: forbidden",
        "- Additional properties: sometimes",
        "sometimes",
        "additional properties is 'allowed' or 'forbidden'",
    ),
    case(
        "min-properties-not-a-number",
        "- Additional properties: forbidden",
        "- Min properties: one",
        "- Min properties: one",
        "min properties needs a number, got 'one'",
    ),
    case(
        "list-item-not-key-value",
        "- Additional properties: forbidden",
        "- Forbid extra fields",
        "- Forbid extra fields",
        "list item 'Forbid extra fields' is not 'Key: value'",
    ),
    case(
        "enum-with-options",
        "### ItemSort\n",
        "### ItemSort\n\n- Media type: text/plain\n",
        "text/plain",
        "an enum schema takes no '- Key: value' options",
    ),
    # Headers
    case(
        "duplicate-header",
        "| Location | string | URL of the created item. |",
        "| Location | string | URL of the created item. |\n| Location | string | Again. |",
        "Again.",
        "duplicate header 'Location'",
    ),
    case(
        "unknown-header",
        "| 201 | Item | Location |",
        "| 201 | Item | Locaton |",
        "Locaton",
        "unknown header 'Locaton' (declare it under '## Headers')",
    ),
    # Operations
    case(
        "bad-operation-heading",
        POST_HEADING,
        "### FETCH /items",
        "### FETCH /items",
        "operation heading 'FETCH /items' is not 'METHOD /path'",
    ),
    case(
        "operation-path-without-slash",
        POST_HEADING,
        "### POST items",
        "### POST items",
        "operation heading 'POST items' is not 'METHOD /path'",
    ),
    case(
        "duplicate-operation",
        POST_HEADING,
        "### get /items/{item_id}",
        "### get /items/{item_id}",
        "duplicate operation GET /items/{item_id}",
    ),
    case(
        "missing-operation-id",
        "- Operation ID: createItem\n",
        "",
        POST_HEADING,
        "operation 'POST /items' needs a '- Operation ID: ...' item",
    ),
    case(
        "missing-summary",
        "- Summary: Create an item\n",
        "",
        POST_HEADING,
        "operation 'POST /items' needs a '- Summary: ...' item",
    ),
    case(
        "unknown-operation-item",
        "- Summary: Create an item",
        "- Summary: Create an item\n- Deprecated: yes",
        "- Deprecated",
        "unknown operation item 'deprecated'",
    ),
    case(
        "unknown-operation-section",
        "#### Request body",
        "#### Body",
        "#### Body",
        "unknown section 'Body' in an operation",
        "Request body",
    ),
    case(
        "unknown-tag",
        "- Tags: items\n- Security: bearerAuth\n\n#### Request",
        "- Tags: itemz\n- Security: bearerAuth\n\n#### Request",
        "- Tags: itemz",
        "unknown tag 'itemz'",
    ),
    case(
        "unknown-security-scheme",
        "- Security: bearerAuth\n\n#### Request",
        "- Security: oauth\n\n#### Request",
        "- Security: oauth",
        "unknown security scheme 'oauth'",
    ),
    # Parameters
    case(
        "path-parameter-not-declared",
        GET_PARAMETERS_ROW + "\n",
        "",
        "#### Parameters",
        "path parameter '{item_id}' of /items/{item_id} is not declared in the Parameters table",
    ),
    case(
        "second-path-parameter-not-declared",
        GET_HEADING,
        "### GET /items/{item_id}/{part}",
        "#### Parameters",
        "path parameter '{part}'",
        "is not declared",
    ),
    case(
        "path-parameter-absent-from-path",
        GET_PARAMETERS_ROW,
        GET_PARAMETERS_ROW.replace("item_id", "itemId"),
        "itemId",
        "path parameter 'itemId' is declared but absent from the path /items/{item_id}",
    ),
    case(
        "path-parameter-optional",
        GET_PARAMETERS_ROW,
        GET_PARAMETERS_ROW.replace("yes", "no"),
        "| item_id |",
        "path parameter 'item_id' must be required",
    ),
    case(
        "unknown-parameter-location",
        GET_PARAMETERS_ROW,
        GET_PARAMETERS_ROW.replace("| path |", "| body |"),
        "| body |",
        "parameter location 'body' is not one of path, query, header, cookie",
    ),
    case(
        "duplicate-parameter",
        "| sort | query | ItemSort | no | default: created |",
        "| sort | query | string | no | | Again. |\n| sort | query | ItemSort | no | |",
        "| sort | query | ItemSort",
        "duplicate parameter 'sort' in query",
    ),
    # Request bodies and responses
    case(
        "request-body-not-a-named-schema",
        "| application/json | Item |",
        "| application/json | string |",
        "| application/json | string",
        "a request body must be a named schema",
    ),
    case(
        "response-body-not-a-named-schema",
        "| 200 | Item |",
        "| 200 | string |",
        "| 200 | string",
        "a response body must be a named schema or an array of one",
    ),
    case(
        "unknown-status-code",
        "| 200 | Item |",
        "| 299 | Item |",
        "| 299 |",
        "unknown status code '299'",
    ),
    case(
        "status-code-range",
        "| 200 | Item |",
        "| 2XX | Item |",
        "| 2XX |",
        "unknown status code '2XX'",
    ),
    case(
        "duplicate-status-code",
        "| 404 | Problem |",
        "| 200 | Problem |",
        "No such item.",
        "duplicate response for status 200",
    ),
    # Links
    case(
        "link-to-unknown-operation",
        *in_link_row("| getItem |", "| readItem |"),
        "readItem",
        "link to unknown operation 'readItem'",
    ),
    case(
        "link-on-unanswered-status",
        *in_link_row("| 201 |", "| 200 |"),
        "GetCreatedItem",
        "link on status 200, which the operation does not answer",
    ),
    case(
        "link-parameter-not-a-runtime-expression",
        *in_link_row("`$response.body#/id`", "id"),
        "GetCreatedItem",
        "link parameter 'item_id: id' is not 'name: $runtime.expression'",
    ),
    case(
        "duplicate-link",
        LINK_ROW,
        LINK_ROW + "\n" + LINK_ROW.replace("Read it.", "Twice."),
        "Twice.",
        "duplicate link 'GetCreatedItem' on status 201",
    ),
]


@pytest.mark.parametrize(("old", "new", "marker", "words"), CASES)
def test_spec_error(
    tmp_path: Path, old: str, new: str, marker: str, words: tuple[str, ...]
) -> None:
    text = replace_once(SPEC, old, new)
    write_spec(tmp_path, text)
    assert_spec_error(tmp_path, line_of(text, marker), *words)


def test_section_with_a_second_table(tmp_path: Path) -> None:
    text = replace_once(
        SPEC,
        "| items | Items. |\n",
        "| items | Items. |\n\nMore:\n\n| Tag | Description |\n|---|---|\n| more | More. |\n",
    )
    write_spec(tmp_path, text)
    second_table = line_of(text, "More:") + 2
    assert_spec_error(tmp_path, second_table, "section 'Tags' has a second table")


def test_duplicate_schema(tmp_path: Path) -> None:
    text = replace_once(SPEC, "### ItemSort", "### Item")
    write_spec(tmp_path, text)
    second = line_of(SPEC, "### ItemSort")
    assert_spec_error(tmp_path, second, "duplicate schema 'Item'")


def test_responses_without_a_success_status(tmp_path: Path) -> None:
    text = replace_once(SPEC, "| 200 | Item |", "| 400 | Item |")
    write_spec(tmp_path, text)
    get_responses = line_of(SPEC, GET_RESPONSES)
    assert_spec_error(tmp_path, get_responses, "the Responses table needs a success (2xx) status")


def test_duplicate_operation_id(tmp_path: Path) -> None:
    text = replace_once(SPEC, "- Operation ID: createItem", "- Operation ID: getItem")
    write_spec(tmp_path, text)
    first = line_of(SPEC, "- Operation ID: getItem")
    second = line_of(SPEC, "- Operation ID: createItem")
    assert_spec_error(tmp_path, second, f"duplicate operationId 'getItem' (first at line {first})")


def test_path_parameter_of_an_operation_without_a_parameters_section(tmp_path: Path) -> None:
    text = replace_once(SPEC, POST_HEADING, "### POST /items/{group}")
    write_spec(tmp_path, text)
    assert_spec_error(
        tmp_path,
        line_of(text, "### POST /items/{group}"),
        "path parameter '{group}'",
        "not declared",
    )


def test_derived_document_rejected_by_the_validator_is_reported_at_line_1(
    tmp_path: Path,
) -> None:
    # An apiKey scheme needs `in` and `name`, which the Security schemes table cannot say.
    text = replace_once(SPEC, "| bearerAuth | http | bearer |", "| bearerAuth | apiKey | |")
    write_spec(tmp_path, text)
    assert_spec_error(
        tmp_path,
        1,
        "the derived OpenAPI document is invalid at components/securitySchemes/bearerAuth",
        '"name" is a required property',
    )


def test_missing_spec_file(tmp_path: Path) -> None:
    assert_spec_error(tmp_path, 0, "the spec file does not exist")


def test_spec_that_is_not_utf8(tmp_path: Path) -> None:
    text = replace_once(SPEC, "| Short summary. |", "| Short summary \udcff |")
    path = tmp_path / "specs" / "api" / "rest-endpoints.md"
    path.parent.mkdir(parents=True)
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    assert_spec_error(tmp_path, line_of(text, "Short summary"), "not UTF-8")


def test_check_mode_reports_spec_errors_the_same_way(tmp_path: Path) -> None:
    text = replace_once(SPEC, NAME_ROW, NAME_ROW.replace("string", "strin"))
    write_spec(tmp_path, text)
    completed = run_codegen(tmp_path, "--check")
    assert completed.returncode == 2
    assert completed.stderr.startswith(f"{PREFIX}:{line_of(text, '| strin |')}: unknown type")
    assert "Traceback" not in completed.stderr
