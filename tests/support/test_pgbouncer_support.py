"""The throwaway PgBouncer pools in transaction mode: sessions are shared between clients."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.support import pgbouncer as pgbouncer_support
from tests.support.pgbouncer import (
    PgBouncer,
    PgBouncerUnavailable,
    find_pgbouncer,
    require_pgbouncer,
    run_pgbouncer,
)
from tests.support.postgres import SERVER_USER, PostgresServer

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture(scope="module")
def bouncer(postgres_server: PostgresServer) -> Iterator[PgBouncer]:
    """One server connection behind the pooler, so every client shares it."""
    require_pgbouncer()
    with run_pgbouncer(postgres_server, pool_size=1) as running:
        yield running


def test_a_session_setting_leaks_to_another_client(bouncer: PgBouncer) -> None:
    """Why the API must not rely on its session behind a transaction pooler."""
    conninfo = f"host={bouncer.host} port={bouncer.port} user={SERVER_USER} dbname=postgres"
    with (
        psycopg.connect(conninfo, autocommit=True) as first,
        psycopg.connect(conninfo, autocommit=True) as second,
    ):
        first.execute("SET work_mem = '1234kB'")
        row = second.execute("SHOW work_mem").fetchone()
    assert row == ("1234kB",)


def test_missing_pgbouncer_is_reported_with_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(pgbouncer_support, "SEARCHED", (tmp_path / "pgbouncer",))
    with pytest.raises(PgBouncerUnavailable, match="apt-get install pgbouncer"):
        find_pgbouncer()
