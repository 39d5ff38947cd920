"""Every error is an RFC 9457 problem body with the status the spec declares."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.conftest import make_task, token_for

pytestmark = pytest.mark.anyio


def assert_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert "Traceback" not in response.text
    return body


async def test_unknown_route_is_a_problem(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/api/nothing/here/at/all"), 404)
    assert body["instance"] == "/api/nothing/here/at/all"


async def test_unsupported_method_is_405_with_allow(client: httpx.AsyncClient, owner: str) -> None:
    response = await client.post(f"/api/{owner}/tasks/1", headers=token_for(owner))
    assert_problem(response, 405)
    allowed = set(response.headers["allow"].replace(" ", "").split(","))
    assert allowed == {"GET", "HEAD", "PUT", "DELETE"}


async def test_oversized_body_is_413_before_parsing(client: httpx.AsyncClient, owner: str) -> None:
    body = b'{"title": "' + b"x" * 70_000 + b'"}'
    response = await client.post(
        f"/api/{owner}/tasks",
        content=body,
        headers={**token_for(owner), "content-type": "application/json"},
    )
    assert_problem(response, 413)


async def test_streamed_oversized_body_is_413(client: httpx.AsyncClient, owner: str) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"title": "'
        for _ in range(20):
            yield b"x" * 4096
        yield b'"}'

    response = await client.post(
        f"/api/{owner}/tasks",
        content=chunks(),
        headers={**token_for(owner), "content-type": "application/json"},
    )
    assert_problem(response, 413)
    listed = await client.get(f"/api/{owner}/tasks", headers=token_for(owner))
    assert listed.json() == []


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
async def test_non_json_body_is_415(
    client: httpx.AsyncClient, owner: str, content_type: str
) -> None:
    response = await client.post(
        f"/api/{owner}/tasks",
        content=b"title=x",
        headers={**token_for(owner), "content-type": content_type},
    )
    body = assert_problem(response, 415)
    assert content_type in str(body["detail"])


@pytest.mark.parametrize("content", [b"{not json", b"", b"[]", b'"title"', b"null"])
async def test_malformed_or_empty_json_is_422(
    client: httpx.AsyncClient, owner: str, content: bytes
) -> None:
    response = await client.post(
        f"/api/{owner}/tasks",
        content=content,
        headers={**token_for(owner), "content-type": "application/json"},
    )
    body = assert_problem(response, 422)
    assert body["errors"]


async def test_json_with_charset_is_accepted(client: httpx.AsyncClient, owner: str) -> None:
    response = await client.post(
        f"/api/{owner}/tasks",
        content=b'{"title": "x"}',
        headers={**token_for(owner), "content-type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 201


async def test_validation_problem_lists_each_invalid_part(
    client: httpx.AsyncClient, owner: str
) -> None:
    task = await make_task(client, owner)
    response = await client.put(
        f"/api/{owner}/tasks/{task['id']}",
        json={"title": "", "due_date": "soon"},
        headers=token_for(owner),
    )
    body = assert_problem(response, 422)
    assert {issue["location"] for issue in body["errors"]} == {"body.title", "body.due_date"}  # type: ignore[attr-defined]
    assert "body.title" in str(body["detail"])


async def test_unreachable_database_is_503_not_500(
    unreachable_client: httpx.AsyncClient, owner: str
) -> None:
    for request in (
        unreachable_client.get(f"/api/{owner}/tasks", headers=token_for(owner)),
        unreachable_client.post(
            f"/api/{owner}/tasks", json={"title": "x"}, headers=token_for(owner)
        ),
    ):
        response = await request
        assert_problem(response, 503)
        assert response.headers["retry-after"] == "1"
