"""A real Prometheus scraping the four-worker server: `increase()` counts exactly the requests
sent, and the rules of ops/prometheus/ evaluate on the server's own series.

Why the increase can be exact, and when it is not. `increase(x[r])` evaluated at t takes each
series' samples in [t - r, t] (both ends included in Prometheus 2.x), the last minus the first
(plus the value before any counter reset), then extrapolates the result towards each end of the
range over the gap between that end and the nearest sample: the whole gap when it is under 1.1
average scrape intervals, else half an interval, and at the start never past the moment the
counter would have been 0. A range that starts on one scrape's timestamp and is evaluated at a
later scrape's leaves no gap at either end: the result is exactly the last sample minus the
first, in whole requests. But a series exists only from its first observation: the request
that created it is already in the series' first sample, and no range can count it. So one
warm-up request per label set is sent and scraped first (at T0), then the N requests, then the
test waits for a scrape counting them all (at T1): `sum(increase(x[T1 - T0 ms]))` evaluated at
T1 must be N, to the request. The same sum over `[5m]` starts before the series existed and is
extrapolated towards 0 from the first sample (1 request per series): it comes out near N + the
warm-ups, and is only logged.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import httpx
import pytest

from tests.conftest import SECRET, new_owner, token_for
from tests.production.workers import PRODUCTION_ENV, access_lines, one_connection_per_worker
from tests.support.live_server import ROOT, LiveServer, live_server
from tests.support.postgres import PostgresServer
from tests.support.prometheus_server import Labels, PrometheusServer, run_prometheus
from tests.telemetry.scrape import scrape

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.postgres]
logger = logging.getLogger(__name__)

WORKERS: Final = 4
USERS: Final = 12  # three on each worker's connection
REQUESTS_PER_USER: Final = 50  # lists and creates in turn: 25 of each
REQUESTS: Final = USERS * REQUESTS_PER_USER  # N = 600
ROUTE: Final = "/api/{user_id}/tasks"
# The two label sets the requests fall in (method, status), one warm-up request each.
LABEL_SETS: Final = (("GET", "200"), ("POST", "201"))
WARM_UPS: Final = len(LABEL_SETS)
REQUEST_LABELS: Final = ("http_request_method", "http_route", "http_response_status_code")
API_REQUESTS: Final = 'http_server_request_duration_seconds_count{http_route=~"/api/.*"}'
SCRAPE_DEADLINE_SECONDS: Final = 30.0
RULES: Final = sorted((ROOT / "ops" / "prometheus" / "rules").glob("*.yml"))
# The raw series the alerts read besides the request histogram (ops/prometheus/rules/).
ALERTED_SERIES: Final = frozenset(
    {
        "db_client_connection_pending_requests",
        "db_client_connection_count",
        "db_client_connection_max",
        "todo_outbox_oldest_pending_age_seconds",
        "todo_webhook_delivery_attempts_total",
    }
)


@pytest.fixture
def database_url(postgres_server: PostgresServer) -> str:
    return postgres_server.create_database(f"prometheus_{uuid.uuid4().hex[:12]}")


def target_of(server: LiveServer) -> str:
    return server.base_url.removeprefix("http://")


def series_key(method: str, status: str) -> Labels:
    return frozenset(zip(REQUEST_LABELS, (method, ROUTE, status), strict=True))


def request_labels(labels: Labels) -> Labels:
    """A series' request labels, without those Prometheus adds (job, instance, __name__)."""
    return frozenset((name, value) for name, value in labels if name in REQUEST_LABELS)


async def send(client: httpx.AsyncClient, owner: str, method: str, step: int) -> None:
    """One list (GET) or create (POST) of `owner`'s tasks, which must succeed."""
    if method == "GET":
        response = await client.get(f"/api/{owner}/tasks", headers=token_for(owner))
        assert response.status_code == 200, response.text
    else:
        body = {"title": f"task {step}"}
        response = await client.post(f"/api/{owner}/tasks", json=body, headers=token_for(owner))
        assert response.status_code == 201, response.text


async def one_user(client: httpx.AsyncClient, requests: int) -> None:
    """A user of its own, creating and listing in turn."""
    owner = new_owner()
    for step in range(requests):
        await send(client, owner, LABEL_SETS[step % 2][0], step)


async def load_through(
    clients: Sequence[httpx.AsyncClient], users: int, requests_per_user: int
) -> None:
    """`users` users side by side, user i sending through `clients[i % len(clients)]`."""
    await asyncio.gather(
        *(one_user(clients[user % len(clients)], requests_per_user) for user in range(users))
    )


def api_totals(prometheus: PrometheusServer) -> dict[int, float]:
    """The API's request count at each scrape of the last 5 minutes that holds every label set
    (a scrape answered by one worker reports all of them: the multiprocess mode)."""
    by_series = prometheus.samples(f"{API_REQUESTS}[5m]")
    if {request_labels(labels) for labels in by_series} != {
        series_key(method, status) for method, status in LABEL_SETS
    }:
        return {}
    totals: dict[int, float] = {}
    seen_by: dict[int, int] = {}
    for samples in by_series.values():
        for sample in samples:
            totals[sample.timestamp_ms] = totals.get(sample.timestamp_ms, 0.0) + sample.value
            seen_by[sample.timestamp_ms] = seen_by.get(sample.timestamp_ms, 0) + 1
    return {stamp: total for stamp, total in totals.items() if seen_by[stamp] == len(by_series)}


def scrape_counting(prometheus: PrometheusServer, total: int) -> int:
    """The timestamp (ms) of the latest scrape whose API requests add up to `total`, once there
    is one (counts only grow: the first such scrape follows the requests counted)."""
    deadline = time.monotonic() + SCRAPE_DEADLINE_SECONDS
    while True:
        totals = api_totals(prometheus)
        matching = [stamp for stamp, value in totals.items() if value == total]
        if matching:
            return max(matching)
        if time.monotonic() > deadline:
            raise AssertionError(
                f"no scrape counted {total} API requests within {SCRAPE_DEADLINE_SECONDS:g} s: "
                f"{sorted(totals.items())[-5:]}\n{prometheus.log_text()[-2000:]}"
            )
        time.sleep(0.1)  # a poll interval, bounded by the deadline above


async def test_prometheus_increase_counts_exactly_the_requests_sent(
    database_url: str, tmp_path: Path
) -> None:
    with (
        live_server(
            database_url, SECRET, tmp_path / "server.log", workers=WORKERS, extra_env=PRODUCTION_ENV
        ) as server,
        run_prometheus([target_of(server)]) as prometheus,
    ):
        await send_warm_ups(server.base_url)
        first = scrape_counting(prometheus, WARM_UPS)
        # The load on a connection to each worker: the scrapes, all answered by the one worker
        # Prometheus keeps its connection to, must report what the four counted together.
        async with one_connection_per_worker(server) as clients:
            started = time.monotonic()
            await load_through(list(clients.values()), USERS, REQUESTS_PER_USER)
            load_seconds = time.monotonic() - started
            last = scrape_counting(prometheus, WARM_UPS + REQUESTS)
            # Whichever worker answers a scrape, it reports every worker's requests.
            reported = {
                pid: (await scrape(client)).total(
                    "http_server_request_duration_seconds_count", {"http_route": ROUTE}
                )
                for pid, client in clients.items()
            }

        span = f"{last - first}ms"
        exact = prometheus.value(f"sum(increase({API_REQUESTS}[{span}]))", at_ms=last)
        assert exact == REQUESTS
        by_label_set = prometheus.vector(
            f"sum by (http_request_method, http_route, http_response_status_code) "
            f"(increase({API_REQUESTS}[{span}]))",
            at_ms=last,
        )
        per_label_set = REQUESTS / len(LABEL_SETS)
        assert by_label_set == {series_key(*labels): per_label_set for labels in LABEL_SETS}
        assert prometheus.value(f"sum({API_REQUESTS})", at_ms=first) == WARM_UPS
        assert prometheus.value(f"sum({API_REQUESTS})", at_ms=last) == WARM_UPS + REQUESTS
        in_range = prometheus.samples(f"{API_REQUESTS}[{span}]", at_ms=last)
        scrapes = {len(samples) for samples in in_range.values()}
        extrapolated = prometheus.value(f"sum(increase({API_REQUESTS}[5m]))", at_ms=last)

        assert set(reported.values()) == {WARM_UPS + REQUESTS}, reported
        served_by = {line["pid"] for line in access_lines(server) if line["route"] == ROUTE}
        assert len(served_by) == WORKERS, served_by
    logger.info(
        "%d requests in %.1f s over %d workers; Prometheus: %s scrapes %s apart counted "
        "increase() = %g exactly (sum at the two scrapes %g -> %g); over [5m]: %g; "
        "/metrics of each of the %d workers: %s",
        REQUESTS,
        load_seconds,
        len(served_by),
        scrapes,
        span,
        exact,
        WARM_UPS,
        WARM_UPS + REQUESTS,
        extrapolated,
        len(reported),
        sorted(reported.values()),
    )


async def send_warm_ups(base_url: str) -> None:
    """One request of each label set, from a user of their own."""
    owner = new_owner()
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        for step, (method, _) in enumerate(LABEL_SETS):
            await send(client, owner, method, step)


def evaluated(prometheus: PrometheusServer) -> tuple[list[dict[str, Any]], set[str]]:
    """The loaded rules and the names of the series they recorded, once every group has been
    evaluated since the load's scrape. The groups run on timers of their own: each is known
    to have seen the load when the API's route rate is above 0 (the RED group) and every
    recording rule has recorded a number (the SLO's burn rates are NaN, 0 / 0, until then)."""
    deadline = time.monotonic() + SCRAPE_DEADLINE_SECONDS
    route_rate = (
        f'job_http_route:http_server_requests:rate5m{{job="todo-api", http_route="{ROUTE}"}}'
    )
    while True:
        rules = prometheus.rules()
        recording = {rule["name"] for rule in rules if rule["type"] == "recording"}
        recorded = prometheus.vector('{__name__=~".+:.+", job="todo-api"}')
        numbers = {
            dict(labels)["__name__"] for labels, value in recorded.items() if not math.isnan(value)
        }
        if (prometheus.value(route_rate) or 0) > 0 and recording <= numbers:
            return rules, {dict(labels)["__name__"] for labels in recorded}
        if time.monotonic() > deadline:
            raise AssertionError(
                f"the rules did not evaluate the load within {SCRAPE_DEADLINE_SECONDS:g} s: "
                f"{sorted(recording - numbers)} recorded no number"
            )
        time.sleep(0.1)  # a poll interval, bounded by the deadline above


async def test_the_rules_evaluate_on_the_server_s_own_series(
    database_url: str, tmp_path: Path
) -> None:
    """The names and labels the rules use are the server's: their promtool tests
    (ops/prometheus/tests/) feed them series written by hand."""
    with (
        live_server(
            database_url, SECRET, tmp_path / "server.log", workers=WORKERS, extra_env=PRODUCTION_ENV
        ) as server,
        run_prometheus([target_of(server)], rule_files=RULES) as prometheus,
    ):
        # Requests on both sides of a scrape: the rates have two different counts to go by.
        await send_warm_ups(server.base_url)
        scrape_counting(prometheus, WARM_UPS)
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
            await load_through([client], USERS, 10)
        scrape_counting(prometheus, WARM_UPS + 10 * USERS)
        rules, recorded = evaluated(prometheus)
        assert [rule["name"] for rule in rules if rule["health"] != "ok"] == [], rules
        assert recorded == {rule["name"] for rule in rules if rule["type"] == "recording"}
        for window in ("5m", "30m", "1h", "6h"):
            assert (
                prometheus.value(f'job:slo_availability:burn_rate{window}{{job="todo-api"}}') == 0
            )
        assert prometheus.value('job:http_server_request_errors:ratio_rate5m{job="todo-api"}') == 0
        p99 = prometheus.value('job:http_server_request_duration_seconds:p99_5m{job="todo-api"}')
        assert p99 is not None and 0 < p99 <= 10
        present = prometheus.vector('count by (__name__) ({job="todo-api"})')
        missing = ALERTED_SERIES - {dict(labels)["__name__"] for labels in present}
        assert missing == set(), f"the alerts read series the server does not expose: {missing}"
        firing = prometheus.vector('ALERTS{alertstate="firing"}')
    assert firing == {}
    logger.info(
        "%d rules evaluated on the server's series, all healthy; %d recorded names; p99 %.4f s",
        len(rules),
        len(recorded),
        p99,
    )
