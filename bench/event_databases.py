"""A fresh database of either kind for the events benchmarks (bench/crash.py,
bench/reminder_lateness.py): a SQLite file, or a database on a throwaway PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import platform
from collections.abc import Iterator
from pathlib import Path

from tests.support.postgres import start_postgres


@contextlib.contextmanager
def fresh_database(kind: str, folder: Path) -> Iterator[str]:
    """The URL of an empty database of `kind` (sqlite, postgres) while the block runs."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'events.db'}"
        return
    server = start_postgres(folder / "postgres")
    try:
        yield server.create_database("events")
    finally:
        server.destroy()


def machine() -> str:
    """One line naming the machine, for the figures."""
    model = platform.processor() or "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, load {load}"
