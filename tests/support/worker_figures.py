"""Figures counted in pytest-xdist's worker processes, summed where the summary is printed.

Under `pytest -n N` the tests run in worker processes and the terminal summary is written by
the controller, which ran none of them: a suite's figures (counters filled while its tests
run) would print empty. Each worker hands its rows to the controller when it finishes
(xdist's `workeroutput`); the controller adds them to its own. Without xdist the rows never
leave the process and nothing changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

Row = tuple[str, ...]


def is_worker(config: pytest.Config) -> bool:
    """Whether this process is an xdist worker (it has a `workeroutput` to fill)."""
    return hasattr(config, "workeroutput")


def hand_over(config: pytest.Config, name: str, rows: Sequence[Sequence[Any]]) -> None:
    """In a worker: send `rows` (tuples of str and int) to the controller under `name`."""
    if is_worker(config):
        output: dict[str, Any] = config.workeroutput  # type: ignore[attr-defined]
        output[name] = [list(row) for row in rows]


def received(node: Any, name: str) -> list[list[Any]]:
    """In the controller, from `pytest_testnodedown`: the rows a worker handed over."""
    output: dict[str, Any] = getattr(node, "workeroutput", {}) or {}
    rows: list[list[Any]] = output.get(name, [])
    return rows
