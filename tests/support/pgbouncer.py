"""A throwaway PgBouncer in transaction pooling mode, in front of a test PostgreSQL server.

Transaction pooling is what hosted and serverless PostgreSQL put in front of the database
(Supabase's pooler, Neon's `-pooler` hosts): each transaction may run on another server
connection. PgBouncer refuses to run as root, so root starts it as the `postgres` user.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.support.live_server import free_port, stop_process_group
from tests.support.postgres import SERVER_USER, PostgresServer
from tests.support.skips import skip_or_fail

START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0
SEARCHED = (Path("/usr/sbin/pgbouncer"), Path("/usr/bin/pgbouncer"))


class PgBouncerUnavailable(Exception):
    """PgBouncer cannot be started here; the message says why."""


def find_pgbouncer() -> Path:
    """The pgbouncer binary: PATH first, then where Debian installs it."""
    on_path = shutil.which("pgbouncer")
    if on_path is not None:
        return Path(on_path)
    for candidate in SEARCHED:
        if candidate.exists():
            return candidate
    raise PgBouncerUnavailable(
        "pgbouncer not found on PATH or in /usr/sbin (Debian: apt-get install pgbouncer)"
    )


@dataclass(frozen=True)
class PgBouncer:
    """A running PgBouncer: where to reach it and what it logged."""

    port: int
    directory: Path
    host: str = "127.0.0.1"

    def url(self, database: str) -> str:
        """SQLAlchemy URL of `database` through the pooler."""
        return f"postgresql+psycopg://{SERVER_USER}@{self.host}:{self.port}/{database}"

    def log_text(self) -> str:
        try:
            return (self.directory / "pgbouncer.log").read_text(errors="replace")
        except OSError:
            return "(no pgbouncer log)"


def _config(
    directory: Path, port: int, server: PostgresServer, pool_size: int, ignored: tuple[str, ...]
) -> str:
    return f"""\
[databases]
* = host={server.host} port={server.port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {directory / "userlist.txt"}
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = 1000
logfile = {directory / "pgbouncer.log"}
ignore_startup_parameters = {",".join(ignored)}
"""


def _directory() -> tuple[Path, Path]:
    """A directory the server user can write to (pytest's tmp_path may be root's alone)."""
    directory = Path(tempfile.mkdtemp(prefix="pgbouncer-", dir="/tmp"))
    if os.geteuid() == 0:
        shutil.chown(directory, user=SERVER_USER)
    return directory, directory


def _wait_until_ready(process: subprocess.Popen[bytes], bouncer: PgBouncer) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    conninfo = f"host={bouncer.host} port={bouncer.port} user={SERVER_USER} dbname=postgres"
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"pgbouncer exited with {process.returncode}:\n{bouncer.log_text()}")
        try:
            with psycopg.connect(conninfo, connect_timeout=2, autocommit=True) as connection:
                connection.execute("SELECT 1")
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"pgbouncer did not accept connections within {START_TIMEOUT_SECONDS:g} s:\n"
                    f"{bouncer.log_text()}"
                ) from None
        time.sleep(0.1)  # a poll interval, bounded by the deadline above


@contextlib.contextmanager
def run_pgbouncer(
    server: PostgresServer, *, pool_size: int = 20, ignore_startup_parameters: tuple[str, ...] = ()
) -> Iterator[PgBouncer]:
    """PgBouncer on a free port of 127.0.0.1, transaction pooling into `server`.

    `ignore_startup_parameters` are accepted and dropped instead of refused (`options` makes
    it pass the app's session settings silently, as some hosted poolers do)."""
    binary = find_pgbouncer()
    directory, owned = _directory()
    try:
        port = free_port()
        (directory / "userlist.txt").write_text(f'"{SERVER_USER}" ""\n')
        config = directory / "pgbouncer.ini"
        config.write_text(_config(directory, port, server, pool_size, ignore_startup_parameters))
        argv = [str(binary), str(config)]
        if os.geteuid() == 0:
            argv = ["runuser", "-u", SERVER_USER, "--", *argv]
        # A session of its own, so that stopping it reaches pgbouncer behind runuser too.
        process = subprocess.Popen(
            argv,
            cwd=directory,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        bouncer = PgBouncer(port=port, directory=directory)
        try:
            _wait_until_ready(process, bouncer)
            yield bouncer
        finally:
            stop_process_group(process, STOP_TIMEOUT_SECONDS)
    finally:
        shutil.rmtree(owned, ignore_errors=True)


def require_pgbouncer() -> None:
    """PgBouncer is installed; otherwise skip with the reason, or fail under CI=true."""
    try:
        find_pgbouncer()
    except PgBouncerUnavailable as error:
        skip_or_fail(f"PgBouncer tests need PgBouncer: {error}")
