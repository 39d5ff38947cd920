"""However many users call, the number of series stays the same: no label holds a user id,
a task id or anything else a caller chooses."""

from __future__ import annotations

import pytest

from tests.conftest import new_owner, token_for
from tests.telemetry.conftest import served
from tests.telemetry.scrape import Scrape, scrape

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

USERS = 10_000
FIRST = 200
# Read from the database at each scrape: values change, series do not.
OUTBOX = ("todo_outbox_",)


async def test_ten_thousand_users_make_no_new_series(sqlite_url: str) -> None:
    """Each user makes one request of four kinds in turn: its list (200), a task it does not
    have (404), another user's list (403), its list without a token (401). The series after
    the first FIRST users are all there are after USERS."""
    owners = [new_owner() for _ in range(USERS)]
    snapshots: list[Scrape] = []
    async with served(sqlite_url, webhook_relay=False) as (_, client):
        await scrape(client)  # a scrape reads the outbox: its statement's series, from now on
        for number, owner in enumerate(owners):
            kind = number % 4
            if kind == 0:
                answer = await client.get(f"/api/{owner}/tasks", headers=token_for(owner))
            elif kind == 1:
                answer = await client.get(
                    f"/api/{owner}/tasks/{number + 1_000_000}", headers=token_for(owner)
                )
            elif kind == 2:
                answer = await client.get(f"/api/{owners[0]}/tasks", headers=token_for(owner))
            else:
                answer = await client.get(f"/api/{owner}/tasks")
            assert answer.status_code == (200, 404, 403, 401)[kind]
            if number + 1 in (FIRST, USERS):
                snapshots.append(await scrape(client))
    first, last = snapshots
    assert first.series(exclude=OUTBOX) == last.series(exclude=OUTBOX)
    assert last.total("http_server_request_duration_seconds_count") == USERS + 2  # and 2 scrapes
    assert not any(owner in value for value in last.label_values() for owner in owners[:50])
    assert not any(owner in last.text for owner in owners[-50:])
