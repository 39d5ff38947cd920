"""/metrics: what an operator reads, on both databases, each figure from a known load."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from backend.events.outbox import Outbox
from backend.settings import Settings, WebhookEndpoint
from backend.storage.factory import connect
from backend.storage.schema import upgrade_to_head
from backend.telemetry import gauges
from tests.conftest import SECRET, new_owner, token_for
from tests.telemetry.conftest import served
from tests.telemetry.scrape import scrape

pytestmark = pytest.mark.anyio

LIST = "/api/{user_id}/tasks"
ONE = "/api/{user_id}/tasks/{task_id}"
REQUESTS = "http_server_request_duration_seconds_count"
METRICS = (
    "http_server_request_duration_seconds",
    "http_server_active_requests",
    "db_client_operation_duration_seconds",
    "db_client_connection_count",
    "db_client_connection_max",
    "db_client_connection_pending_requests",
    "db_client_connection_waits",
    "db_client_connection_timeouts",
    "todo_idempotent_replays",
    "todo_precondition_failures",
    "todo_webhook_delivery_attempts",
    "todo_reminder_lateness_seconds",
    "todo_outbox_pending_events",
    "todo_outbox_oldest_pending_age_seconds",
)


async def test_the_page_names_every_metric_and_is_outside_the_api(database_url: str) -> None:
    async with served(database_url) as (_, client):
        page = await scrape(client)
    assert sorted(set(METRICS) - set(page.families)) == []


async def test_requests_are_counted_by_route_template_method_and_status(
    database_url: str,
) -> None:
    owner = new_owner()
    async with served(database_url) as (_, client):
        for _ in range(3):
            assert (await client.get(f"/api/{owner}/tasks", headers=token_for(owner))).is_success
        created = await client.post(
            f"/api/{owner}/tasks", json={"title": "milk"}, headers=token_for(owner)
        )
        assert created.status_code == 201
        missing = await client.get(f"/api/{owner}/tasks/999999999", headers=token_for(owner))
        assert missing.status_code == 404
        assert (await client.get(f"/api/{owner}/tasks")).status_code == 401
        assert (await client.get("/nowhere")).status_code == 404
        page = await scrape(client)
    counts = {
        (
            labels["http_request_method"],
            labels["http_route"],
            labels["http_response_status_code"],
        ): v
        for (name, frozen), v in page.samples.items()
        if name == REQUESTS
        for labels in [dict(frozen)]
    }
    assert counts == {
        ("GET", LIST, "200"): 3,
        ("POST", LIST, "201"): 1,
        ("GET", ONE, "404"): 1,
        ("GET", LIST, "401"): 1,
        ("GET", "-", "404"): 1,
    }
    # The scrape in flight counts itself; nothing else is in flight.
    assert page.value("http_server_active_requests", http_request_method="GET") == 1
    assert owner not in page.text


async def test_statements_are_timed_by_operation_and_table(database_url: str) -> None:
    owner = new_owner()
    async with served(database_url) as (_, client):
        await client.post(f"/api/{owner}/tasks", json={"title": "milk"}, headers=token_for(owner))
        await client.get(f"/api/{owner}/tasks", headers=token_for(owner))
        page = await scrape(client)
    system = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    count = "db_client_operation_duration_seconds_count"
    for operation in ("INSERT", "SELECT"):
        where = {"db_system_name": system, "db_operation_name": operation}
        assert page.total(count, {**where, "db_collection_name": "tasks"}) >= 1, operation


async def test_stale_and_missing_preconditions_are_counted(database_url: str) -> None:
    owner = new_owner()
    async with served(database_url, require_if_match=True) as (_, client):
        created = await client.post(
            f"/api/{owner}/tasks", json={"title": "milk"}, headers=token_for(owner)
        )
        url = f"/api/{owner}/tasks/{created.json()['id']}"
        stale = {**token_for(owner), "If-Match": '"999"'}
        assert (await client.put(url, json={"title": "tea"}, headers=stale)).status_code == 412
        for _ in range(2):
            missing = await client.put(url, json={"title": "tea"}, headers=token_for(owner))
            assert missing.status_code == 428
        page = await scrape(client)
    failures = "todo_precondition_failures_total"
    assert page.value(failures, http_route=ONE, http_response_status_code="412") == 1
    assert page.value(failures, http_route=ONE, http_response_status_code="428") == 2


async def test_idempotent_replays_are_counted(database_url: str) -> None:
    owner = new_owner()
    headers = {**token_for(owner), "Idempotency-Key": str(uuid.uuid4())}
    async with served(database_url) as (_, client):
        for _ in range(3):
            answer = await client.post(f"/api/{owner}/tasks", json={"title": "a"}, headers=headers)
            assert answer.status_code == 201
        page = await scrape(client)
    assert page.value("todo_idempotent_replays_total") == 2


async def test_the_pool_gauges_read_the_postgresql_pool(postgres_url: str) -> None:
    owner = new_owner()
    async with served(postgres_url, database_pool_size=7) as (app, client):
        await client.get(f"/api/{owner}/tasks", headers=token_for(owner))
        assert gauges.sample(app.state.store.database, app.state.metrics)
        page = await scrape(client)
    assert page.value("db_client_connection_max") == 7
    used = page.value("db_client_connection_count", state="used")
    idle = page.value("db_client_connection_count", state="idle")
    assert used >= 0 and idle >= 0 and 1 <= used + idle <= 7
    assert page.value("db_client_connection_pending_requests") == 0


async def test_sqlite_has_no_pool_to_report(sqlite_url: str) -> None:
    async with served(sqlite_url) as (app, client):
        assert not gauges.sample(app.state.store.database, app.state.metrics)
        page = await scrape(client)
    assert page.total("db_client_connection_max") == 0


async def test_the_outbox_backlog_is_read_from_the_database(
    events_url: str,
) -> None:
    """Events not yet dispatched, then dispatched with a delivery pending, are waiting;
    delivered, they are not."""
    owner = new_owner()
    async with served(events_url, webhook_relay=False) as (_, client):
        empty = await scrape(client)
        for title in ("a", "b", "c"):
            await client.post(
                f"/api/{owner}/tasks", json={"title": title}, headers=token_for(owner)
            )
        undispatched = await scrape(client)
        database = connect(Settings(database_url=events_url, better_auth_secret=SECRET))
        try:
            outbox = Outbox(database)
            now = datetime.now(UTC)
            endpoint = WebhookEndpoint(
                name="ops", url="http://receiver.test/", secrets=("whsec_" + "A" * 40,)
            )
            await outbox.dispatch((endpoint,), now, now + timedelta(days=1), 100)
            pending = await scrape(client)
            leased = await outbox.lease(("ops",), now, timedelta(minutes=1), 100)
            for delivery in leased:
                await outbox.delivered(delivery.token, delivery.delivery_id, now, 204)
            delivered = await scrape(client)
        finally:
            await database.close()
    assert empty.value("todo_outbox_pending_events") == 0
    assert empty.value("todo_outbox_oldest_pending_age_seconds") == 0
    assert undispatched.value("todo_outbox_pending_events") == 3
    assert 0 <= undispatched.value("todo_outbox_oldest_pending_age_seconds") < 60
    assert pending.value("todo_outbox_pending_events") == 3
    assert len(leased) == 3
    assert delivered.value("todo_outbox_pending_events") == 0


@pytest.fixture
def events_url(
    request: pytest.FixtureRequest, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """A database of the test's own: the backlog counts every owner's events."""
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path_factory.mktemp('outbox') / 'todo.db'}"
    else:
        postgres = request.getfixturevalue("postgres_server")
        url = postgres.create_database(f"outbox_{uuid.uuid4().hex[:12]}")
    upgrade_to_head(url)
    return url


async def test_the_metrics_path_is_a_setting(sqlite_url: str) -> None:
    async with served(sqlite_url, metrics_path="/internal/metrics") as (_, client):
        assert (await client.get("/metrics")).status_code == 404
        moved = await scrape(client, "/internal/metrics")
    assert (
        moved.value(
            REQUESTS, http_request_method="GET", http_route="-", http_response_status_code="404"
        )
        == 1
    )


async def test_an_empty_metrics_path_turns_metrics_off(sqlite_url: str) -> None:
    owner = new_owner()
    async with served(sqlite_url, metrics_path="") as (app, client):
        assert (await client.get("/metrics")).status_code == 404
        assert (await client.get(f"/api/{owner}/tasks", headers=token_for(owner))).is_success
    assert app.state.metrics is None


@pytest.mark.parametrize("path", ["/api/metrics", "/api", "metrics", "/m/{x}"])
def test_a_metrics_path_inside_the_api_is_refused(path: str) -> None:
    with pytest.raises(ValidationError, match="METRICS_PATH"):
        Settings(better_auth_secret=SECRET, metrics_path=path, _env_file=None)
