"""The `## Examples` grammar: what it renders, and each mistake reported at its spec line."""

from __future__ import annotations

import pytest

from codegen import SpecError, build_contract
from tests.codegen.test_errors import SPEC

EXAMPLES = """
## Examples

A session with the items.

### made

An item is created.

- Operation: createItem
- Status: 201
- Response header Location: `/items/{pen}`

```json request
{"id": 7, "name": "pen"}
```

```json response
{"id": "{pen}", "name": "pen"}
```

### read

It is read back.

- Operation: getItem
- Path item_id: `{pen}`
- Query sort: `name`
- Status: 200

```json response
{
  "id": "{pen}",
  "name": "pen",
  "size": 3
}
```

### missing

No item 99.

- Operation: getItem
- Path item_id: `99`
- Status: 404

```json response
{"title": "Not Found"}
```
"""
BASE = SPEC + EXAMPLES


def line_of(text: str, marker: str, after: str = "## Examples", *, last: bool = False) -> int:
    """The line of the first (or last) `marker` after `after` (1-based)."""
    start = text.index(after)
    found = text.rindex(marker, start) if last else text.index(marker, start)
    return text.count("\n", 0, found) + 1


def test_examples_render_on_parameters_bodies_and_responses() -> None:
    contract = build_contract(BASE)
    assert [example.name for example in contract.examples] == ["made", "read", "missing"]
    paths = contract.document["paths"]
    made = paths["/items"]["post"]
    assert made["requestBody"]["content"]["application/json"]["examples"] == {
        "made": {"summary": "An item is created.", "value": {"id": 7, "name": "pen"}}
    }
    created = made["responses"]["201"]["content"]["application/json"]["examples"]
    # The placeholder's sample: the first integer bound is 1.
    assert created["made"]["value"] == {"id": 1, "name": "pen"}
    read = paths["/items/{item_id}"]["get"]
    assert read["parameters"][0]["examples"] == {
        "read": {"summary": "It is read back.", "value": 1}
    }
    assert read["parameters"][1]["examples"]["read"]["value"] == "name"
    missing = read["responses"]["404"]["content"]["application/problem+json"]["examples"]
    assert missing == {"missing": {"summary": "No item 99.", "value": {"title": "Not Found"}}}
    # An error example's request is not rendered: item_id 99 appears on no parameter.
    assert "missing" not in read["parameters"][0]["examples"]
    assert contract.locations[
        "/paths/~1items/post/responses/201/content/application~1json/examples/made"
    ] == line_of(BASE, "### made")


def test_a_body_field_is_found_at_its_line() -> None:
    read = build_contract(BASE).examples[1]
    assert read.response_body is not None
    assert read.response_body.line_of(("size",)) == line_of(BASE, '"size": 3')


CASES = [
    ("- Operation: createItem", "- Operation: makeItem", "example of unknown operation 'makeItem'"),
    ("- Status: 404", "- Status: 410", "answers 410, which getItem does not declare"),
    ('"size": 3', '"size": "3"', "the response body does not match its schema at size"),
    (
        '{"id": 7, "name": "pen"}',
        '{"id": 7, "name": ""}',
        "the request body does not match its schema at name",
    ),
    (
        "- Path item_id: `{pen}`",
        "- Path item_id: `{pencil}`",
        "placeholder {pencil} is used before",
    ),
    ("- Query sort: `name`", "- Query order: `name`", "getItem has no query parameter 'order'"),
    ("- Query sort: `name`", "- Query sort: name", "must be one code span"),
    ("- Query sort: `name`", "- Colour: red", "unknown example item 'Colour'"),
    (
        "- Query sort: `name`",
        "- Query sort: `latest`",
        "parameter 'sort' does not match its schema",
    ),
    (
        "- Query sort: `name`",
        "- Response header Location: `x`",
        "200 response of getItem declares no header 'Location'",
    ),
    (
        "- Operation: createItem",
        "- Operation: createItem\n- Given: the moon is full",
        "unknown precondition 'the moon is full'",
    ),
    ('{"id": 7, "name": "pen"}', '{"id": 7, "name": pen}', "the request body is not JSON"),
    (
        '```json response\n{"title"',
        '```yaml response\n{"title"',
        "expected 'json request' or 'json response'",
    ),
    ("### missing", "### read", "duplicate example 'read'"),
    ("### missing", "### Missing", "example name 'Missing' is not lower-case words"),
]


@pytest.mark.parametrize(("old", "new", "words"), CASES, ids=[case[2] for case in CASES])
def test_an_example_mistake_is_reported_at_its_line(old: str, new: str, words: str) -> None:
    start = BASE.index("## Examples")
    text = BASE[:start] + BASE[start:].replace(old, new, 1)
    # The line at fault: the changed one (the last, when a case adds lines; a code block's
    # first line is its fence).
    first_line = new.split("\n")[0 if new.startswith("```") else -1]
    with pytest.raises(SpecError) as error:
        build_contract(text)
    assert words in error.value.message
    assert error.value.line == line_of(text, first_line, last=old.startswith("###"))


def test_a_missing_response_body_is_reported_at_the_status() -> None:
    text = BASE.replace('\n```json response\n{"title": "Not Found"}\n```\n', "")
    with pytest.raises(SpecError) as error:
        build_contract(text)
    assert "example 'missing' needs a ```json response``` body" in error.value.message
    assert error.value.line == line_of(text, "- Status: 404")


def test_a_missing_path_parameter_is_reported_at_the_example() -> None:
    text = BASE.replace("- Path item_id: `99`\n", "")
    with pytest.raises(SpecError) as error:
        build_contract(text)
    assert "example 'missing' needs '- Path item_id" in error.value.message
    assert error.value.line == line_of(text, "### missing")
