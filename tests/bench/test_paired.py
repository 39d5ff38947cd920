"""Side by side: the schedule of the pairs, each batch's figure, and which tree each belongs to."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import ClassVar

import pytest

from bench import paired
from bench.paired import cheaper_half, measure_side_by_side, schedule

OPERATIONS = ("list", "get", "create")


def test_every_operation_is_paired_the_same_number_of_times_spread_over_the_rounds() -> None:
    order = schedule(OPERATIONS, 4)
    assert len(order) == 12
    for start in range(0, 12, 3):
        assert sorted(operation for operation, _ in order[start : start + 3]) == sorted(OPERATIONS)


def test_the_first_tree_of_a_pair_flips_every_round_and_the_operations_rotate() -> None:
    order = schedule(OPERATIONS, 4)
    assert [release_first for _, release_first in order] == [True] * 3 + [False] * 3 + [
        True
    ] * 3 + [False] * 3
    # A round's boundary, where a tree follows itself, falls on each operation in turn.
    assert [order[start][0] for start in range(0, 12, 3)] == ["list", "get", "create", "list"]


def test_within_a_round_each_batch_follows_the_other_trees() -> None:
    for round_start in range(0, 12, 3):
        trees = []
        for _, release_first in schedule(OPERATIONS, 4)[round_start : round_start + 3]:
            trees += ["release", "now"] if release_first else ["now", "release"]
        assert all(first != second for first, second in itertools.pairwise(trees))


def test_a_batch_is_the_mean_of_its_cheaper_half_in_microseconds() -> None:
    # Two requests a burst slowed, two not: the figure is the undisturbed pair's.
    assert cheaper_half([0.0009, 0.0003, 0.0002, 0.0012]) == pytest.approx(250.0)
    assert cheaper_half([0.0004, 0.0002, 0.0003]) == pytest.approx(200.0)  # odd: the cheaper
    assert cheaper_half([0.0005]) == pytest.approx(500.0)


class FakeServed:
    """Stands for a tree's process: each request of its tree costs a fixed CPU time."""

    calls: ClassVar[list[tuple[str, str, int]]] = []
    cost: ClassVar[dict[str, float]] = {"release": 0.000100, "now": 0.000115}

    def __init__(
        self,
        tree: Path,
        database_url: str,
        operations: Sequence[str],
        log: Path,
        environment: Mapping[str, str] | None = None,
    ) -> None:
        self.name = tree.name
        self.operations = operations
        self.closed = False

    def ready(self) -> None:
        FakeServed.calls.append((self.name, "ready", 0))

    def batch(self, operation: str, requests: int) -> list[float]:
        assert operation in self.operations
        FakeServed.calls.append((self.name, operation, requests))
        return [self.cost[self.name]] * requests

    def close(self) -> None:
        FakeServed.calls.append((self.name, "close", 0))


def test_each_trees_batches_are_recorded_as_its_own_pair_by_pair(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    FakeServed.calls = []
    monkeypatch.setattr(paired, "Served", FakeServed)
    measured = measure_side_by_side(
        (tmp_path / "release", tmp_path / "now"),
        ("sqlite:///release", "sqlite:///now"),
        ["list", "get"],
        pairs=3,
        batch=10,
        warmup=5,
        logs=tmp_path,
        progress=lambda _: None,
    )
    assert measured["list"].release == pytest.approx([100.0] * 3)
    assert measured["list"].now == pytest.approx([115.0] * 3)
    assert measured["get"].now == pytest.approx([115.0] * 3)
    warmups = [call for call in FakeServed.calls if call[2] == 5]
    assert len(warmups) == 4  # every operation in both processes, before any measured batch
    measured_calls = [call for call in FakeServed.calls if call[2] == 10]
    assert [name for name, _, _ in measured_calls[:4]] == ["release", "now", "release", "now"]
    assert [name for name, _, _ in measured_calls[4:8]] == ["now", "release", "now", "release"]
    assert FakeServed.calls[-2:] == [("now", "close", 0), ("release", "close", 0)]
