"""The figure table counts each case once, in one row per group and database."""

from __future__ import annotations

import pytest

from tests.security import conftest


def test_a_group_of_two_modules_is_one_row_per_database(monkeypatch: pytest.MonkeyPatch) -> None:
    group = conftest.GROUPS["test_lost_responses"]
    assert group == conftest.GROUPS["test_database_faults"]
    cases = {
        "tests/security/test_database_faults.py::outage[sqlite]": conftest._Case(
            group, "sqlite", "skipped"
        ),
        "tests/security/test_lost_responses.py::retries[sqlite]": conftest._Case(
            group, "sqlite", "passed"
        ),
        "tests/security/test_lost_responses.py::retries[postgres]": conftest._Case(
            group, "postgres", "passed"
        ),
    }
    monkeypatch.setattr(conftest, "_cases", cases)
    table = conftest.figure_table()
    cells = [[cell.strip() for cell in line.strip("|").split("|")] for line in table]
    assert [row for row in cells if row[0] == group] == [
        [group, "postgres", "1", "1", "0", "0"],
        [group, "sqlite", "2", "1", "0", "1"],
    ]
    assert cells[-1] == ["Total", "", "3", "2", "0", "1"]
