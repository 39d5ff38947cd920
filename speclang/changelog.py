"""The spec's Changelog section and the semantic versions it is keyed by."""

from __future__ import annotations

import re
from dataclasses import dataclass

from speclang.errors import SpecError
from speclang.markdown import Item, Section

SEMANTIC_VERSION = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")


@dataclass(frozen=True)
class ChangelogEntry:
    """One `### X.Y.Z` entry of the spec's Changelog: what that version changed for a client."""

    version: str
    line: int
    paragraphs: list[str]
    items: list[Item]


def version_key(version: str) -> tuple[int, int, int]:
    major, minor, patch = (int(part) for part in version.split("."))
    return major, minor, patch


def read_changelog(section: Section, version: str) -> list[ChangelogEntry]:
    """The `### X.Y.Z` entries under `## Changelog`, newest first, none newer than `version`."""
    for table in section.tables:
        raise SpecError(table.line, "the Changelog holds entries (### X.Y.Z), not tables")
    for item in section.items:
        raise SpecError(item.line, "a changelog list belongs under a version's ### heading")
    entries: list[ChangelogEntry] = []
    for child in section.children:
        if SEMANTIC_VERSION.fullmatch(child.title) is None:
            raise SpecError(
                child.line, f"changelog heading '{child.title}' is not a version MAJOR.MINOR.PATCH"
            )
        for table in child.tables:
            raise SpecError(table.line, f"changelog entry {child.title} holds a table")
        for grandchild in child.children:
            raise SpecError(grandchild.line, f"changelog entry {child.title} has a sub-heading")
        if not child.paragraphs and not child.items:
            raise SpecError(child.line, f"changelog entry {child.title} says nothing")
        if entries and version_key(child.title) >= version_key(entries[-1].version):
            raise SpecError(
                child.line,
                f"changelog entry {child.title} comes after {entries[-1].version}: "
                "entries go newest first, one per version",
            )
        if version_key(child.title) > version_key(version):
            raise SpecError(
                child.line,
                f"changelog entry {child.title} is newer than the Info version {version}",
            )
        entries.append(ChangelogEntry(child.title, child.line, child.paragraphs, child.items))
    return entries


def render_changelog(section: Section, entries: list[ChangelogEntry]) -> str:
    """The Changelog as Markdown for `info.description`, where /docs and /redoc show it."""
    blocks = ["## Changelog", *section.paragraphs]
    for entry in entries:
        blocks.append(f"### {entry.version}")
        blocks.extend(entry.paragraphs)
        if entry.items:
            blocks.append("\n".join(f"- {item.source}" for item in entry.items))
    return "\n\n".join(blocks)
