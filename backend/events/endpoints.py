"""The receivers an operator configures (WEBHOOK_ENDPOINTS): where, signed with what, which
events."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Final
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

# The events the contract declares (specs/api/rest-endpoints.md, `## Events`).
EVENT_TYPES: Final = (
    "reminder.due",
    "task.created",
    "task.updated",
    "task.completed",
    "task.deleted",
)
SECRET_PREFIX: Final = "whsec_"  # noqa: S105 (the prefix, not a secret)
# Standard Webhooks: secrets of 24 to 64 random bytes, base64 after the prefix.
MIN_SECRET_BYTES: Final = 24
MAX_SECRET_BYTES: Final = 64


def secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_` secret. Raises ValueError for anything else."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"a secret starts with {SECRET_PREFIX!r} (Standard Webhooks)")
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error as error:
        raise ValueError(f"a secret is {SECRET_PREFIX} followed by base64") from error
    if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        raise ValueError(
            f"a secret holds {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} random bytes "
            f"(this one {len(key)})"
        )
    return key


class WebhookEndpoint(BaseModel):
    """One receiver: its name (the deliveries' key), URL, secrets and event types."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
    url: str
    secrets: Annotated[tuple[SecretStr, ...], Field(min_length=1, max_length=4)]
    events: tuple[str, ...] = EVENT_TYPES

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{url!r} is not an http(s) URL")
        if parts.username is not None or parts.password is not None:
            raise ValueError("the URL holds no credentials: the signature authenticates")
        return url

    @field_validator("secrets")
    @classmethod
    def _standard_secrets(cls, secrets: tuple[SecretStr, ...]) -> tuple[SecretStr, ...]:
        for secret in secrets:
            secret_key(secret.get_secret_value())
        return secrets

    @field_validator("events")
    @classmethod
    def _known_events(cls, events: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(events) - set(EVENT_TYPES))
        if unknown or not events:
            raise ValueError(
                f"unknown event types {unknown}; the events are {', '.join(EVENT_TYPES)}"
            )
        return events

    def keys(self) -> tuple[bytes, ...]:
        """The HMAC keys: the first signs alone, later ones beside it during a rotation."""
        return tuple(secret_key(secret.get_secret_value()) for secret in self.secrets)


def unique_names(endpoints: tuple[WebhookEndpoint, ...]) -> tuple[WebhookEndpoint, ...]:
    """Refuse two endpoints of one name: the name keys each endpoint's deliveries."""
    seen: set[str] = set()
    for endpoint in endpoints:
        if endpoint.name in seen:
            raise ValueError(f"WEBHOOK_ENDPOINTS: two endpoints are named {endpoint.name!r}")
        seen.add(endpoint.name)
    return endpoints
