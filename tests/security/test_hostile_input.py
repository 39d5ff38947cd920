"""Group 4: hostile input is a 4xx problem, never a 5xx, and nothing is stored half-way.

Runs on both databases: PostgreSQL refuses some text SQLite takes (U+0000), so a value
that is fine on one can be a 500 on the other unless the contract rejects it first.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.conftest import make_task, new_owner, token_for

pytestmark = pytest.mark.anyio

MAX_BODY_BYTES = 64 * 1024
INT64_MAX = 2**63 - 1
JSON = {"Content-Type": "application/json"}


def assert_problem(response: httpx.Response, status: int | None = None) -> dict[str, Any]:
    """A 4xx problem-details answer (exactly `status` when given)."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:500])
    if status is not None:
        assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["status"] == response.status_code
    assert problem["detail"]
    return problem


async def tasks_of(client: httpx.AsyncClient, owner: str) -> list[dict[str, Any]]:
    response = await client.get(
        f"/api/{owner}/tasks", params={"limit": 100}, headers=token_for(owner)
    )
    assert response.status_code == 200, response.text
    tasks: list[dict[str, Any]] = response.json()
    return tasks


@pytest.fixture
async def task(client: httpx.AsyncClient, owner: str) -> dict[str, Any]:
    return await make_task(client, owner, title="untouched", description="as it was")


async def assert_untouched(client: httpx.AsyncClient, owner: str, task: dict[str, Any]) -> None:
    assert await tasks_of(client, owner) == [task]


# --- text the databases disagree about ----------------------------------------------------

HOSTILE_TEXT: list[Any] = [
    pytest.param({"title": "a\u0000b"}, id="nul-in-title"),
    pytest.param({"title": "\u0000"}, id="only-nul-title"),
    pytest.param({"title": "ok", "description": "tail\u0000"}, id="nul-in-description"),
    pytest.param({"title": "x" * 201}, id="title-too-long"),
    pytest.param({"title": ""}, id="title-empty"),
    pytest.param({"title": "ok", "description": "d" * 1001}, id="description-too-long"),
    pytest.param({"title": 12}, id="title-number"),
    pytest.param({"title": ["a"]}, id="title-list"),
    pytest.param({"title": {"$ne": ""}}, id="title-operator-object"),
    pytest.param({"title": "ok", "due_date": "2030-02-30"}, id="due-date-impossible"),
    pytest.param({"title": "ok", "due_date": "99999-01-01"}, id="due-date-five-digit-year"),
    pytest.param({"title": "ok", "due_date": "0000-01-01"}, id="due-date-year-zero"),
    pytest.param({"title": "ok", "due_date": "2030-01-01'); DROP TABLE tasks;--"}, id="due-sql"),
]


@pytest.mark.parametrize("body", HOSTILE_TEXT)
async def test_create_refuses_hostile_fields(
    client: httpx.AsyncClient, owner: str, body: dict[str, Any]
) -> None:
    response = await client.post(f"/api/{owner}/tasks", json=body, headers=token_for(owner))
    assert_problem(response, 422)
    assert await tasks_of(client, owner) == []


@pytest.mark.parametrize("body", HOSTILE_TEXT)
async def test_update_refuses_hostile_fields(
    client: httpx.AsyncClient, owner: str, task: dict[str, Any], body: dict[str, Any]
) -> None:
    response = await client.put(
        f"/api/{owner}/tasks/{task['id']}", json=body, headers=token_for(owner)
    )
    assert_problem(response, 422)
    await assert_untouched(client, owner, task)


RAW_BODIES: list[Any] = [
    pytest.param(b'{"title": "\\ud800"}', id="lone-high-surrogate"),
    pytest.param(b'{"title": "\\udfff"}', id="lone-low-surrogate"),
    pytest.param(b'{"title": "ok", "description": "\\udc00x"}', id="surrogate-in-description"),
    pytest.param(b'{"title": "\xff\xfe"}', id="invalid-utf-8"),
    pytest.param(b'{"title": "\xc0\xaf"}', id="overlong-utf-8"),
    pytest.param(b"", id="empty"),
    pytest.param(b"not json", id="not-json"),
    pytest.param(b'{"title": "unterminated', id="truncated-json"),
    pytest.param(b"null", id="json-null"),
    pytest.param(b"[]", id="json-array"),
    pytest.param(b'"a string"', id="json-string"),
    pytest.param(b"123", id="json-number"),
    pytest.param(b'{"title": NaN}', id="nan"),
    pytest.param(b'{"title": Infinity}', id="infinity"),
    pytest.param(b'{"title": "ok", "due_date": 1e999}', id="overflowing-number"),
    pytest.param(b'{"title": ' + b"9" * 5000 + b"}", id="5000-digit-integer"),
    pytest.param(b"[" * 10_000 + b"]" * 10_000, id="10000-nested-arrays"),
    pytest.param(b'{"a":' * 10_000 + b"1" + b"}" * 10_000, id="10000-nested-objects"),
    pytest.param(b'{"title": ' + b"[" * 10_000 + b"]" * 10_000 + b"}", id="nested-in-title"),
]


@pytest.mark.parametrize("raw", RAW_BODIES)
async def test_create_refuses_hostile_raw_bodies(
    client: httpx.AsyncClient, owner: str, raw: bytes
) -> None:
    response = await client.post(
        f"/api/{owner}/tasks", content=raw, headers={**token_for(owner), **JSON}
    )
    assert_problem(response)
    assert await tasks_of(client, owner) == []


@pytest.mark.parametrize("raw", RAW_BODIES)
async def test_update_refuses_hostile_raw_bodies(
    client: httpx.AsyncClient, owner: str, task: dict[str, Any], raw: bytes
) -> None:
    response = await client.put(
        f"/api/{owner}/tasks/{task['id']}", content=raw, headers={**token_for(owner), **JSON}
    )
    assert_problem(response)
    await assert_untouched(client, owner, task)


async def test_unusual_but_valid_text_round_trips(client: httpx.AsyncClient, owner: str) -> None:
    """The contract refuses U+0000 only: other control, zero-width, bidi and astral text is
    data, stored and returned exactly."""
    title = "\u202etxt.exe \u200b\U0001f600 \u0301e \x7f\x01 \ufeff"
    description = "'; DROP TABLE tasks; -- \\ % _ \" \U00010348"
    task = await make_task(client, owner, title=title, description=description)
    assert (task["title"], task["description"]) == (title, description)
    stored = await client.get(f"/api/{owner}/tasks/{task['id']}", headers=token_for(owner))
    assert stored.json() == task


# --- ids ----------------------------------------------------------------------------------

BAD_TASK_IDS = ["0", "-1", str(INT64_MAX + 1), str(2**64), "9" * 40, "abc", "1.5", "1e3", "0x10"]
MISSING_TASK_IDS = [str(2**31), str(2**31 + 1), str(INT64_MAX)]


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("task_id", BAD_TASK_IDS)
async def test_task_ids_outside_the_contract_are_422(
    client: httpx.AsyncClient, owner: str, task: dict[str, Any], method: str, task_id: str
) -> None:
    suffix = "/complete" if method == "PATCH" else ""
    response = await client.request(
        method,
        f"/api/{owner}/tasks/{task_id}{suffix}",
        json={"title": "changed"} if method == "PUT" else None,
        headers=token_for(owner),
    )
    problem = assert_problem(response, 422)
    assert any(issue["location"] == "path.task_id" for issue in problem["errors"])
    await assert_untouched(client, owner, task)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("task_id", MISSING_TASK_IDS)
async def test_large_valid_task_ids_are_404(
    client: httpx.AsyncClient, owner: str, task: dict[str, Any], method: str, task_id: str
) -> None:
    """2^31 and up fit the contract's int64 and both databases' keys: plain 404s."""
    suffix = "/complete" if method == "PATCH" else ""
    response = await client.request(
        method,
        f"/api/{owner}/tasks/{task_id}{suffix}",
        json={"title": "changed"} if method == "PUT" else None,
        headers=token_for(owner),
    )
    assert_problem(response, 404)
    await assert_untouched(client, owner, task)


HOSTILE_USER_IDS: list[Any] = [
    pytest.param("u" * 10_000, id="10000-chars"),
    pytest.param("u" * 129, id="129-chars"),
    pytest.param("a'%20OR%20'1'='1", id="sql"),
    pytest.param("a%00b", id="nul"),
    pytest.param("..%2F..%2Fetc", id="encoded-slash"),
    pytest.param("%E2%80%AEabc", id="bidi-override"),
    pytest.param("a%20b", id="space"),
]


@pytest.mark.parametrize("user_id", HOSTILE_USER_IDS)
async def test_hostile_path_user_ids_are_4xx(client: httpx.AsyncClient, user_id: str) -> None:
    """Whoever the token names, a user id outside the contract's pattern never reaches SQL."""
    response = await client.get(f"/api/{user_id}/tasks", headers=token_for(new_owner()))
    assert_problem(response)
    created = await client.post(
        f"/api/{user_id}/tasks", json={"title": "t"}, headers=token_for(new_owner())
    )
    assert_problem(created)


@pytest.mark.parametrize("user_id", ["a'--", "a b", "a/b", "u" * 129, "ä"])
async def test_a_token_naming_a_hostile_user_id_gets_no_data(
    client: httpx.AsyncClient, user_id: str
) -> None:
    """Even a genuine token whose `sub` breaks the path pattern cannot create anything."""
    response = await client.post(
        f"/api/{user_id}/tasks", json={"title": "t"}, headers=token_for(user_id)
    )
    assert_problem(response)


# --- query parameters ---------------------------------------------------------------------

BAD_QUERIES: list[Any] = [
    pytest.param({"status": "archived"}, id="unknown-status"),
    pytest.param({"status": "ALL"}, id="status-casing"),
    pytest.param({"status": "all\x00"}, id="status-nul"),
    pytest.param({"sort": "title; DROP TABLE tasks"}, id="sort-sql"),
    pytest.param({"sort": "-created"}, id="sort-descending-syntax"),
    pytest.param({"limit": "0"}, id="limit-0"),
    pytest.param({"limit": "-1"}, id="limit-negative"),
    pytest.param({"limit": "101"}, id="limit-101"),
    pytest.param({"limit": str(2**31)}, id="limit-2^31"),
    pytest.param({"limit": "9" * 100}, id="limit-huge"),
    pytest.param({"limit": "ten"}, id="limit-text"),
    pytest.param({"cursor": "garbage"}, id="cursor-garbage"),
    pytest.param({"cursor": ""}, id="cursor-empty"),
    pytest.param({"cursor": "a\x00b"}, id="cursor-nul"),
    pytest.param({"cursor": "x" * 513}, id="cursor-too-long"),
    pytest.param({"cursor": "eyJpZCI6MX0"}, id="cursor-forged-json"),
    pytest.param({"cursor": "' OR 1=1 --"}, id="cursor-sql"),
    pytest.param({"cursor": "\u00e9\U0001f600"}, id="cursor-non-ascii"),
]


@pytest.mark.parametrize("params", BAD_QUERIES)
async def test_bad_list_queries_are_422(
    client: httpx.AsyncClient, owner: str, task: dict[str, Any], params: dict[str, str]
) -> None:
    response = await client.get(f"/api/{owner}/tasks", params=params, headers=token_for(owner))
    assert_problem(response, 422)


async def test_another_filters_cursor_is_422(client: httpx.AsyncClient, owner: str) -> None:
    for number in range(3):
        await make_task(client, owner, title=f"t{number}")
    first = await client.get(
        f"/api/{owner}/tasks", params={"limit": 1, "sort": "title"}, headers=token_for(owner)
    )
    cursor = first.headers["x-next-cursor"]
    for params in ({"sort": "created"}, {"sort": "title", "status": "completed"}):
        response = await client.get(
            f"/api/{owner}/tasks", params={**params, "cursor": cursor}, headers=token_for(owner)
        )
        assert_problem(response, 422)


# --- size and media type ------------------------------------------------------------------


def oversized_body() -> bytes:
    return b'{"title": "big", "description": "' + b"d" * MAX_BODY_BYTES + b'"}'


async def chunks(body: bytes, size: int = 4096) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
async def test_an_oversized_body_is_413(
    client: httpx.AsyncClient, owner: str, task: dict[str, Any], streamed: bool
) -> None:
    body = oversized_body()
    for method, url in (
        ("POST", f"/api/{owner}/tasks"),
        ("PUT", f"/api/{owner}/tasks/{task['id']}"),
    ):
        response = await client.request(
            method,
            url,
            content=chunks(body) if streamed else body,
            headers={**token_for(owner), **JSON},
        )
        assert_problem(response, 413)
    await assert_untouched(client, owner, task)


async def test_an_oversized_body_is_413_even_without_a_token(
    client: httpx.AsyncClient, owner: str
) -> None:
    """Size is judged before anything else: an anonymous flood costs no token check."""
    response = await client.post(f"/api/{owner}/tasks", content=oversized_body(), headers=JSON)
    assert_problem(response, 413)


@pytest.mark.parametrize("declared", ["-1", "abc", str(10**30)])
async def test_a_lying_content_length_is_refused(
    client: httpx.AsyncClient, owner: str, declared: str
) -> None:
    response = await client.post(
        f"/api/{owner}/tasks",
        content=b'{"title": "t"}',
        headers={**token_for(owner), **JSON, "Content-Length": declared},
    )
    assert_problem(response)
    assert await tasks_of(client, owner) == []


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "application/jsonx",
        "text/json",
    ],
)
async def test_a_non_json_media_type_is_415(
    client: httpx.AsyncClient, owner: str, task: dict[str, Any], content_type: str
) -> None:
    for method, url in (
        ("POST", f"/api/{owner}/tasks"),
        ("PUT", f"/api/{owner}/tasks/{task['id']}"),
    ):
        response = await client.request(
            method,
            url,
            content=b'{"title": "t"}',
            headers={**token_for(owner), "Content-Type": content_type},
        )
        assert_problem(response, 415)
    await assert_untouched(client, owner, task)


async def test_a_body_without_a_media_type_is_415(client: httpx.AsyncClient, owner: str) -> None:
    response = await client.post(
        f"/api/{owner}/tasks", content=b'{"title": "t"}', headers=token_for(owner)
    )
    assert_problem(response, 415)
    assert await tasks_of(client, owner) == []
