"""Replay the spec's examples against a server: send each request, compare its response.

Placeholders bind to what the server answers the first time a response holds them, and
stand for that value afterwards. A mismatch is reported at the spec line it concerns:
`specs/api/rest-endpoints.md:LINE: example 'NAME': what differs`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from speclang.examples import PLACEHOLDER, Body, Example, expand, whole_placeholder

SPEC_PATH = "specs/api/rest-endpoints.md"


class ExampleMismatch(AssertionError):
    """The server's answer differs from the example; the message starts with FILE:LINE."""


@dataclass
class Replay:
    """One session: the bindings of the examples replayed so far."""

    client: httpx.Client
    operations: dict[str, tuple[str, str]]  # operationId -> (method, path template)
    token_for: Callable[[str], str]
    set_up: Callable[[Example], None] = lambda example: None
    # `- Given: If-Match required`: a server of the same database with REQUIRE_IF_MATCH=true.
    strict_client: httpx.Client | None = None
    bindings: dict[str, Any] = field(default_factory=dict)

    def run(self, example: Example) -> httpx.Response:
        self.set_up(example)
        client = self.client
        if example.given == "if-match required":
            assert self.strict_client is not None, "no server requiring If-Match to send to"
            client = self.strict_client
        response = client.send(self.request(example, client))
        self.compare(example, response)
        return response

    def request(self, example: Example, client: httpx.Client) -> httpx.Request:
        method, template = self.operations[example.operation_id]
        path = template
        for value in example.path:
            path = path.replace("{" + value.name + "}", self.text(value.text))
        headers = {value.name: self.text(value.text) for value in example.headers}
        if example.token is not None:
            headers["Authorization"] = f"Bearer {self.token_for(example.token)}"
        query = httpx.QueryParams([(value.name, self.text(value.text)) for value in example.query])
        body = example.request_body
        json_body = None if body is None else expand(body.value, self.bindings)
        return client.build_request(
            method.upper(), path, params=query, headers=headers, json=json_body
        )

    def text(self, template: str) -> str:
        return PLACEHOLDER.sub(lambda match: str(self.bindings[match.group(1)]), template)

    def compare(self, example: Example, response: httpx.Response) -> None:
        if response.status_code != example.status:
            self.fail(
                example,
                example.status_line,
                f"status {response.status_code}, expected {example.status}: {response.text}",
            )
        body = example.response_body
        if body is not None:
            self.match_body(example, body, response.json(), ())
        for value in example.response_headers:
            actual = response.headers.get(value.name)
            if actual is None:
                self.fail(example, value.line, f"no {value.name} header in the response")
            elif not self.match_text(value.text, actual):
                self.fail(example, value.line, f"{value.name} is {actual!r}")

    def match_body(
        self, example: Example, body: Body, actual: Any, where: tuple[str | int, ...]
    ) -> None:
        expected = body.value
        for part in where:
            expected = expected[part]
        name = whole_placeholder(expected)
        line = body.line_of(where)
        at = "/".join(str(part) for part in where) or "(whole body)"
        if name is not None:
            if name not in self.bindings:
                self.bindings[name] = actual
            elif not same(self.bindings[name], actual):
                self.fail(
                    example,
                    line,
                    f"at {at}: {actual!r}, expected {{{name}}} = {self.bindings[name]!r}",
                )
            return
        if isinstance(expected, dict) and isinstance(actual, dict):
            if set(expected) != set(actual):
                self.fail(
                    example, line, f"at {at}: fields {sorted(actual)}, expected {sorted(expected)}"
                )
            for key in expected:
                self.match_body(example, body, actual[key], (*where, key))
        elif isinstance(expected, list) and isinstance(actual, list):
            if len(expected) != len(actual):
                self.fail(example, line, f"at {at}: {len(actual)} items, expected {len(expected)}")
            for index in range(len(expected)):
                self.match_body(example, body, actual[index], (*where, index))
        elif isinstance(expected, str) and PLACEHOLDER.search(expected):
            if not isinstance(actual, str) or not self.match_text(expected, actual):
                self.fail(example, line, f"at {at}: {actual!r}, expected {expected!r}")
        elif not same(expected, actual):
            self.fail(example, line, f"at {at}: {actual!r}, expected {expected!r}")

    def match_text(self, template: str, actual: str) -> bool:
        """Whether `actual` reads as the template; unbound placeholders bind on a match."""
        pattern, unbound = "", []
        for index, part in enumerate(PLACEHOLDER.split(template)):
            if index % 2 == 0:
                pattern += re.escape(part)
            elif part in self.bindings:
                pattern += re.escape(str(self.bindings[part]))
            elif part in unbound:
                pattern += f"(?P={part})"
            else:
                unbound.append(part)
                pattern += f"(?P<{part}>.+?)"
        match = re.fullmatch(pattern, actual)
        if match is None:
            return False
        self.bindings.update({name: match.group(name) for name in unbound})
        return True

    @staticmethod
    def fail(example: Example, line: int, message: str) -> None:
        raise ExampleMismatch(f"{SPEC_PATH}:{line}: example '{example.name}': {message}")


def same(expected: Any, actual: Any) -> bool:
    """JSON equality: `true` is not `1`, and `1` is not `"1"`."""
    return type(expected) is type(actual) and expected == actual
