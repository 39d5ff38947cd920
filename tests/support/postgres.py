"""Throwaway PostgreSQL servers for test sessions and benchmarks (initdb + pg_ctl, no deps)."""

from __future__ import annotations

import logging
import os
import re
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

logger = logging.getLogger(__name__)

SERVER_USER = "postgres"
START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 60
# The server is thrown away after the run, so durability is traded for speed: no fsync,
# no synchronous commit, no full-page writes. Never copy these settings to a real server.
SERVER_OPTIONS = (
    "-c listen_addresses=127.0.0.1",
    "-c fsync=off",
    "-c synchronous_commit=off",
    "-c full_page_writes=off",
    "-c max_connections=200",
)


class PostgresUnavailable(Exception):
    """PostgreSQL cannot be started here; the message says why."""


def _is_root() -> bool:
    return os.geteuid() == 0


def find_pg_bin() -> Path:
    """Return the directory holding initdb and pg_ctl: PATH first, else the newest install."""
    on_path = [shutil.which(name) for name in ("initdb", "pg_ctl")]
    if all(on_path):
        # Distributions symlink into /usr/local/bin; the real directory also holds `postgres`.
        return Path(str(on_path[0])).resolve().parent

    def major(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", path.parent.name)) or (0,)

    candidates = [
        path
        for path in Path("/usr/lib/postgresql").glob("*/bin")
        if (path / "initdb").exists() and (path / "pg_ctl").exists()
    ]
    if not candidates:
        raise PostgresUnavailable(
            "PostgreSQL binaries not found: no initdb/pg_ctl on PATH "
            "or in /usr/lib/postgresql/*/bin"
        )
    return max(candidates, key=major)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _as_server_user(argv: list[str]) -> list[str]:
    """initdb refuses to run as root, so root runs the tools as the `postgres` user."""
    if not _is_root():
        return argv
    runuser = shutil.which("runuser")
    if runuser is None:
        raise PostgresUnavailable("running as root but `runuser` is missing")
    return [runuser, "-u", SERVER_USER, "--", *argv]


def _run(argv: list[str], *, cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _as_server_user(argv),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, "LC_ALL": "C", "LANG": "C"},
    )


def _server_user_can_enter(directory: Path) -> bool:
    if not _is_root():
        return True
    probe = _run(["test", "-x", str(directory)], cwd=Path("/"), timeout=10)
    return probe.returncode == 0


@dataclass
class PostgresServer:
    """One running (or stopped) cluster owned by this process."""

    data_dir: Path
    port: int
    host: str = "127.0.0.1"
    bin_dir: Path = field(default_factory=find_pg_bin)
    # Set when the data dir lives in a directory we created (see start_postgres).
    owned_root: Path | None = None

    @property
    def log_file(self) -> Path:
        return self.data_dir / "server.log"

    def url(self, database: str = "postgres", driver: str = "postgresql+psycopg") -> str:
        """SQLAlchemy URL for `database` (trust auth: no password)."""
        return f"{driver}://{SERVER_USER}@{self.host}:{self.port}/{database}"

    def conninfo(self, database: str = "postgres") -> str:
        """libpq connection string, for psycopg directly."""
        return (
            f"host={self.host} port={self.port} user={SERVER_USER} dbname={database} "
            "connect_timeout=5"
        )

    def create_database(self, name: str) -> str:
        """CREATE DATABASE `name` and return its SQLAlchemy URL."""
        with psycopg.connect(self.conninfo(), autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def start(self) -> None:
        """Start the cluster on its port and data dir; returns once it accepts connections."""
        options = " ".join((f"-p {self.port}", f"-k {self.data_dir}", *SERVER_OPTIONS))
        result = _run(
            [
                str(self.bin_dir / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-o",
                options,
                "-w",
                "-t",
                str(START_TIMEOUT_SECONDS),
                "start",
            ],
            cwd=self.data_dir.parent,
            timeout=START_TIMEOUT_SECONDS + 10,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"pg_ctl start failed on port {self.port}: {result.stderr.strip()}\n"
                f"{self._log_tail()}"
            )

    def stop(self) -> None:
        """Fast shutdown (disconnects clients); a no-op when already stopped."""
        if not self.is_running():
            return
        result = _run(
            [
                str(self.bin_dir / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-m",
                "fast",
                "-w",
                "-t",
                str(STOP_TIMEOUT_SECONDS),
                "stop",
            ],
            cwd=self.data_dir.parent,
            timeout=STOP_TIMEOUT_SECONDS + 10,
        )
        if result.returncode != 0:
            raise RuntimeError(f"pg_ctl stop failed: {result.stderr.strip()}")

    def is_running(self) -> bool:
        result = _run(
            [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "status"],
            cwd=self.data_dir.parent,
            timeout=30,
        )
        return result.returncode == 0

    def destroy(self) -> None:
        """Stop the server and delete its files."""
        self.stop()
        shutil.rmtree(self.owned_root or self.data_dir, ignore_errors=True)

    def _log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"


def _prepare_base_dir(base_dir: Path) -> tuple[Path, Path | None]:
    """Return a parent for the data dir the server user can use, and the dir we created, if any."""
    base_dir.mkdir(parents=True, exist_ok=True)
    if not _is_root():
        return base_dir, None
    if _server_user_can_enter(base_dir):
        return base_dir, None
    # e.g. pytest's tmp_path lives under a 0700 directory owned by root.
    fallback = Path(tempfile.mkdtemp(prefix="pg-", dir="/tmp"))
    fallback.chmod(0o755)
    shutil.chown(fallback, user=SERVER_USER)
    logger.info("%s is not reachable by %s; using %s", base_dir, SERVER_USER, fallback)
    return fallback, fallback


def start_postgres(base_dir: Path, *, port: int | None = None) -> PostgresServer:
    """initdb a fresh cluster under `base_dir` and start it (free port when `port` is None)."""
    bin_dir = find_pg_bin()
    parent, owned_root = _prepare_base_dir(base_dir)
    data_dir = parent / "data"
    data_dir.mkdir(mode=0o700)
    if _is_root():
        shutil.chown(data_dir, user=SERVER_USER)
    result = _run(
        [
            str(bin_dir / "initdb"),
            "-D",
            str(data_dir),
            "-U",
            SERVER_USER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        ],
        cwd=parent,
        timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(f"initdb failed: {result.stderr.strip()}")

    attempts = 1 if port is not None else 3
    for attempt in range(attempts):
        server = PostgresServer(
            data_dir=data_dir,
            port=port if port is not None else _free_port(),
            bin_dir=bin_dir,
            owned_root=owned_root,
        )
        try:
            server.start()
        except RuntimeError:
            # Another process may have taken the free port between probe and start.
            if attempt == attempts - 1:
                raise
            continue
        return server
    raise AssertionError("unreachable")
