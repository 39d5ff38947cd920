"""The throwaway PostgreSQL helper starts, serves, stops and restarts a real server."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from tests.support.postgres import PostgresServer, PostgresUnavailable, find_pg_bin, start_postgres
from tests.support.skips import skip_or_fail

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _require_binaries() -> None:
    try:
        find_pg_bin()
    except PostgresUnavailable as missing:
        skip_or_fail(f"PostgreSQL is unavailable: {missing}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    _require_binaries()
    running = start_postgres(tmp_path_factory.mktemp("postgres"))
    try:
        yield running
    finally:
        running.destroy()


def _select_one(conninfo: str) -> int:
    with psycopg.connect(conninfo) as connection:
        row = connection.execute("select 1").fetchone()
    assert row is not None
    value: int = row[0]
    return value


def test_created_database_answers_queries(server: PostgresServer) -> None:
    url = server.create_database("support_check")

    assert url == f"postgresql+psycopg://postgres@127.0.0.1:{server.port}/support_check"
    assert _select_one(server.conninfo("support_check")) == 1


def test_stop_refuses_connections_and_start_serves_again(server: PostgresServer) -> None:
    server.create_database("restart_check")
    conninfo = server.conninfo("restart_check")

    server.stop()
    assert not server.is_running()
    with pytest.raises(psycopg.OperationalError, match=r"(?i)refused|failed"):
        psycopg.connect(conninfo)

    server.start()
    assert server.is_running()
    assert _select_one(conninfo) == 1


def test_url_uses_the_requested_driver(server: PostgresServer) -> None:
    assert (
        server.url("db", driver="postgresql") == f"postgresql://postgres@127.0.0.1:{server.port}/db"
    )
