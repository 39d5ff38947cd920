"""WEBHOOK_ENDPOINTS: a bad entry stops the server at start with a message naming it, and
never with the secret in it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from backend.settings import Settings
from tests.conftest import SECRET
from tests.events.conftest import new_secret


@pytest.fixture
def settings_with(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Settings]:
    """Settings read as the server reads them, WEBHOOK_ENDPOINTS from its environment."""

    def read(*endpoints: dict[str, Any]) -> Settings:
        monkeypatch.setenv("WEBHOOK_ENDPOINTS", json.dumps(list(endpoints)))
        return Settings(better_auth_secret=SECRET, _env_file=None)

    return read


def test_a_valid_endpoint_takes_every_event_by_default(
    settings_with: Callable[..., Settings],
) -> None:
    secret = new_secret()
    settings = settings_with({"name": "n", "url": "https://x.test/h", "secrets": [secret]})
    [endpoint] = settings.webhook_endpoints
    assert endpoint.events == (
        "reminder.due",
        "task.created",
        "task.updated",
        "task.completed",
        "task.deleted",
    )
    assert secret not in repr(endpoint)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"url": "ftp://x.test/h"}, "is not an http(s) URL"),
        ({"url": "https://user:pw@x.test/h"}, "holds no credentials"),
        ({"secrets": ["whsec_not base64!"]}, "followed by base64"),
        ({"secrets": ["hunter2-plain-secret"]}, "starts with 'whsec_'"),
        ({"secrets": ["whsec_" + "QUJD"]}, "24 to 64 random bytes"),
        ({"events": ["task.archived"]}, "unknown event types ['task.archived']"),
        ({"name": "Has Spaces"}, "name"),
    ],
)
def test_a_bad_endpoint_is_refused_by_name(
    settings_with: Callable[..., Settings], change: dict[str, Any], named: str
) -> None:
    entry = {"name": "n", "url": "https://x.test/h", "secrets": [new_secret()], **change}
    with pytest.raises(ValidationError) as refused:
        settings_with(entry)
    message = str(refused.value)
    assert "webhook_endpoints" in message and named in message
    for secret in entry["secrets"]:
        assert secret not in message


def test_two_endpoints_of_one_name_are_refused(settings_with: Callable[..., Settings]) -> None:
    entry = {"name": "same", "url": "https://x.test/h", "secrets": [new_secret()]}
    with pytest.raises(ValidationError, match="two endpoints are named 'same'"):
        settings_with(entry, entry)
