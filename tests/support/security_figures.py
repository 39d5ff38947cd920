"""The security suite's figure table: tried, passed, failed and skipped cases per group.

`tests/security/conftest.py` records each case as it is collected and reported (in the one
process, or in each pytest-xdist worker); the root conftest prints the table at the end of
the session, after the workers handed over their cases (`tests/support/worker_figures.py`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

GROUPS = {
    "test_tokens": "1. Forged and broken tokens",
    "test_cross_user": "2. Cross-user matrix",
    "test_property_authorization": "3. Property-level authorization",
    "test_hostile_input": "4. Hostile input",
    "test_concurrency": "5. Concurrency",
    "test_database_faults": "6. Database faults",
    "test_lost_responses": "6. Database faults",
    "test_statement_timeout": "6. Database faults",
    "test_logs": "7. Logs",
    "test_log_redaction": "7. Logs",
}
ANY_DATABASE = "-"
OUTCOMES = ("passed", "failed", "skipped")
HANDOVER = "security cases"


@dataclass
class Case:
    group: str
    database: str
    outcome: str | None = None
    """None until a phase of the case reports (cases left unrun by -x are not counted)."""


cases: dict[str, Case] = {}


def _group_of(nodeid: str) -> str | None:
    module = Path(nodeid.split("::", 1)[0]).stem
    if Path(nodeid.split("::", 1)[0]).parent.name != "security":
        return None
    return GROUPS.get(module)


def record_collected(items: Iterable[pytest.Item]) -> None:
    """Each collected case of a group, with the database it runs on."""
    for item in items:
        group = _group_of(item.nodeid)
        if group is None:
            continue
        callspec = getattr(item, "callspec", None)
        params: dict[str, Any] = callspec.params if callspec is not None else {}
        database = params.get("database_url", ANY_DATABASE)
        cases[item.nodeid] = Case(group, str(database))


def record_report(report: pytest.TestReport) -> None:
    """A case is failed if any phase failed, skipped if skipped (xfail included), else passed."""
    case = cases.get(report.nodeid)
    if case is None:
        return
    if report.failed:
        case.outcome = "failed"
    elif report.skipped and case.outcome != "failed":
        case.outcome = "skipped"
    elif report.when == "call" and case.outcome is None:
        case.outcome = "passed"


def handed_over() -> list[tuple[str, str, str, str]]:
    """The cases that reported, as rows a worker hands to the controller."""
    return [
        (nodeid, case.group, case.database, case.outcome)
        for nodeid, case in cases.items()
        if case.outcome is not None
    ]


def add(rows: Iterable[Sequence[str]]) -> None:
    """Cases a worker handed over, added to this process's."""
    for nodeid, group, database, outcome in rows:
        cases[nodeid] = Case(group, database, outcome)


def figure_table() -> list[str]:
    """The per-group, per-database counts of the cases collected in this session."""
    counts: Counter[tuple[str, str, str]] = Counter()
    for case in cases.values():
        if case.outcome is None:
            continue
        counts[case.group, case.database, case.outcome] += 1
    rows = sorted({(group, database) for group, database, _ in counts})
    header = f"| {'Group':<34} | {'Database':<8} | Tried | Passed | Failed | Skipped |"
    rule = "|" + "|".join("-" * len(cell) for cell in header.split("|")[1:-1]) + "|"
    lines = [header, rule]
    totals: Counter[str] = Counter()
    for group in dict.fromkeys(GROUPS.values()):  # each group once, in order
        group_rows = [row for row in rows if row[0] == group]
        if not group_rows:
            lines.append(f"| {group:<34} | {ANY_DATABASE:<8} |     0 |      0 |      0 |       0 |")
            continue
        for _, database in group_rows:
            figures = [counts[group, database, outcome] for outcome in OUTCOMES]
            for outcome, figure in zip(OUTCOMES, figures, strict=True):
                totals[outcome] += figure
            lines.append(
                f"| {group:<34} | {database:<8} | {sum(figures):>5} | {figures[0]:>6} "
                f"| {figures[1]:>6} | {figures[2]:>7} |"
            )
    figures = [totals[outcome] for outcome in OUTCOMES]
    lines.append(
        f"| {'Total':<34} | {'':<8} | {sum(figures):>5} | {figures[0]:>6} "
        f"| {figures[1]:>6} | {figures[2]:>7} |"
    )
    return lines


def write_summary(terminalreporter: Any) -> None:
    """The table, when any security case reported."""
    if not any(case.outcome is not None for case in cases.values()):
        return
    terminalreporter.section("security suite figures")
    for line in figure_table():
        terminalreporter.write_line(line)
