"""The spec's `## Examples`: named requests with their responses, in the order a client sends them.

Each example is a level-3 heading (its name) with `- Key: value` items and up to two JSON
fences (```` ```json request ```` and ```` ```json response ````). Values the server assigns
are written as placeholders, `{name}`: a response binds a placeholder to the value it holds,
and a later request or response uses it. specs/README.md describes the grammar; checking
them and rendering them into the document is speclang/example_render.py.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from speclang.errors import SpecError
from speclang.markdown import Fence, Item, Section

PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")
EXAMPLE_NAME = re.compile(r"[a-z][a-z0-9-]*")
ANONYMOUS = "none"
# Preconditions a replay sets up before it sends the request, by their spec wording.
GIVENS = {
    "idempotency-key in flight": "a request with this example's Idempotency-Key is still "
    "being processed",
    "if-match required": "the server is configured to require If-Match on writes "
    "(REQUIRE_IF_MATCH=true)",
}
SINGLE_ITEMS = ("operation", "token", "given", "status")
NAMED_ITEMS = ("path", "query", "header", "response header")
BODY_FENCES = {"json request": "request", "json response": "response"}


@dataclass(frozen=True)
class Value:
    """One parameter or header of an example, as written (placeholders unexpanded)."""

    name: str
    text: str
    line: int


@dataclass(frozen=True)
class Body:
    """A JSON body as written: placeholders are string values `"{name}"`."""

    value: Any
    line: int  # of the fence
    text: str = ""

    def line_of(self, where: tuple[str | int, ...]) -> int:
        """The spec line where the value at this path of the body starts."""
        offset = value_offsets(self.text).get(where, 0)
        return self.line + 1 + self.text.count("\n", 0, offset)


@dataclass
class Example:
    """One named request and the response it gets."""

    name: str
    line: int
    operation_id: str
    operation_line: int
    summary: str
    status: int
    status_line: int
    token: str | None = None  # the `sub` of the token sent; None: no Authorization header
    given: str | None = None
    path: list[Value] = field(default_factory=list)
    query: list[Value] = field(default_factory=list)
    headers: list[Value] = field(default_factory=list)
    response_headers: list[Value] = field(default_factory=list)
    request_body: Body | None = None
    response_body: Body | None = None

    @property
    def succeeds(self) -> bool:
        return 200 <= self.status < 300


def read_examples(section: Section) -> list[Example]:
    """The examples of the `## Examples` section, in the order the spec gives them."""
    examples: list[Example] = []
    first_line: dict[str, int] = {}
    for child in section.children:
        if EXAMPLE_NAME.fullmatch(child.title) is None:
            raise SpecError(
                child.line,
                f"example name '{child.title}' is not lower-case words joined by '-' "
                f"(e.g. 'created-with-key')",
            )
        if child.title in first_line:
            raise SpecError(
                child.line,
                f"duplicate example '{child.title}' (first at line {first_line[child.title]})",
            )
        first_line[child.title] = child.line
        examples.append(read_example(child))
    return examples


def read_example(section: Section) -> Example:
    if section.children:
        raise SpecError(section.children[0].line, "an example has no sections inside it")
    if not section.paragraphs:
        raise SpecError(
            section.line, f"example '{section.title}' needs a sentence saying what it shows"
        )
    single: dict[str, Item] = {}
    named: dict[str, list[Value]] = {kind: [] for kind in NAMED_ITEMS}
    for item in section.items:
        key, colon, rest = item.text.partition(":")
        kind, name = split_key(key.strip(), item.line)
        if not colon or not rest.strip():
            raise SpecError(item.line, f"example item '{item.text}' is not 'Key: value'")
        if name is None:
            if kind in single:
                raise SpecError(item.line, f"second '- {key.strip()}:' item in one example")
            single[kind] = Item(item.line, rest.strip())
            continue
        if len(item.code) != 1:
            raise SpecError(
                item.line, f"the value of '- {key.strip()}:' must be one code span, e.g. `value`"
            )
        named[kind].append(Value(name, item.code[0], item.line))
    for required in ("operation", "status"):
        if required not in single:
            raise SpecError(
                section.line, f"example '{section.title}' needs a '- {required.capitalize()}:' item"
            )
    status_item = single["status"]
    if not status_item.text.isdigit():
        raise SpecError(status_item.line, f"status '{status_item.text}' is not an HTTP status code")
    example = Example(
        name=section.title,
        line=section.line,
        operation_id=single["operation"].text,
        operation_line=single["operation"].line,
        summary=section.paragraphs[0],
        status=int(status_item.text),
        status_line=status_item.line,
        path=named["path"],
        query=named["query"],
        headers=named["header"],
        response_headers=named["response header"],
    )
    if "token" in single:
        example.token = None if single["token"].text == ANONYMOUS else single["token"].text
    else:
        example.token = next((v.text for v in example.path if v.name == "user_id"), None)
    if "given" in single:
        given = single["given"]
        if given.text.lower() not in GIVENS:
            raise SpecError(
                given.line,
                f"unknown precondition '{given.text}' (known: {', '.join(sorted(GIVENS))})",
            )
        example.given = given.text.lower()
    for fence in section.fences:
        read_body(example, fence)
    return example


def split_key(key: str, line: int) -> tuple[str, str | None]:
    """`Status` -> ("status", None); `Response header Location` -> ("response header", ...)."""
    lowered = key.lower()
    if lowered in SINGLE_ITEMS:
        return lowered, None
    for kind in sorted(NAMED_ITEMS, key=len, reverse=True):
        if lowered.startswith(kind + " ") and key[len(kind) :].strip():
            return kind, key[len(kind) :].strip()
    raise SpecError(
        line,
        f"unknown example item '{key}' (expected Operation, Token, Given, Status, or Path, "
        f"Query, Header, Response header followed by a name)",
    )


def read_body(example: Example, fence: Fence) -> None:
    side = BODY_FENCES.get(fence.info)
    if side is None:
        raise SpecError(
            fence.line,
            f"code block '{fence.info}' in an example: expected 'json request' or 'json response'",
        )
    try:
        value = json.loads(fence.content)
    except json.JSONDecodeError as error:
        raise SpecError(
            fence.line + error.lineno, f"the {side} body is not JSON: {error.msg}"
        ) from None
    body = Body(value, fence.line, fence.content)
    if side == "request":
        if example.request_body is not None:
            raise SpecError(fence.line, "second request body in one example")
        example.request_body = body
    else:
        if example.response_body is not None:
            raise SpecError(fence.line, "second response body in one example")
        example.response_body = body


def placeholders_in(value: Any) -> list[str]:
    """The placeholders of a JSON value or a string, in the order they appear."""
    if isinstance(value, str):
        return PLACEHOLDER.findall(value)
    if isinstance(value, list):
        return [name for part in value for name in placeholders_in(part)]
    if isinstance(value, dict):
        return [name for part in value.values() for name in placeholders_in(part)]
    return []


def whole_placeholder(value: Any) -> str | None:
    """The placeholder a JSON string stands for entirely (`"{task}"`), else None."""
    if isinstance(value, str):
        match = PLACEHOLDER.fullmatch(value)
        if match is not None:
            return match.group(1)
    return None


def expand(value: Any, bindings: dict[str, Any]) -> Any:
    """The value with each placeholder replaced by its binding (a whole one keeps its type)."""
    whole = whole_placeholder(value)
    if whole is not None:
        return bindings[whole]
    if isinstance(value, str):
        return PLACEHOLDER.sub(lambda match: str(bindings[match.group(1)]), value)
    if isinstance(value, list):
        return [expand(part, bindings) for part in value]
    if isinstance(value, dict):
        return {key: expand(part, bindings) for key, part in value.items()}
    return value


def value_offsets(text: str) -> dict[tuple[str | int, ...], int]:
    """Where each value of a JSON text starts, by its path (keys and indexes)."""
    decoder = json.JSONDecoder()
    offsets: dict[tuple[str | int, ...], int] = {}

    def skip(index: int) -> int:
        while index < len(text) and text[index] in " \t\r\n":
            index += 1
        return index

    def walk(index: int, where: tuple[str | int, ...]) -> int:
        index = skip(index)
        offsets[where] = index
        opening = text[index]
        if opening not in "{[":
            return int(decoder.raw_decode(text, index)[1])
        closing, position = ("}" if opening == "{" else "]"), 0
        index = skip(index + 1)
        while text[index] != closing:
            if opening == "{":
                key, index = decoder.raw_decode(text, skip(index))
                index = walk(skip(index) + 1, (*where, str(key)))  # past the ':'
            else:
                index = walk(index, (*where, position))
                position += 1
            index = skip(index)
            if text[index] == ",":
                index = skip(index + 1)
        return index + 1

    walk(0, ())
    return offsets
