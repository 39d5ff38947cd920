"""Authentication and ownership through HTTP on both databases, and refusal of bad settings."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from backend.auth.tokens import mint_token
from backend.settings import Settings
from tests.conftest import SECRET, make_task, new_owner, token_for

pytestmark = pytest.mark.anyio

OTHER_SECRET = "a-different-secret-that-is-long-enough-0123"
VERIFICATION_VARIABLES = ("BETTER_AUTH_SECRET", "BETTER_AUTH_JWKS_URL")


def assert_unauthorized(response: httpx.Response, *, token_presented: bool) -> dict[str, Any]:
    """A 401 problem with an RFC 6750 challenge; `error=` only when a token was sent."""
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer")
    assert ('error="invalid_token"' in challenge) is token_presented
    problem: dict[str, Any] = response.json()
    assert problem["status"] == 401
    assert problem["title"] == "Unauthorized"
    assert problem["detail"]
    assert problem["instance"] == response.request.url.path
    return problem


async def stored_tasks(client: httpx.AsyncClient, owner: str) -> list[dict[str, Any]]:
    response = await client.get(f"/api/{owner}/tasks", headers=token_for(owner))
    assert response.status_code == 200
    tasks: list[dict[str, Any]] = response.json()
    return tasks


# --- 401: no usable bearer token in the Authorization header ---------------------------------


async def test_missing_header_is_401_with_a_bearer_challenge(
    client: httpx.AsyncClient, owner: str
) -> None:
    response = await client.post(f"/api/{owner}/tasks", json={"title": "nobody's"})
    problem = assert_unauthorized(response, token_presented=False)
    assert response.headers["www-authenticate"] == 'Bearer realm="todo"'
    assert "Authorization" in problem["detail"]
    assert await stored_tasks(client, owner) == []


@pytest.mark.parametrize(
    "authorization",
    [
        "Basic " + base64.b64encode(b"user:password").decode(),
        "Bearer",
        "Bearer ",
        "Token {token}",
        "{token}",
    ],
    ids=["basic", "bearer-without-token", "bearer-blank", "other-scheme", "no-scheme"],
)
async def test_authorization_without_a_bearer_token_is_401(
    client: httpx.AsyncClient, owner: str, authorization: str
) -> None:
    token = mint_token(owner, SECRET.encode())
    response = await client.post(
        f"/api/{owner}/tasks",
        json={"title": "x"},
        headers={"Authorization": authorization.format(token=token)},
    )
    assert_unauthorized(response, token_presented=False)
    assert await stored_tasks(client, owner) == []


async def test_bearer_scheme_is_case_insensitive(client: httpx.AsyncClient, owner: str) -> None:
    token = mint_token(owner, SECRET.encode())
    response = await client.get(f"/api/{owner}/tasks", headers={"Authorization": f"bearer {token}"})
    assert response.status_code == 200
    assert response.json() == []


@pytest.mark.parametrize(
    "where",
    [
        "query:access_token",
        "query:token",
        "cookie:Authorization",
        "cookie:access_token",
        "cookie:better-auth.session_token",
    ],
)
async def test_token_outside_the_authorization_header_is_401(
    client: httpx.AsyncClient, owner: str, where: str
) -> None:
    token = mint_token(owner, SECRET.encode())
    place, name = where.split(":")
    value = f"Bearer {token}" if name == "Authorization" else token
    request = client.build_request(
        "POST",
        f"/api/{owner}/tasks",
        json={"title": "smuggled"},
        params={name: value} if place == "query" else None,
        headers={"Cookie": f"{name}={value}"} if place == "cookie" else None,
    )
    response = await client.send(request)
    assert_unauthorized(response, token_presented=False)
    assert await stored_tasks(client, owner) == []


# --- 401: a token was presented but is not acceptable ----------------------------------------


def with_signature_of_another_token(owner: str) -> str:
    """`owner`'s claims under a genuine signature that was made for someone else's."""
    claims = mint_token(owner, SECRET.encode()).rsplit(".", 1)[0]
    signature = mint_token(new_owner(), SECRET.encode()).rsplit(".", 1)[1]
    return f"{claims}.{signature}"


@pytest.mark.parametrize(
    ("token_of", "description"),
    [
        (lambda owner: mint_token(owner, OTHER_SECRET.encode()), "signature verification failed"),
        (lambda owner: mint_token(owner, SECRET.encode(), expires_in_seconds=-60), "expired"),
        (lambda owner: "garbage", "token is not a JWT"),
        (lambda owner: "a.b.c", "token is not a JWT"),
        (lambda owner: with_signature_of_another_token(owner), "signature verification failed"),
    ],
    ids=["wrong-secret", "expired", "garbage", "three-junk-segments", "borrowed-signature"],
)
async def test_unacceptable_token_is_401_invalid_token(
    client: httpx.AsyncClient, owner: str, token_of: Any, description: str
) -> None:
    await make_task(client, owner, title="kept")
    headers = {"Authorization": f"Bearer {token_of(owner)}"}
    listed = await client.get(f"/api/{owner}/tasks", headers=headers)
    problem = assert_unauthorized(listed, token_presented=True)
    assert "kept" not in listed.text
    assert description in listed.headers["www-authenticate"]
    assert description in problem["detail"]
    created = await client.post(f"/api/{owner}/tasks", json={"title": "forged"}, headers=headers)
    assert_unauthorized(created, token_presented=True)
    assert [task["title"] for task in await stored_tasks(client, owner)] == ["kept"]


async def test_expiry_is_checked_with_only_a_small_leeway(
    client: httpx.AsyncClient, owner: str
) -> None:
    just_expired = token_for(owner, expires_in_seconds=-1)  # within the 5 s default leeway
    assert (await client.get(f"/api/{owner}/tasks", headers=just_expired)).status_code == 200
    long_expired = token_for(owner, expires_in_seconds=-60)
    response = await client.get(f"/api/{owner}/tasks", headers=long_expired)
    assert 'error_description="token has expired"' in response.headers["www-authenticate"]


async def test_authentication_is_checked_before_the_body(
    client: httpx.AsyncClient, owner: str
) -> None:
    """An anonymous caller learns nothing about validation rules: 401, not 422."""
    response = await client.post(f"/api/{owner}/tasks", json={"title": ""})
    assert_unauthorized(response, token_presented=False)


# --- 403 and 404: ownership -------------------------------------------------------------------

OPERATIONS = [
    ("GET", "/api/{owner}/tasks", None),
    ("POST", "/api/{owner}/tasks", {"title": "planted"}),
    ("GET", "/api/{owner}/tasks/{task_id}", None),
    ("PUT", "/api/{owner}/tasks/{task_id}", {"title": "taken over", "completed": True}),
    ("DELETE", "/api/{owner}/tasks/{task_id}", None),
    ("PATCH", "/api/{owner}/tasks/{task_id}/complete", None),
]


@pytest.mark.parametrize(
    ("method", "path", "body"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS]
)
async def test_another_users_token_on_my_path_is_403_and_changes_nothing(
    client: httpx.AsyncClient, owner: str, method: str, path: str, body: dict[str, Any] | None
) -> None:
    task = await make_task(client, owner, title="mine", description="private")
    intruder = new_owner()
    response = await client.request(
        method,
        path.format(owner=owner, task_id=task["id"]),
        json=body,
        headers=token_for(intruder),
    )
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 403
    assert "private" not in response.text
    assert await stored_tasks(client, owner) == [task]
    assert await stored_tasks(client, intruder) == []


async def test_my_token_with_another_users_task_id_is_404_for_toggle(
    client: httpx.AsyncClient, owner: str
) -> None:
    """GET, PUT and DELETE of another user's task are covered in test_tasks.py; PATCH here."""
    task = await make_task(client, owner)
    intruder = new_owner()
    response = await client.patch(
        f"/api/{intruder}/tasks/{task['id']}/complete", headers=token_for(intruder)
    )
    assert response.status_code == 404
    assert response.json()["detail"] == f"the user has no task with id {task['id']}"
    assert await stored_tasks(client, owner) == [task]


async def test_the_path_user_must_equal_the_subject_exactly(
    client: httpx.AsyncClient, owner: str
) -> None:
    upper = owner.upper()  # a different user id that differs only in case
    response = await client.get(f"/api/{upper}/tasks", headers=token_for(owner))
    assert response.status_code == 403


# --- settings: the server refuses to start without a way to verify tokens --------------------


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VERIFICATION_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.mark.usefixtures("clean_environment")
def test_settings_without_a_verification_key_name_both_variables() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None)
    message = str(caught.value)
    assert "BETTER_AUTH_SECRET" in message
    assert "BETTER_AUTH_JWKS_URL" in message


@pytest.mark.usefixtures("clean_environment")
def test_settings_refuse_a_short_secret() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(better_auth_secret="0123456789", _env_file=None)
    assert "BETTER_AUTH_SECRET is too short" in str(caught.value)


@pytest.mark.usefixtures("clean_environment")
def test_a_refused_secret_is_not_echoed_in_the_error() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(better_auth_secret="hunter2-real-pw", _env_file=None)
    assert "hunter2-real-pw" not in str(caught.value)


@pytest.mark.usefixtures("clean_environment")
def test_settings_accept_a_32_byte_secret() -> None:
    settings = Settings(better_auth_secret="s" * 32, _env_file=None)
    assert settings.better_auth_secret is not None
    assert "s" * 32 not in repr(settings)


@pytest.mark.usefixtures("clean_environment")
def test_settings_refuse_both_verification_modes() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(
            better_auth_secret=SECRET,
            better_auth_jwks_url="http://127.0.0.1:3000/api/auth/jwks",
            _env_file=None,
        )
    assert "not both" in str(caught.value)


def run_without_configuration(arguments: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the interpreter with an environment that has no settings at all, away from .env."""
    repository = Path(__file__).resolve().parents[2]
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(repository)}
    return subprocess.run(
        [sys.executable, *arguments],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_create_app_refuses_to_start_without_configuration(tmp_path: Path) -> None:
    assert not (tmp_path / ".env").exists()
    result = run_without_configuration(
        ["-c", "from backend.main import create_app; create_app()"], tmp_path
    )
    assert result.returncode != 0
    assert "no token verification key" in result.stderr
    assert "BETTER_AUTH_SECRET" in result.stderr
    assert "BETTER_AUTH_JWKS_URL" in result.stderr


def test_uvicorn_refuses_to_start_without_configuration(tmp_path: Path) -> None:
    # Port 0: should the check ever vanish, the server binds a free port and the timeout
    # (TimeoutExpired) fails the test instead of colliding with a real server.
    result = run_without_configuration(
        ["-m", "uvicorn", "backend.main:app", "--host", "127.0.0.1", "--port", "0"], tmp_path
    )
    assert result.returncode != 0
    assert "BETTER_AUTH_SECRET" in result.stderr
    assert "BETTER_AUTH_JWKS_URL" in result.stderr


# --- the order of the checks: token, then the path, then the owner ---------------------------


@pytest.mark.parametrize("path", ["/api/%3A/tasks", "/api/%3A/tasks/1", "/api/%3A/tasks/x"])
async def test_without_a_token_an_invalid_path_is_still_401(
    client: httpx.AsyncClient, path: str
) -> None:
    """Nothing about the request is judged before the caller is known."""
    response = await client.get(path)
    assert_unauthorized(response, token_presented=False)


async def test_with_a_token_an_invalid_path_is_422_not_403(
    client: httpx.AsyncClient, owner: str
) -> None:
    """The path's user id is checked against the contract before it is compared with `sub`."""
    response = await client.get("/api/%3A/tasks", headers=token_for(owner))
    assert response.status_code == 422, response.text
    assert [issue["location"] for issue in response.json()["errors"]] == ["path.user_id"]
    other = await client.get(f"/api/{new_owner()}/tasks", headers=token_for(owner))
    assert other.status_code == 403, other.text
