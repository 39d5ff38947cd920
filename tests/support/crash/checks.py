"""The crash run's verdict: what the receiver took in, against the client's writes and the
outbox the database kept. Each check returns the problems it found, as sentences.

- every event the outbox recorded arrived, and nothing else did (a change that rolled back
  has no row, so an event without one would be an invented or rolled-back change);
- an id always carries the same bytes, and one (task, sequence) has one id: duplicates are
  redeliveries of one event, never two events of one change;
- each task's sequences arrived as 1..n without a gap, n its counter (or its deletion's),
  and its last event carries the task as the API answers it now;
- each acknowledged write's resulting task arrived in an event of that task, each
  acknowledged delete as task.deleted; an event no acknowledged write explains needs a write
  whose answer was lost (one that may have committed);
- each seeded reminder that came due on a task nobody tried to complete or delete arrived,
  at its remind_at; none arrived for a task completed or deleted (acknowledged) before its
  moment; every reminder.due carries the task as it was, not completed, at its moment.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from backend.storage.database import Row
from generated.models import Task
from tests.support.crash.outbox_state import Pending
from tests.support.crash.writes import ACKNOWLEDGED, NOT_SENT, UNANSWERED, Reminder, Write
from tests.support.webhook_receiver import REFUSED_SIGNATURE, Attempt, Delivery

WRITE_EVENTS: Final = ("task.created", "task.updated", "task.completed", "task.deleted")
SHOWN_PROBLEMS: Final = 25
SHOWN_PER_CHECK: Final = 8


@dataclass(frozen=True)
class Observed:
    """Everything the checks read, gathered once the outbox had nothing pending."""

    reminders: list[Reminder]
    writes: list[Write]
    surprises: list[Write]
    deliveries: list[Delivery]
    attempts: list[Attempt]
    events: list[Row]
    """task_event rows, as recorded."""
    tasks: list[Row]
    """tasks rows left (id, user_id, event_sequence, ...)."""
    listed: dict[int, dict[str, Any]]
    """Every task the API lists now, by id (all owners of the run)."""
    pending: Pending
    delivery_states: dict[str, tuple[int, int]]


def canonical(task: dict[str, Any]) -> str:
    """A task's state as one string: the API's and an event's forms of the same task are
    equal here whatever their moments' spelling (`Z` or `+00:00`)."""
    return Task.model_validate(task).model_dump_json()


def moment(value: str) -> datetime:
    return datetime.fromisoformat(value)


class Received:
    """The receiver's deliveries by id, the first of each (they are checked identical)."""

    def __init__(self, deliveries: Iterable[Delivery]) -> None:
        self.by_id: dict[str, list[Delivery]] = defaultdict(list)
        for delivery in deliveries:
            self.by_id[delivery.webhook_id].append(delivery)
        self.payloads: dict[str, dict[str, Any]] = {
            webhook_id: copies[0].payload for webhook_id, copies in self.by_id.items()
        }
        self.by_task: dict[int, dict[int, list[dict[str, Any]]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for payload in self.payloads.values():
            data = payload["data"]
            self.by_task[data["task_id"]][data["sequence"]].append(payload)

    def of_task(self, task_id: int) -> list[dict[str, Any]]:
        """The task's events in sequence order (one per sequence where the ids are sound)."""
        return [
            payload
            for _, payloads in sorted(self.by_task.get(task_id, {}).items())
            for payload in payloads
        ]


def check_deliveries(observed: Observed, received: Received) -> list[str]:
    """Signatures held, duplicates are byte-identical, one id per (task, sequence)."""
    problems = []
    refused = [attempt for attempt in observed.attempts if attempt.fate == REFUSED_SIGNATURE]
    if refused:
        problems.append(f"{len(refused)} attempts failed signature verification")
    for webhook_id, copies in received.by_id.items():
        if len({copy.body for copy in copies}) > 1:
            problems.append(f"{webhook_id}: {len(copies)} deliveries with different bodies")
        if copies[0].payload["id"] != webhook_id:
            problems.append(f"{webhook_id}: the body's id is {copies[0].payload['id']}")
    for task_id, sequences in received.by_task.items():
        for sequence, payloads in sequences.items():
            if len(payloads) > 1:
                ids = sorted(payload["id"] for payload in payloads)
                problems.append(f"task {task_id} sequence {sequence} arrived under ids {ids}")
    return problems


def check_outbox(observed: Observed, received: Received) -> list[str]:
    """Every recorded event arrived, nothing unrecorded did, and the outbox is drained."""
    problems = []
    rows = {row["event_id"]: row for row in observed.events}
    for webhook_id, payload in received.payloads.items():
        row = rows.get(webhook_id)
        data = payload["data"]
        if row is None:
            problems.append(
                f"{webhook_id} ({payload['type']} of task {data['task_id']}) arrived "
                "but the outbox never recorded it"
            )
            continue
        stored = (row["type"], row["user_id"], row["task_id"], row["sequence"])
        sent = (payload["type"], data["user_id"], data["task_id"], data["sequence"])
        if stored != sent:
            problems.append(f"{webhook_id} arrived as {sent}, recorded as {stored}")
    missing = [row for event_id, row in rows.items() if event_id not in received.payloads]
    for row in missing[:SHOWN_PROBLEMS]:
        problems.append(
            f"{row['event_id']} ({row['type']} of task {row['task_id']} #{row['sequence']}, "
            f"recorded {row['recorded_at']}) never arrived"
        )
    if len(missing) > SHOWN_PROBLEMS:
        problems.append(f"... {len(missing)} recorded events never arrived in all")
    if not observed.pending.none:
        problems.append(f"the outbox still has work pending: {observed.pending}")
    failed = observed.delivery_states.get("failed")
    if failed:
        problems.append(f"{failed[0]} deliveries failed for good")
    return problems


def check_sequences(observed: Observed, received: Received) -> list[str]:
    """Per task: 1..n without a gap, and the last event is the task as it stands."""
    problems = []
    counters = {row["id"]: row["event_sequence"] for row in observed.tasks}
    deleted_at = {
        row["task_id"]: row["sequence"] for row in observed.events if row["type"] == "task.deleted"
    }
    if set(observed.listed) != set(counters):
        problems.append(
            f"the API lists {len(observed.listed)} tasks, the table holds {len(counters)}"
        )
    for task_id in sorted(set(counters) | set(received.by_task) | set(deleted_at)):
        last = counters.get(task_id, deleted_at.get(task_id))
        sequences = set(received.by_task.get(task_id, {}))
        expected = set(range(1, (last or 0) + 1))
        if not sequences and not expected:
            problems.append(f"task {task_id}: stored without a single event")
            continue
        if sequences != expected:
            problems.append(
                f"task {task_id}: sequences {sorted(sequences)[:20]} arrived, "
                f"1..{last} expected (missing {sorted(expected - sequences)[:10]}, "
                f"extra {sorted(sequences - expected)[:10]})"
            )
            continue
        final = received.of_task(task_id)[-1]
        if task_id in counters:
            now = observed.listed.get(task_id)
            if final["type"] == "task.deleted" or now is None:
                problems.append(f"task {task_id}: last event {final['type']}, but it is stored")
            elif canonical(final["data"]["task"]) != canonical(now):
                problems.append(f"task {task_id}: its last event's task is not the task now")
        elif final["type"] != "task.deleted":
            problems.append(f"task {task_id} is gone, its last event is {final['type']}")
    return problems


def check_writes(observed: Observed, received: Received) -> list[str]:
    """Acknowledged writes arrived; arrived write events are explained by some write."""
    problems = [_surprise(observed, received, write) for write in observed.surprises]
    states: dict[int, set[str]] = defaultdict(set)
    deleted: set[int] = set()
    for write in observed.writes:
        if write.outcome != ACKNOWLEDGED:
            continue
        if write.task is not None:
            states[write.task["id"]].add(canonical(write.task))
        elif write.operation == "delete" and write.task_id is not None:
            deleted.add(write.task_id)
    for task_id, acknowledged in states.items():
        arrived = {
            canonical(payload["data"]["task"])
            for payload in received.of_task(task_id)
            if "task" in payload["data"]
        }
        lost = acknowledged - arrived
        if lost:
            problems.append(f"task {task_id}: {len(lost)} acknowledged states never arrived")
    for task_id in sorted(deleted):
        kinds = [payload["type"] for payload in received.of_task(task_id)]
        if "task.deleted" not in kinds:
            problems.append(f"task {task_id}: an acknowledged delete never arrived")
    return problems + _unexplained(observed, received, states, deleted)


def _surprise(observed: Observed, received: Received, write: Write) -> str:
    """A write answered as it should not have been, with its task's history."""
    history = [
        f"{earlier.operation} {earlier.outcome} {earlier.status} "
        f"sent {earlier.sent_at:.3f} answered {earlier.answered_at:.3f}"
        for earlier in observed.writes
        if write.task_id is not None
        and (earlier.task_id == write.task_id or (earlier.task or {}).get("id") == write.task_id)
    ]
    events = [
        f"{payload['type']} #{payload['data']['sequence']}"
        for payload in received.of_task(write.task_id or 0)
    ]
    return (
        f"{write.owner} {write.operation} of task {write.task_id} answered {write.status} "
        f"at {write.answered_at:.3f}; its writes: {history}; its events: {events}"
    )


def _unexplained(
    observed: Observed, received: Received, states: dict[int, set[str]], deleted: set[int]
) -> list[str]:
    """Write events that no acknowledged write produced, beyond the writes whose answer was
    lost (each of which may have committed once)."""
    lost_answers: Counter[int] = Counter()
    lost_creates: Counter[str] = Counter()
    for write in observed.writes:
        if write.outcome == UNANSWERED:
            if write.task_id is None:
                lost_creates[write.owner] += 1
            else:
                lost_answers[write.task_id] += 1
    occurrences = {
        payload["data"]["task"]["next_occurrence_id"]
        for payload in received.payloads.values()
        if "task" in payload["data"] and payload["data"]["task"]["next_occurrence_id"]
    }
    unexplained_changes: Counter[int] = Counter()
    unexplained_creates: Counter[str] = Counter()
    for payload in received.payloads.values():
        data = payload["data"]
        task_id = data["task_id"]
        if payload["type"] == "task.created":
            if canonical(data["task"]) not in states.get(task_id, set()) and (
                task_id not in occurrences
            ):
                unexplained_creates[data["user_id"]] += 1
        elif payload["type"] == "task.deleted":
            if task_id not in deleted:
                unexplained_changes[task_id] += 1
        elif payload["type"] in WRITE_EVENTS and canonical(data["task"]) not in states.get(
            task_id, set()
        ):
            unexplained_changes[task_id] += 1
    problems = [
        f"task {task_id}: {count} changes arrived that no write explains "
        f"({lost_answers[task_id]} answers were lost)"
        for task_id, count in sorted(unexplained_changes.items())
        if count > lost_answers[task_id]
    ]
    problems += [
        f"{owner}: {count} tasks were created that no create explains "
        f"({lost_creates[owner]} answers were lost)"
        for owner, count in sorted(unexplained_creates.items())
        if count > lost_creates[owner]
    ]
    return problems


def check_reminders(observed: Observed, received: Received) -> list[str]:
    """Due reminders arrived at their moment; none for a task done before it."""
    problems = []
    touched: dict[int, list[Write]] = defaultdict(list)
    for write in observed.writes:
        if write.task_id is not None and write.outcome != NOT_SENT:
            touched[write.task_id].append(write)
    for reminder in observed.reminders:
        sent = [
            payload
            for payload in received.of_task(reminder.task_id)
            if payload["type"] == "reminder.due"
        ]
        if len(sent) > 1:
            problems.append(f"task {reminder.task_id}: {len(sent)} reminders for one moment")
        for payload in sent:
            if moment(payload["timestamp"]) != reminder.remind_at:
                problems.append(
                    f"task {reminder.task_id}: reminded for {payload['timestamp']}, "
                    f"its moment is {reminder.remind_at.isoformat()}"
                )
        writes = touched.get(reminder.task_id, [])
        ending = [w for w in writes if w.operation in ("complete", "delete")]
        if not ending and not sent:
            problems.append(
                f"task {reminder.task_id}: never completed nor deleted, its reminder "
                f"({reminder.remind_at.isoformat()}) never arrived"
            )
        done = [
            w
            for w in ending
            if w.outcome == ACKNOWLEDGED and w.answered_at < reminder.remind_at.timestamp()
        ]
        undone_later = [
            w
            for w in writes
            if w.operation == "uncomplete" and done and w.sent_at > done[0].sent_at
        ]
        if done and not undone_later and sent:
            problems.append(
                f"task {reminder.task_id}: {done[0].operation}d before its moment, yet reminded"
            )
    return problems + _reminder_snapshots(received)


def _reminder_snapshots(received: Received) -> list[str]:
    """A reminder.due carries the task as the event before it left it: not completed, due
    to be reminded at the event's moment."""
    problems = []
    for payload in received.payloads.values():
        if payload["type"] != "reminder.due":
            continue
        data = payload["data"]
        task = data["task"]
        if task["completed"] or task["remind_at"] is None:
            problems.append(f"{payload['id']}: a reminder of a completed or unreminded task")
        elif moment(task["remind_at"]) != moment(payload["timestamp"]):
            problems.append(
                f"{payload['id']}: sent for {payload['timestamp']}, task's moment "
                f"is {task['remind_at']}"
            )
        before = received.by_task[data["task_id"]].get(data["sequence"] - 1, [])
        previous = before[0]["data"].get("task") if before else None
        if previous is not None and canonical(previous) != canonical(task):
            problems.append(f"{payload['id']}: not the task as its previous event left it")
    return problems


CHECKS: Final = (
    check_deliveries,
    check_outbox,
    check_sequences,
    check_writes,
    check_reminders,
)


def verdict(observed: Observed) -> list[str]:
    """Every problem the checks found, each prefixed with its check's name; [] when the run
    kept every promise."""
    received = Received(observed.deliveries)
    return [
        f"{check.__name__.removeprefix('check_')}: {problem}"
        for check in CHECKS
        for problem in check(observed, received)
    ]


def summary(problems: list[str]) -> str:
    """The first few problems of each check, and how many each found."""
    by_check: dict[str, list[str]] = defaultdict(list)
    for problem in problems:
        by_check[problem.split(":", 1)[0]].append(problem)
    lines = []
    for check, found in by_check.items():
        lines.append(f"-- {check}: {len(found)} problem(s)")
        lines.extend(found[:SHOWN_PER_CHECK])
    return "\n".join(lines)
