"""One delivery attempt: the signed POST, and what its answer means for the next one.

Per Standard Webhooks: a 2xx accepts the event; 410 Gone disables the endpoint; anything
else (another status, a timeout, a refused connection) is retried later, on exponential
backoff with jitter, and no sooner than a `Retry-After` the receiver sent. Redirects are not
followed: a receiver names its final URL. The answer's body is never read."""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Final, Literal

import httpx

from backend.events.signing import signature_header
from backend.settings import WebhookEndpoint

USER_AGENT: Final = "todo-api-webhooks/1"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an attempt got: `delivered`, `gone` (410), or `retry` (after `retry_after`
    seconds at least, when the receiver said so); without an answer, the error's class."""

    verdict: Literal["delivered", "gone", "retry"]
    status: int | None
    error: str
    retry_after: float | None = None
    cause: str | None = None


@dataclass(frozen=True, slots=True)
class Backoff:
    """The wait before attempt n + 1: base * 2^(n-1), at most `most`, with jitter (a random
    half of it), and never less than the receiver's Retry-After (which is capped at `most`)."""

    base: float
    most: float

    def delay(self, attempts: int, retry_after: float | None = None) -> float:
        ceiling: float = min(self.most, self.base * 2.0 ** min(attempts - 1, 62))
        jittered: float = ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 (spreading retries)
        if retry_after is not None:
            return max(jittered, min(retry_after, self.most))
        return jittered


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """`Retry-After` in seconds: delta-seconds or an HTTP date; None when absent or invalid."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    current = time.time() if now is None else now
    return max(0.0, moment.timestamp() - current)


def _outcome(response: httpx.Response) -> Outcome:
    status = response.status_code
    if 200 <= status < 300:
        return Outcome("delivered", status, "")
    if status == 410:
        return Outcome("gone", status, "the receiver answered 410 Gone: endpoint disabled")
    return Outcome(
        "retry",
        status,
        f"the receiver answered {status}",
        retry_after_seconds(response.headers.get("retry-after")),
    )


async def attempt(
    client: httpx.AsyncClient,
    endpoint: WebhookEndpoint,
    event_id: str,
    body: bytes,
    trace_headers: Mapping[str, str] | None = None,
) -> Outcome:
    """POST the body to the endpoint, signed now with each of its secrets; with the
    attempt's `traceparent` when it is traced."""
    timestamp = int(datetime.now(UTC).timestamp())
    headers = {
        **(trace_headers or {}),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(endpoint.keys(), event_id, timestamp, body),
    }
    try:
        async with client.stream("POST", endpoint.url, content=body, headers=headers) as answer:
            return _outcome(answer)
    except httpx.TimeoutException as error:
        return Outcome(
            "retry", None, "no answer within WEBHOOK_TIMEOUT_SECONDS", cause=type(error).__name__
        )
    except httpx.HTTPError as error:
        cause = type(error).__name__
        return Outcome("retry", None, f"{cause}: {error}"[:200], cause=cause)
