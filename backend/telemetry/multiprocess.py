"""Where the worker processes of one server share their metrics (prometheus_client's
multiprocess mode), so that a scrape answered by any worker reports them all.

`uvicorn --workers N` spawns its workers with `multiprocessing`; each is then a child of the
one supervisor. Such a worker, without PROMETHEUS_MULTIPROC_DIR set, writes its values to a
directory named after its supervisor: every worker of one server agrees on it, and a new
server (a new supervisor) starts a new one. A server of one process keeps its metrics in
memory. Another supervisor (gunicorn, a process manager forking the workers itself) must set
PROMETHEUS_MULTIPROC_DIR to an empty directory before it starts them (docs/OBSERVABILITY.md).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Final

MULTIPROC_VARIABLE: Final = "PROMETHEUS_MULTIPROC_DIR"


AUTOMATIC_PREFIX: Final = "todo-api-metrics-"


def shared_directory() -> Path | None:
    """The directory this process's metrics go to, or None when it keeps them in memory.

    Sets PROMETHEUS_MULTIPROC_DIR for a spawned worker that has none, before any metric
    exists: prometheus_client reads it when a metric is made.
    """
    configured = os.environ.get(MULTIPROC_VARIABLE)
    if configured:
        return Path(configured)
    parent = multiprocessing.parent_process()
    if parent is None or parent.pid is None:
        return None
    directory = Path(tempfile.gettempdir()) / f"{AUTOMATIC_PREFIX}{parent.pid}"
    directory.mkdir(mode=0o700, exist_ok=True)
    os.environ[MULTIPROC_VARIABLE] = str(directory)
    # prometheus_client chose how to keep values when it was imported; choose again now.
    from prometheus_client import values

    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]
    return directory


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def forget_dead_workers(directory: Path) -> list[int]:
    """Drop the live gauges (requests in flight, pool connections) of processes that are
    gone: a worker killed and replaced by its supervisor would otherwise count forever.
    Counters and histograms of dead workers stay: their totals only ever grow."""
    from prometheus_client import multiprocess

    dead: set[int] = set()
    for path in directory.glob("gauge_live*_*.db"):
        pid_text = path.stem.rsplit("_", 1)[-1]
        if pid_text.isdigit() and not _alive(int(pid_text)):
            dead.add(int(pid_text))
    for pid in dead:
        with contextlib.suppress(FileNotFoundError):  # another worker got there first
            multiprocess.mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]
    return sorted(dead)


@contextlib.contextmanager
def sharing(directory: Path) -> Iterator[None]:
    """This worker's part of the shared metrics while it serves.

    At start, the live gauges of workers that died are dropped. At a clean stop, in a
    directory this module made, the worker takes away its files and those of workers that
    died, and the last worker of the server the directory: a server's metrics live as long
    as it does (a directory the operator named is the operator's to empty, before the
    server starts).
    """
    forget_dead_workers(directory)
    try:
        yield
    finally:
        if directory.name.startswith(AUTOMATIC_PREFIX):
            for path in directory.glob("*_*.db"):
                pid = path.stem.rsplit("_", 1)[-1]
                if pid == str(os.getpid()) or (pid.isdigit() and not _alive(int(pid))):
                    path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):  # another worker's files are still there
                directory.rmdir()
