"""Keyword search (`q`): substrings of title or description, case folded alike on both
databases for every script."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import make_task, token_for

pytestmark = pytest.mark.anyio


async def search(client: httpx.AsyncClient, owner: str, q: str) -> list[str]:
    response = await client.get(
        f"/api/{owner}/tasks", params={"q": q, "sort": "title"}, headers=token_for(owner)
    )
    assert response.status_code == 200, response.text
    return [task["title"] for task in response.json()]


@pytest.mark.parametrize(
    ("stored", "query"),
    [
        ("été à la plage", "ÉTÉ"),
        ("ÉTÉ", "été"),
        ("Straße", "STRASSE"),
        ("STRASSE", "straße"),
        ("ΣΊΣΥΦΟΣ", "σίσυφος"),
        ("Привет мир", "ПРИВЕТ"),
        ("e\u0301te\u0301 decomposed", "été"),
        ("ﬁle", "FILE"),
    ],
)
async def test_case_is_ignored_for_every_script(
    client: httpx.AsyncClient, owner: str, stored: str, query: str
) -> None:
    await make_task(client, owner, title=stored)
    await make_task(client, owner, title="unrelated")
    assert await search(client, owner, query) == [stored]


async def test_every_word_must_occur_in_the_title_or_the_description(
    client: httpx.AsyncClient, owner: str
) -> None:
    await make_task(client, owner, title="buy milk", description="and bread")
    await make_task(client, owner, title="buy bread")
    await make_task(client, owner, title="milk", description=None)
    assert await search(client, owner, "milk bread") == ["buy milk"]
    assert await search(client, owner, "BUY") == ["buy bread", "buy milk"]
    assert await search(client, owner, "ilk") == ["buy milk", "milk"]
    # A word never spans the end of the title and the start of the description.
    assert await search(client, owner, "milkand") == []


async def test_short_words_and_wildcard_characters_are_plain_substrings(
    client: httpx.AsyncClient, owner: str
) -> None:
    titles = ["50% off", "5_0", "a\\b", 'say "hi"', "x", "500"]
    for title in titles:
        await make_task(client, owner, title=title)
    assert await search(client, owner, "%") == ["50% off"]
    assert await search(client, owner, "_") == ["5_0"]
    assert await search(client, owner, "\\") == ["a\\b"]
    assert await search(client, owner, '"hi"') == ['say "hi"']
    assert await search(client, owner, "x") == ["x"]
    assert await search(client, owner, "50") == ["50% off", "500"]
    assert await search(client, owner, "0% o") == ["50% off"]


async def test_white_space_alone_has_no_words_and_matches_every_task(
    client: httpx.AsyncClient, owner: str
) -> None:
    for title in ("a", "b"):
        await make_task(client, owner, title=title)
    assert await search(client, owner, " \t ") == ["a", "b"]


async def test_a_changed_title_or_description_is_what_search_finds(
    client: httpx.AsyncClient, owner: str
) -> None:
    task = await make_task(client, owner, title="old title", description="old text")
    url = f"/api/{owner}/tasks/{task['id']}"
    await client.put(url, json={"title": "Neue Überschrift"}, headers=token_for(owner))
    assert await search(client, owner, "old") == ["Neue Überschrift"]  # the description
    assert await search(client, owner, "überschrift") == ["Neue Überschrift"]
    await client.put(url, json={"description": None}, headers=token_for(owner))
    assert await search(client, owner, "old") == []
    await client.delete(url, headers=token_for(owner))
    assert await search(client, owner, "neue") == []


async def test_search_sees_only_the_owners_tasks(client: httpx.AsyncClient, owner: str) -> None:
    other = f"{owner}-other"
    await make_task(client, other, title="secret plan")
    assert await search(client, owner, "secret") == []
