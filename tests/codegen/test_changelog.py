"""The spec's Changelog section read and rendered on its own: entries, order, errors."""

from __future__ import annotations

import pytest

from speclang.changelog import read_changelog, render_changelog, version_key
from speclang.errors import SpecError
from speclang.markdown import Section, read_sections

CHANGELOG = """\
## Changelog

Each version, newest first.

### 1.10.0

Search.

- Added `q`.
- Breaking: none

### 1.2.0

- Tags.

### 1.0.0

The first release.
"""


def changelog(text: str) -> Section:
    section = read_sections(text).child("Changelog")
    assert section is not None
    return section


def test_entries_are_read_newest_first_with_their_lines() -> None:
    entries = read_changelog(changelog(CHANGELOG), "1.10.0")
    assert [(entry.version, entry.line) for entry in entries] == [
        ("1.10.0", 5),
        ("1.2.0", 12),
        ("1.0.0", 16),
    ]
    assert entries[0].paragraphs == ["Search."]
    assert [item.text for item in entries[0].items] == ["Added q.", "Breaking: none"]
    assert entries[2].items == []


def test_the_rendered_changelog_keeps_paragraphs_and_bullets() -> None:
    section = changelog(CHANGELOG)
    assert render_changelog(section, read_changelog(section, "1.10.0")) == (
        "## Changelog\n\nEach version, newest first.\n\n### 1.10.0\n\nSearch.\n\n"
        "- Added `q`.\n- Breaking: none\n\n### 1.2.0\n\n- Tags.\n\n### 1.0.0\n\nThe first release."
    )


def test_version_keys_compare_numerically() -> None:
    assert version_key("1.10.0") == (1, 10, 0)
    assert version_key("1.10.0") > version_key("1.9.9")


@pytest.mark.parametrize(
    ("text", "version", "line", "message"),
    [
        (
            "## Changelog\n\n| a |\n|---|\n| b |\n",
            "1.0.0",
            3,
            "the Changelog holds entries (### X.Y.Z), not tables",
        ),
        (
            "## Changelog\n\n- loose\n",
            "1.0.0",
            3,
            "a changelog list belongs under a version's ### heading",
        ),
        (
            "## Changelog\n\n### 1.0\n\nx\n",
            "1.0.0",
            3,
            "changelog heading '1.0' is not a version MAJOR.MINOR.PATCH",
        ),
        (
            "## Changelog\n\n### v1.0.0\n\nx\n",
            "1.0.0",
            3,
            "changelog heading 'v1.0.0' is not a version MAJOR.MINOR.PATCH",
        ),
        (
            "## Changelog\n\n### 1.0.0\n\n| a |\n|---|\n| b |\n",
            "1.0.0",
            5,
            "changelog entry 1.0.0 holds a table",
        ),
        (
            "## Changelog\n\n### 1.0.0\n\nx\n\n#### Details\n\ny\n",
            "1.0.0",
            7,
            "changelog entry 1.0.0 has a sub-heading",
        ),
        ("## Changelog\n\n### 1.0.0\n", "1.0.0", 3, "changelog entry 1.0.0 says nothing"),
        (
            "## Changelog\n\n### 1.0.0\n\nx\n\n### 1.1.0\n\ny\n",
            "1.1.0",
            7,
            "changelog entry 1.1.0 comes after 1.0.0: entries go newest first, one per version",
        ),
        (
            "## Changelog\n\n### 1.0.0\n\nx\n\n### 1.0.0\n\ny\n",
            "1.0.0",
            7,
            "changelog entry 1.0.0 comes after 1.0.0: entries go newest first, one per version",
        ),
        (
            "## Changelog\n\n### 1.1.0\n\nx\n",
            "1.0.0",
            3,
            "changelog entry 1.1.0 is newer than the Info version 1.0.0",
        ),
    ],
)
def test_a_malformed_changelog_names_the_line(
    text: str, version: str, line: int, message: str
) -> None:
    with pytest.raises(SpecError) as raised:
        read_changelog(changelog(text), version)
    assert (raised.value.line, raised.value.message) == (line, message)


def test_an_entry_of_bullets_alone_and_the_info_version_itself_are_accepted() -> None:
    entries = read_changelog(changelog("## Changelog\n\n### 1.0.0\n\n- only a bullet\n"), "1.0.0")
    assert [entry.version for entry in entries] == ["1.0.0"]
