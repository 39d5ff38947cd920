"""The version policy: a break needs a new major version and a changelog entry that names it;
a change that breaks only some clients (a warning) needs its release's entry to name it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from contractdiff.changes import Bump, Change, Severity
from speclang.changelog import ChangelogEntry, version_key

BREAKING_PREFIX = "breaking:"


@dataclass
class Verdict:
    """What the changes mean for the version: the least bump, and what the spec still lacks."""

    required: Bump
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.problems else 0


def next_version(version: str, bump: Bump) -> str:
    major, minor, patch = version_key(version)
    if bump is Bump.MAJOR:
        return f"{major + 1}.0.0"
    if bump is Bump.MINOR:
        return f"{major}.{minor + 1}.0"
    if bump is Bump.PATCH:
        return f"{major}.{minor}.{patch + 1}"
    return version


def bump_between(old: str, new: str) -> Bump:
    (old_major, old_minor, old_patch), (major, minor, patch) = version_key(old), version_key(new)
    if major > old_major:
        return Bump.MAJOR
    if (major, minor) > (old_major, old_minor):
        return Bump.MINOR
    if (major, minor, patch) > (old_major, old_minor, old_patch):
        return Bump.PATCH
    return Bump.NONE


def acknowledged_subjects(entry: ChangelogEntry) -> set[str]:
    """The names in code spans of the entry's `Breaking:` bullets."""
    return {
        name
        for item in entry.items
        if item.text.lower().startswith(BREAKING_PREFIX)
        for name in item.code
    }


def judge(
    changes: Sequence[Change],
    base_version: str,
    version: str,
    changelog: Sequence[ChangelogEntry],
) -> Verdict:
    """Hold the changes from `base_version` to the spec's `version` to the policy."""
    required = max((change.rule.bump for change in changes), default=Bump.NONE)
    verdict = Verdict(required)
    entry = next((e for e in changelog if e.version == version), None)
    step = bump_between(base_version, version)
    if version_key(version) < version_key(base_version):
        verdict.problems.append(f"Version {version} is older than the base's {base_version}")
        return verdict
    breaking = [change for change in changes if change.severity is Severity.BREAKING]
    if breaking:
        if step is not Bump.MAJOR:
            verdict.problems.append(
                f"{len(breaking)} breaking change(s) need a new major version: set the Info "
                f"Version to {next_version(base_version, Bump.MAJOR)} and name each change in a "
                f"'Breaking:' bullet of its changelog entry"
            )
            return verdict
        if entry is None:
            verdict.problems.append(
                f"the Changelog has no entry '### {version}' naming the breaking change(s)"
            )
            return verdict
        named = acknowledged_subjects(entry)
        for change in breaking:
            if change.subject not in named:
                verdict.problems.append(
                    f"the changelog entry {version} does not name `{change.subject}` in a "
                    f"'Breaking:' bullet ({change.message})"
                )
        return verdict
    if step is Bump.NONE:
        if required is not Bump.NONE:
            verdict.notes.append(
                f"unreleased changes since {base_version}: the next release must be at least "
                f"{next_version(base_version, required)} ({required.name.lower()})"
            )
        return verdict
    if step < required:
        verdict.problems.append(
            f"{version} is a {step.name.lower()} release, but the changes need a "
            f"{required.name.lower()} one: {next_version(base_version, required)} at least"
        )
    if entry is None:
        verdict.problems.append(
            f"the Changelog has no entry '### {version}' saying what changed for a client"
        )
        return verdict
    # Named in this release's entry or in any entry since the base (comparing with an older
    # release spans several).
    named = {
        name
        for since in changelog
        if version_key(base_version) < version_key(since.version) <= version_key(version)
        for item in since.items
        for name in item.code
    }
    unnamed = {
        change.subject: change
        for change in changes
        if change.severity is Severity.WARNING and change.subject not in named
    }
    for subject, change in unnamed.items():
        verdict.problems.append(
            f"the changelog entry {version} does not name `{subject}`, which breaks some "
            f"clients: say which, and what they do ({change.message})"
        )
    return verdict
