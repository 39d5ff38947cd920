"""The one settings object of the server, read from the environment and `.env`."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Final, Literal, Self
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from backend.contract import event_types

MIN_SECRET_BYTES = 32
DEFAULT_DATABASE_URL = "sqlite:///./todo.db"


SECRET_PREFIX: Final = "whsec_"  # noqa: S105 (the prefix, not a secret)
# Standard Webhooks: secrets of 24 to 64 random bytes, base64 after the prefix.
MIN_WEBHOOK_SECRET_BYTES: Final = 24
MAX_WEBHOOK_SECRET_BYTES: Final = 64


def secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_` secret. Raises ValueError for anything else."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"a secret starts with {SECRET_PREFIX!r} (Standard Webhooks)")
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error as error:
        raise ValueError(f"a secret is {SECRET_PREFIX} followed by base64") from error
    if not MIN_WEBHOOK_SECRET_BYTES <= len(key) <= MAX_WEBHOOK_SECRET_BYTES:
        raise ValueError(
            f"a secret holds {MIN_WEBHOOK_SECRET_BYTES} to {MAX_WEBHOOK_SECRET_BYTES} random bytes "
            f"(this one {len(key)})"
        )
    return key


class WebhookEndpoint(BaseModel):
    """One receiver: its name (the deliveries' key), URL, secrets and event types."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
    url: str
    secrets: Annotated[tuple[SecretStr, ...], Field(min_length=1, max_length=4)]
    events: tuple[str, ...] = Field(default_factory=event_types)

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
        unknown = sorted(set(events) - set(event_types()))
        if unknown or not events:
            raise ValueError(
                f"unknown event types {unknown}; the events are {', '.join(event_types())}"
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


class Settings(BaseSettings):
    """Configuration of one server process. Secrets are SecretStr so they never print."""

    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", frozen=True, hide_input_in_errors=True
    )

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL: sqlite:///FILE (embedded default) or postgresql://...",
    )
    better_auth_secret: SecretStr | None = Field(
        default=None, description="Shared HS256 secret of Better Auth (mode a)."
    )
    better_auth_jwks_url: str | None = Field(
        default=None, description="JWKS URL of a Better Auth deployment (mode b)."
    )
    jwt_algorithms: tuple[str, ...] | None = Field(
        default=None,
        description="Accepted algorithms; default HS256 with a secret, EdDSA with a JWKS URL.",
    )
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_leeway_seconds: float = Field(default=5.0, ge=0, le=300)
    jwks_min_refresh_seconds: float = Field(
        default=0.5,
        gt=0,
        description="Least time between two JWKS fetches; a token with a new kid waits for one.",
    )
    migrate_on_start: bool | None = Field(
        default=None,
        description="Run migrations when the server starts; default: only for SQLite.",
    )
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    database_timeout_seconds: float = Field(default=5.0, gt=0)
    database_pool_size: int = Field(default=10, ge=1)
    database_transaction_pooler: bool = Field(
        default=False,
        description="DATABASE_URL is a transaction-mode pooler: no prepared statements.",
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="The server's log lines (access log included): text, or one JSON object each.",
    )
    metrics_path: str = Field(
        default="/metrics",
        description="Where Prometheus scrapes the metrics (docs/OBSERVABILITY.md); empty: no "
        "metrics at all.",
    )
    cors_origins: tuple[str, ...] = Field(
        default=(),
        description="Origins of the front ends that may call the API from a browser (JSON list).",
    )

    cors_allow_credentials: bool = Field(
        default=False,
        description="Answer Access-Control-Allow-Credentials: true to the listed origins.",
    )
    require_if_match: bool = Field(
        default=False,
        description="Answer 428 to a write (PUT, DELETE, completion) without If-Match.",
    )
    idempotency_key_ttl_seconds: int = Field(
        default=86_400,
        ge=1,
        description="How long the response to a create with an Idempotency-Key is remembered.",
    )

    webhook_endpoints: tuple[WebhookEndpoint, ...] = Field(
        default=(),
        description="Receivers of the events (JSON list of {name, url, secrets, events}).",
    )
    webhook_relay: bool = Field(
        default=True,
        description="Deliver events from inside the server; off when `python -m backend.events "
        "relay` runs beside it.",
    )
    webhook_poll_seconds: float = Field(
        default=0.5, gt=0, le=60, description="How often the relay looks for work when idle."
    )
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, le=60, description="How long one delivery attempt may take."
    )
    webhook_concurrency: int = Field(
        default=16, ge=1, le=256, description="Deliveries in flight per relay (each process)."
    )
    webhook_retry_base_seconds: float = Field(
        default=5.0, gt=0, description="The wait after a first failed attempt; doubled after each."
    )
    webhook_retry_max_seconds: float = Field(
        default=6 * 3600.0, gt=0, description="The longest wait between two attempts."
    )
    webhook_max_age_seconds: float = Field(
        default=3 * 86_400.0,
        gt=0,
        description="An event not delivered this long after it was dispatched is marked failed.",
    )
    webhook_retention_days: int = Field(
        default=30,
        ge=1,
        description="How long events and their deliveries are kept (redelivery's window).",
    )

    @field_validator("webhook_endpoints")
    @classmethod
    def _endpoint_names(cls, endpoints: tuple[WebhookEndpoint, ...]) -> tuple[WebhookEndpoint, ...]:
        return unique_names(endpoints)

    @field_validator("metrics_path")
    @classmethod
    def _metrics_outside_the_api(cls, path: str) -> str:
        if path and (
            not path.startswith("/") or path == "/api" or path.startswith("/api/") or "{" in path
        ):
            raise ValueError(
                f"METRICS_PATH: {path!r} is not a path outside the API: write one such as "
                "/metrics (not under /api/, no parameters), or leave it empty for no metrics"
            )
        return path

    @field_validator("cors_origins")
    @classmethod
    def _origins_only(cls, origins: tuple[str, ...]) -> tuple[str, ...]:
        for origin in origins:
            if origin == "*":
                raise ValueError(
                    "CORS_ORIGINS: '*' (any origin) is not accepted: list each front end's "
                    "origin; a browser never sends credentials (CORS_ALLOW_CREDENTIALS) to a "
                    "wildcard, and the API answers each listed origin by name"
                )
            parts = urlsplit(origin)
            if (
                parts.scheme not in ("http", "https")
                or not parts.hostname
                or origin != f"{parts.scheme}://{parts.netloc}"
                or parts.username is not None
                or origin != origin.lower()
            ):
                raise ValueError(
                    f"CORS_ORIGINS: {origin!r} is not an origin; write each as "
                    "scheme://host[:port] in lower case, without a path or a trailing slash "
                    '(e.g. ["https://app.example.com", "http://localhost:3000"])'
                )
        return origins

    @model_validator(mode="after")
    def _one_way_to_verify_tokens(self) -> Self:
        if self.better_auth_secret is None and self.better_auth_jwks_url is None:
            raise ValueError(
                "no token verification key: set BETTER_AUTH_SECRET (shared HS256 secret) "
                "or BETTER_AUTH_JWKS_URL (Better Auth JWKS endpoint)"
            )
        if self.better_auth_secret is not None and self.better_auth_jwks_url is not None:
            raise ValueError("set BETTER_AUTH_SECRET or BETTER_AUTH_JWKS_URL, not both")
        secret = self.better_auth_secret
        if secret is not None and len(secret.get_secret_value().encode()) < MIN_SECRET_BYTES:
            raise ValueError(
                f"BETTER_AUTH_SECRET is too short: at least {MIN_SECRET_BYTES} bytes are "
                "needed for HS256 (RFC 7518 section 3.2)"
            )
        return self

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def should_migrate_on_start(self) -> bool:
        return self.uses_sqlite if self.migrate_on_start is None else self.migrate_on_start
