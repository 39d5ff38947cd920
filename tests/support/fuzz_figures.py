"""The contract fuzzing figures: requests checked and failing, per run, database and operation.

`tests/contract/` counts into `FIGURES` while its tests run (in the one process, or in each
pytest-xdist worker); the root conftest prints the table at the end of the session, after
the workers handed over their counts (`tests/support/worker_figures.py`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

HANDOVER = "contract figures"

Key = tuple[str, str, str]


@dataclass
class Figures:
    """Examples sent and failing examples, per (run, database, operation)."""

    examples: Counter[Key] = field(default_factory=Counter)
    failures: Counter[Key] = field(default_factory=Counter)
    # Generated requests that are not valid HTTP/1.1, not sent (see frames_the_body).
    set_aside: Counter[Key] = field(default_factory=Counter)
    # The fuzzing profile and its seed, set by the suite's conftest where the tests run.
    profile: str = ""

    def handed_over(self) -> list[tuple[Any, ...]]:
        """The counts as rows a worker hands to the controller; the first row is the profile."""
        rows: list[tuple[Any, ...]] = [("profile", self.profile)]
        for key in self.examples:
            rows.append((*key, self.examples[key], self.failures[key], self.set_aside[key]))
        return rows if self.examples else []

    def add(self, rows: Iterable[Sequence[Any]]) -> None:
        """Counts a worker handed over, added to this process's."""
        for row in rows:
            if row[0] == "profile":
                self.profile = str(row[1])
                continue
            run, database, operation, examples, failures, set_aside = row
            key = (str(run), str(database), str(operation))
            self.examples[key] += int(examples)
            self.failures[key] += int(failures)
            self.set_aside[key] += int(set_aside)

    def write_summary(self, terminalreporter: Any) -> None:
        """The table, when any example was sent."""
        if not self.examples:
            return
        write = terminalreporter.write_line
        write("")
        write(f"contract fuzzing figures ({self.profile}; examples = requests checked)")
        header = f"{'run':<14} {'database':<9} {'operation':<58} {'examples':>9} {'failures':>9}"
        write(f"{header} {'not HTTP':>9}")
        for key in sorted(self.examples):
            run, database, operation = key
            examples, failures = self.examples[key], self.failures[key]
            line = f"{run:<14} {database:<9} {operation:<58} {examples:>9} {failures:>9}"
            write(f"{line} {self.set_aside[key]:>9}")


FIGURES = Figures()
