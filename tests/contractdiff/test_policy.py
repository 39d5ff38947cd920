"""The version policy as plain values: bumps, next versions, and the verdict on changes."""

from __future__ import annotations

import pytest

from contractdiff import rules
from contractdiff.changes import Bump, Change, Rule
from contractdiff.policy import acknowledged_subjects, bump_between, judge, next_version
from speclang.changelog import ChangelogEntry
from speclang.markdown import Item


def change(rule: Rule, subject: str = "Task.description") -> Change:
    return Change(rule, "/p", "/p", subject, f"{subject}: {rule.code}")


def entry(version: str, *items: Item) -> ChangelogEntry:
    return ChangelogEntry(version, 10, ["What changed."], list(items))


def breaking_item(*names: str, text: str = "Breaking: removed") -> Item:
    return Item(12, text, text, list(names))


@pytest.mark.parametrize(
    ("bump", "expected"),
    [
        (Bump.MAJOR, "2.0.0"),
        (Bump.MINOR, "1.3.0"),
        (Bump.PATCH, "1.2.4"),
        (Bump.NONE, "1.2.3"),
    ],
)
def test_next_version(bump: Bump, expected: str) -> None:
    assert next_version("1.2.3", bump) == expected


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("1.2.3", "2.0.0", Bump.MAJOR),
        ("1.2.3", "1.3.0", Bump.MINOR),
        ("1.2.3", "1.2.4", Bump.PATCH),
        ("1.2.3", "1.2.3", Bump.NONE),
        ("1.2.3", "1.2.2", Bump.NONE),
        ("1.9.9", "1.10.0", Bump.MINOR),
        ("2.0.0", "1.9.9", Bump.NONE),
    ],
)
def test_bump_between(old: str, new: str, expected: Bump) -> None:
    assert bump_between(old, new) is expected


def test_only_breaking_bullets_acknowledge_their_code_spans() -> None:
    acknowledged = entry(
        "2.0.0",
        breaking_item("Task.description", "getTask"),
        breaking_item("other", text="BREAKING: renamed"),
        breaking_item("listTasks", text="Added a parameter; breaking: no"),
    )
    assert acknowledged_subjects(acknowledged) == {"Task.description", "getTask", "other"}


def test_a_break_needs_a_new_major_version() -> None:
    verdict = judge([change(rules.RESPONSE_FIELD_REMOVED)], "1.2.0", "1.3.0", [entry("1.3.0")])
    assert verdict.problems == [
        "1 breaking change(s) need a new major version: set the Info Version to 2.0.0 and "
        "name each change in a 'Breaking:' bullet of its changelog entry"
    ]
    assert verdict.required is Bump.MAJOR
    assert verdict.exit_code == 1


def test_a_break_needs_an_entry_naming_it() -> None:
    removed = [change(rules.RESPONSE_FIELD_REMOVED), change(rules.OPERATION_REMOVED, "getTask")]
    assert judge(removed, "1.2.0", "2.0.0", []).problems == [
        "the Changelog has no entry '### 2.0.0' naming the breaking change(s)"
    ]
    named_one = judge(removed, "1.2.0", "2.0.0", [entry("2.0.0", breaking_item("getTask"))])
    assert named_one.problems == [
        "the changelog entry 2.0.0 does not name `Task.description` in a 'Breaking:' bullet "
        "(Task.description: response-field-removed)"
    ]
    named_both = entry("2.0.0", breaking_item("getTask", "Task.description"))
    verdict = judge(removed, "1.2.0", "2.0.0", [entry("1.2.0"), named_both])
    assert (verdict.problems, verdict.notes, verdict.exit_code) == ([], [], 0)


def test_a_version_older_than_the_base_is_refused() -> None:
    verdict = judge([], "1.2.0", "1.1.9", [entry("1.1.9")])
    assert verdict.problems == ["Version 1.1.9 is older than the base's 1.2.0"]


def test_unreleased_changes_are_noted_with_the_release_they_need() -> None:
    verdict = judge([change(rules.PARAMETER_ADDED_OPTIONAL)], "1.2.0", "1.2.0", [])
    assert verdict.problems == []
    assert verdict.notes == [
        "unreleased changes since 1.2.0: the next release must be at least 1.3.0 (minor)"
    ]
    assert judge([], "1.2.0", "1.2.0", []).notes == []


def test_a_release_smaller_than_its_changes_need_is_refused() -> None:
    verdict = judge([change(rules.PARAMETER_ADDED_OPTIONAL)], "1.2.0", "1.2.1", [entry("1.2.1")])
    assert verdict.problems == [
        "1.2.1 is a patch release, but the changes need a minor one: 1.3.0 at least"
    ]


def test_a_release_needs_its_changelog_entry() -> None:
    verdict = judge([change(rules.DOCUMENTATION_CHANGED)], "1.2.0", "1.3.0", [entry("1.2.0")])
    assert verdict.problems == [
        "the Changelog has no entry '### 1.3.0' saying what changed for a client"
    ]
    assert (
        judge([change(rules.DOCUMENTATION_CHANGED)], "1.2.0", "1.2.1", [entry("1.2.1")]).problems
        == []
    )
    assert judge([], "1.2.0", "1.3.0", [entry("1.3.0")]).required is Bump.NONE


def named_item(*names: str) -> Item:
    return Item(12, "Warning: some clients", "Warning: some clients", list(names))


def test_a_release_names_each_change_that_breaks_some_clients() -> None:
    """A warning (here twice for one subject, at both generator settings) must be named in
    a code span of the release's entry; a compatible change need not be."""
    warned = [
        change(rules.RESPONSE_FIELD_ADDED_TO_CLOSED, "Task.priority"),
        change(rules.CLIENT_BREAKS_WITH_DEFAULT_SETTINGS, "TaskCreate.priority"),
        change(rules.CLIENT_BREAKS_WITH_DEFAULT_SETTINGS, "TaskCreate.priority"),
        change(rules.PARAMETER_ADDED_OPTIONAL, "listTasks"),
    ]
    unnamed = judge(warned, "1.0.0", "1.1.0", [entry("1.1.0", named_item("TaskCreate"))])
    assert unnamed.problems == [
        "the changelog entry 1.1.0 does not name `Task.priority`, which breaks some clients: "
        "say which, and what they do (Task.priority: response-field-added-to-closed)",
        "the changelog entry 1.1.0 does not name `TaskCreate.priority`, which breaks some "
        "clients: say which, and what they do (TaskCreate.priority: "
        "client-breaks-with-default-settings)",
    ]
    assert unnamed.exit_code == 1
    named = entry("1.1.0", named_item("Task.priority"), named_item("x", "TaskCreate.priority"))
    assert judge(warned, "1.0.0", "1.1.0", [named]).problems == []


def test_a_warning_may_be_named_by_any_release_since_the_base_but_not_before() -> None:
    warned = [change(rules.RESPONSE_FIELD_ADDED_TO_CLOSED, "Task.tags")]
    older = [entry("1.3.0"), entry("1.2.0", named_item("Task.tags")), entry("1.1.0")]
    assert judge(warned, "1.1.0", "1.3.0", older).problems == []
    assert judge(warned, "1.2.0", "1.3.0", older).problems == [
        "the changelog entry 1.3.0 does not name `Task.tags`, which breaks some clients: "
        "say which, and what they do (Task.tags: response-field-added-to-closed)"
    ]
    later = [entry("1.4.0", named_item("Task.tags")), entry("1.3.0")]
    assert len(judge(warned, "1.2.0", "1.3.0", later).problems) == 1


def test_an_unreleased_warning_is_not_yet_a_problem() -> None:
    warned = [change(rules.RESPONSE_FIELD_ADDED_TO_CLOSED, "Task.tags")]
    verdict = judge(warned, "1.2.0", "1.2.0", [entry("1.2.0")])
    assert verdict.problems == []
    assert verdict.notes == [
        "unreleased changes since 1.2.0: the next release must be at least 1.3.0 (minor)"
    ]
