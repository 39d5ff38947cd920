"""A page on the front end's origin calls the API in a real browser (headless Chromium):
with CORS_ORIGINS listing that origin it creates, lists, follows X-Next-Cursor, toggles with
the ETag it read, meets a 412 and deletes; the same page from an origin not listed is
refused by the browser."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from backend.auth.tokens import mint_token
from backend.contract import load_contract, methods_for
from backend.http.cors import Cors, CorsPolicy, request_headers
from backend.main import create_app
from backend.settings import Settings
from tests.conftest import SECRET, new_owner, token_for
from tests.support.app_server import serve_in_thread
from tests.support.browser import new_page
from tests.support.live_server import LiveServer, live_server
from tests.support.static_site import static_site

SITE = Path(__file__).resolve().parent / "site"


@pytest.fixture(scope="module")
def front_end() -> Iterator[str]:
    """The origin of the front end the API lists in CORS_ORIGINS."""
    with static_site(SITE) as origin:
        yield origin


@pytest.fixture(scope="module")
def other_site() -> Iterator[str]:
    """Another origin, serving the same page, that the API does not list."""
    with static_site(SITE) as origin:
        yield origin


@pytest.fixture(scope="module")
def api(front_end: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("cors-api")
    with live_server(
        f"sqlite:///{folder / 'todo.db'}",
        SECRET,
        folder / "server.log",
        extra_env={"CORS_ORIGINS": json.dumps([front_end])},
    ) as running:
        yield running


@pytest.fixture(scope="module")
def api_with_credentials(
    front_end: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("cors-credentials-api")
    with live_server(
        f"sqlite:///{folder / 'todo.db'}",
        SECRET,
        folder / "server.log",
        extra_env={"CORS_ORIGINS": json.dumps([front_end]), "CORS_ALLOW_CREDENTIALS": "true"},
    ) as running:
        yield running


def run_page(
    devtools_port: int, site: str, api_url: str, owner: str, **options: str
) -> dict[str, Any]:
    """Open the front end's page from `site` against `api_url`; return its outcome."""
    fragment = urlencode(
        {"api": api_url, "user": owner, "token": mint_token(owner, SECRET.encode()), **options}
    )
    with new_page(devtools_port) as page:
        page.open(f"{site}/index.html#{fragment}")
        outcome: dict[str, Any] = page.evaluate("window.outcome")
        return outcome


def check_front_end_flow(outcome: dict[str, Any]) -> None:
    """What the page must have seen, step by step; raises AssertionError naming the gap."""
    assert outcome["error"] is None, f"the browser refused a call: {outcome['error']}"
    steps = {step["name"]: step for step in outcome["steps"]}
    for title in ("a", "b", "c"):
        created = steps[f"create {title}"]
        assert created["status"] == 201
        assert created["location"] == f"/api/{created['body']['user_id']}/tasks/" + str(
            created["body"]["id"]
        ), "the Location header is not readable by the page"
    first = steps["list"]
    assert first["status"] == 200
    assert [task["title"] for task in first["body"]] == ["a", "b"]
    assert first["cursor"], "the X-Next-Cursor header is not readable by the page"
    following = steps["next page"]
    assert [task["title"] for task in following["body"]] == ["c"]
    assert following["cursor"] is None, "the last page has no X-Next-Cursor"
    assert steps["create a"]["etag"], "the ETag header is not readable by the page"
    assert steps["toggle"]["status"] == 200, "the toggle with If-Match was not written"
    assert steps["toggle"]["body"]["completed"] is True
    assert steps["toggle"]["etag"] not in (None, steps["create a"]["etag"])
    assert steps["delete with a stale tag"]["status"] == 412
    assert steps["delete"]["status"] == 204
    assert steps["read deleted"]["status"] == 404
    assert steps["read deleted"]["body"]["status"] == 404


def titles_stored(api_url: str, owner: str) -> list[str]:
    response = httpx.get(f"{api_url}/api/{owner}/tasks", headers=token_for(owner), timeout=10)
    assert response.status_code == 200
    return [task["title"] for task in response.json()]


def test_the_front_end_origin_creates_pages_toggles_and_deletes(
    devtools_port: int, front_end: str, api: LiveServer
) -> None:
    owner = new_owner()
    outcome = run_page(devtools_port, front_end, api.base_url, owner)
    check_front_end_flow(outcome)
    assert titles_stored(api.base_url, owner) == ["c", "b"]


def test_an_origin_not_listed_is_refused_by_the_browser(
    devtools_port: int, other_site: str, api: LiveServer
) -> None:
    owner = new_owner()
    outcome = run_page(devtools_port, other_site, api.base_url, owner)
    assert outcome["steps"] == []
    assert outcome["error"] == "TypeError: Failed to fetch"
    with pytest.raises(AssertionError, match="the browser refused a call"):
        check_front_end_flow(outcome)
    # The preflight was refused, so the POST was never sent: nothing was created.
    assert titles_stored(api.base_url, owner) == []


def test_the_flow_fails_when_the_cursor_header_is_not_exposed(
    devtools_port: int, front_end: str, tmp_path: Path
) -> None:
    # The same app, with a CORS policy that exposes Location only.
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'todo.db'}",
        better_auth_secret=SECRET,
        migrate_on_start=True,
        _env_file=None,
    )
    policy = CorsPolicy(
        origins=frozenset({front_end}),
        exposed_headers=("Location",),
        methods_for=methods_for,
        request_headers=request_headers(load_contract()),
    )
    with serve_in_thread(Cors(create_app(settings), policy=policy)) as api_url:
        outcome = run_page(devtools_port, front_end, api_url, new_owner())
    assert outcome["error"] is None
    with pytest.raises(AssertionError, match="X-Next-Cursor header is not readable"):
        check_front_end_flow(outcome)


def test_a_front_end_with_credentials_retries_safely(
    devtools_port: int, front_end: str, api_with_credentials: LiveServer
) -> None:
    """`credentials: "include"`, keyed creates sent twice, the completion set twice."""
    owner = new_owner()
    outcome = run_page(
        devtools_port,
        front_end,
        api_with_credentials.base_url,
        owner,
        credentials="include",
        keyed="1",
    )
    check_front_end_flow(outcome)
    steps = {step["name"]: step for step in outcome["steps"]}
    for title in ("a", "b", "c"):
        assert steps[f"repeat {title}"]["body"] == steps[f"create {title}"]["body"]
        assert steps[f"repeat {title}"]["location"] == steps[f"create {title}"]["location"]
    assert steps["set again"]["body"]["completed"] is True
    assert titles_stored(api_with_credentials.base_url, owner) == ["c", "b"]


def test_credentials_without_cors_allow_credentials_are_refused_by_the_browser(
    devtools_port: int, front_end: str, api: LiveServer
) -> None:
    owner = new_owner()
    outcome = run_page(devtools_port, front_end, api.base_url, owner, credentials="include")
    assert outcome["error"] == "TypeError: Failed to fetch"
    assert titles_stored(api.base_url, owner) == []
