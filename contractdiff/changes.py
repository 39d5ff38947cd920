"""What a change between two contracts is: its class, the version it needs, where it is."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Severity(enum.Enum):
    """How a change affects clients generated from the old contract."""

    BREAKING = "breaking"  # an existing caller or generated client can fail
    WARNING = "warning"  # breaks only some clients (strict validators, exhaustive switches)
    COMPATIBLE = "compatible"  # cannot break a client

    @property
    def rank(self) -> int:
        return {Severity.COMPATIBLE: 0, Severity.WARNING: 1, Severity.BREAKING: 2}[self]


class Bump(enum.IntEnum):
    """The least semantic-version step a release holding the change needs."""

    NONE = 0
    PATCH = 1
    MINOR = 2
    MAJOR = 3


@dataclass(frozen=True)
class Rule:
    """One line of the rule table (docs/CONTRACT-CHANGES.md): a kind of change and its class."""

    code: str
    severity: Severity
    bump: Bump


@dataclass(frozen=True)
class Change:
    """One difference between the base and the new contract."""

    rule: Rule
    pointer: str  # where it is: into the new document, or into the base for a removal
    anchor: str  # the nearest part that exists in the new document (for the spec line)
    subject: str  # what a changelog entry names it by: `Task.description`, `createTask`
    message: str

    @property
    def severity(self) -> Severity:
        return self.rule.severity
