"""The one exception of the spec's language: what is wrong, at which line of the spec."""

from __future__ import annotations


class SpecError(Exception):
    """A problem in the spec, tied to the line that has it."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message
