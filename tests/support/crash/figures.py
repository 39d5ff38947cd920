"""The crash run's figures: what was written, killed, recorded, attempted and delivered, how
long the outbox took to drain, and how late the reminders arrived. Figures, not verdicts:
the checks (checks.py) judge; these say how hard the run pushed and how it went."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from tests.support.crash.checks import Observed


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (share 0.99 for p99); NaN of nothing."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


@dataclass(frozen=True)
class Lateness:
    """Seconds from each reminder's remind_at to its arrival at the receiver."""

    seconds: list[float]

    def line(self) -> str:
        values = self.seconds
        if not values:
            return "none"
        parts = [
            f"p{round(share * 100)} {percentile(values, share):.2f}" for share in (0.5, 0.95, 0.99)
        ]
        return f"{', '.join(parts)}, max {max(values):.2f} s ({len(values):,} reminders)"


@dataclass
class Timeline:
    """Moments of the run (epoch seconds), and the kills as the servers counted them."""

    started: float
    seeded: float
    first_moment: float
    last_moment: float
    writes_ended: float
    settled: float
    drained: float
    kills: list[int] = field(default_factory=list)
    """Kills per server process."""
    restart_seconds: list[float] = field(default_factory=list)


def lateness(observed: Observed) -> tuple[Lateness, Lateness]:
    """Each reminder.due's lateness at its first attempt, and at its first delivery taken
    in (after the failures a faulty receiver answered)."""
    first_attempt: dict[str, float] = {}
    for attempt in observed.attempts:
        first_attempt.setdefault(attempt.webhook_id, attempt.arrived_at)
    first_taken: dict[str, float] = {}
    for delivery in observed.deliveries:
        first_taken.setdefault(delivery.webhook_id, delivery.arrived_at)
    attempted, taken = [], []
    for delivery in observed.deliveries:
        payload = delivery.payload
        if payload["type"] != "reminder.due" or delivery.arrived_at != first_taken[payload["id"]]:
            continue
        due = datetime.fromisoformat(payload["timestamp"]).timestamp()
        attempted.append(first_attempt[payload["id"]] - due)
        taken.append(delivery.arrived_at - due)
    return Lateness(attempted), Lateness(taken)


def figure_lines(title: str, observed: Observed, timeline: Timeline) -> list[str]:
    """The figures as lines of text, for a test's output and the benchmark's."""
    outcomes = Counter(write.outcome for write in observed.writes)
    events = Counter(row["type"] for row in observed.events)
    fates = Counter(attempt.fate for attempt in observed.attempts)
    distinct = len({delivery.webhook_id for delivery in observed.deliveries})
    recorded_attempts = sum(attempts for _, attempts in observed.delivery_states.values())
    at_first, at_delivery = lateness(observed)
    restarts = timeline.restart_seconds
    start = timeline.started
    return [
        f"== {title}",
        f"reminders seeded: {len(observed.reminders):,}, due from "
        f"{timeline.first_moment - start:.0f} s to {timeline.last_moment - start:.0f} s "
        f"(seeding ended at {timeline.seeded - start:.0f} s)",
        f"writes: {len(observed.writes):,} ("
        + ", ".join(f"{count:,} {outcome}" for outcome, count in sorted(outcomes.items()))
        + ")",
        f"kills: {sum(timeline.kills)} ({' + '.join(map(str, timeline.kills))} per process), "
        + (
            f"restart to serving {min(restarts):.1f} to {max(restarts):.1f} s"
            if restarts
            else "no restart"
        ),
        f"events recorded: {sum(events.values()):,} ("
        + ", ".join(f"{count:,} {kind}" for kind, count in sorted(events.items()))
        + ")",
        f"deliveries taken in: {len(observed.deliveries):,} of {distinct:,} ids "
        f"({len(observed.deliveries) - distinct:,} duplicates, same id)",
        f"attempts at the receiver: {len(observed.attempts):,} ("
        + ", ".join(f"{count:,} {fate}" for fate, count in sorted(fates.items()))
        + f"); recorded by the relays: {recorded_attempts:,}",
        f"drained {timeline.drained - timeline.settled:.1f} s after the writes and kills ended "
        f"({timeline.drained - timeline.last_moment:.1f} s after the last reminder's moment)",
        f"reminder lateness, first attempt: {at_first.line()}",
        f"reminder lateness, delivered: {at_delivery.line()}",
        f"run: {timeline.drained - start:.0f} s to drained",
    ]
