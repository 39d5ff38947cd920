"""The figure table counts each case once, in one row per group and database."""

from __future__ import annotations

import pytest

from tests.support import security_figures


def test_a_group_of_two_modules_is_one_row_per_database(monkeypatch: pytest.MonkeyPatch) -> None:
    group = security_figures.GROUPS["test_lost_responses"]
    assert group == security_figures.GROUPS["test_database_faults"]
    cases = {
        "tests/security/test_database_faults.py::outage[sqlite]": security_figures.Case(
            group, "sqlite", "skipped"
        ),
        "tests/security/test_lost_responses.py::retries[sqlite]": security_figures.Case(
            group, "sqlite", "passed"
        ),
        "tests/security/test_lost_responses.py::retries[postgres]": security_figures.Case(
            group, "postgres", "passed"
        ),
    }
    monkeypatch.setattr(security_figures, "cases", cases)
    table = security_figures.figure_table()
    cells = [[cell.strip() for cell in line.strip("|").split("|")] for line in table]
    assert [row for row in cells if row[0] == group] == [
        [group, "postgres", "1", "1", "0", "0"],
        [group, "sqlite", "2", "1", "0", "1"],
    ]
    assert cells[-1] == ["Total", "", "3", "2", "0", "1"]
