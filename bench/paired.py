"""Two trees measured side by side: short batches of requests alternated between two processes.

Each tree's app runs in a process of its own (bench.inprocess `Served`), both alive at once,
each on its own new database, driven by the same code. The batches alternate between them,
tens of milliseconds each, so the two batches of a pair meet the same load of the machine:
another process on a shared core slows both, and a burst that falls on one batch spoils one
pair among dozens, not a whole run of one tree. The pairs of each operation are spread over
the whole measurement, between those of the others.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from bench.inprocess import Served


@dataclass
class Batches:
    """One operation's pairs of batches: each batch's `cheaper_half`, pair by pair."""

    release: list[float] = field(default_factory=list)
    now: list[float] = field(default_factory=list)


def cheaper_half(seconds: Sequence[float]) -> float:
    """CPU microseconds per request of the cheaper half of a batch's requests.

    The machine's other work only ever adds to a request's CPU time (a switch evicts the
    process's caches, a shared core runs slower), and within a batch it falls on some
    requests and not others; the cheaper half of the batch is its requests' own cost. A
    cost that every request pays moves it whole; one that falls on fewer than half of the
    requests (a cache refilled every hundred requests) is not seen here.
    """
    cheapest = sorted(seconds)[: max(1, len(seconds) // 2)]
    return sum(cheapest) / len(cheapest) * 1e6


def schedule(operations: Sequence[str], pairs: int) -> list[tuple[str, bool]]:
    """The pairs in turn: (operation, whether the release's batch comes first).

    Each round measures every operation once, and within a round the trees alternate batch
    by batch, so a batch follows the other tree's (whose work left the caches cold for it).
    The order of the trees flips every round and the operations rotate, so neither tree is
    always first of its pair, and the round's boundary, where a tree follows itself, falls
    on each operation in turn.
    """
    order: list[tuple[str, bool]] = []
    for round_number in range(pairs):
        shift = round_number % len(operations)
        rotated = [*operations[shift:], *operations[:shift]]
        order += [(operation, round_number % 2 == 0) for operation in rotated]
    return order


def measure_side_by_side(
    trees: tuple[Path, Path],
    database_urls: tuple[str, str],
    operations: Sequence[str],
    *,
    pairs: int,
    batch: int,
    warmup: int,
    logs: Path,
    progress: Callable[[str], None] = print,
    environments: tuple[Mapping[str, str], Mapping[str, str]] = ({}, {}),
) -> dict[str, Batches]:
    """`pairs` pairs of `batch` requests of each operation: the release's tree and this one
    (or one tree in two `environments`: its settings differ, the code does not).

    Each process first answers `warmup` requests of every operation, unmeasured.
    """
    with ExitStack() as stack:
        release = Served(
            trees[0], database_urls[0], operations, logs / "release.log", environments[0]
        )
        stack.callback(release.close)
        now = Served(trees[1], database_urls[1], operations, logs / "now.log", environments[1])
        stack.callback(now.close)
        release.ready()
        now.ready()
        for operation in operations:
            release.batch(operation, warmup)
            now.batch(operation, warmup)
        measured = {operation: Batches() for operation in operations}
        order = schedule(operations, pairs)
        for number, (operation, release_first) in enumerate(order, start=1):
            if release_first:
                release_seconds = release.batch(operation, batch)
                now_seconds = now.batch(operation, batch)
            else:
                now_seconds = now.batch(operation, batch)
                release_seconds = release.batch(operation, batch)
            measured[operation].release.append(cheaper_half(release_seconds))
            measured[operation].now.append(cheaper_half(now_seconds))
            if number % max(1, len(order) // 4) == 0:
                progress(f"-- {number}/{len(order)} pairs measured")
        return measured
