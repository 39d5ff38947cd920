"""The gate through its command line: the version policy, the changelog, releases, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import codegen
from tests.support.contract_repository import Repository, git
from tests.support.skips import skip_or_fail

CODEGEN = str(codegen.ROOT / "codegen.py")
TASK_DESCRIPTION = (
    "| description | string or null | yes | maxLength: 1000; pattern: `^[^\\u0000]*$` | "
    "Longer free text; `null` when the task has none. |\n"
)
VERSION = "| Version | 1.0.0 |"
NEW_PARAMETER = (
    "| limit | query | integer(int32) | no | minimum: 1; maximum: 100; default: 20 | "
    "Largest number of tasks in the page. |"
)
CHANGELOG = "### 1.0.0\n"


def run(root: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, CODEGEN, *arguments, "--root", str(root)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def entry(version: str, *bullets: str) -> tuple[str, str]:
    lines = "".join(f"- {bullet}\n" for bullet in bullets)
    return (CHANGELOG, f"### {version}\n\n{lines}\n{CHANGELOG}")


def remove_description(repository: Repository, *more: tuple[str, str]) -> None:
    repository.edit((TASK_DESCRIPTION, ""), *more)


def add_query_parameter(repository: Repository, *more: tuple[str, str]) -> None:
    repository.edit(
        (NEW_PARAMETER, NEW_PARAMETER + "\n| q | query | string | no | maxLength: 100 | Words. |"),
        *more,
    )


def test_an_unchanged_tree_has_nothing_to_report(repository: Repository) -> None:
    completed = run(repository.root, "diff", "HEAD")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout.startswith("No changes from HEAD (1.0.0)")


def test_a_break_released_as_a_major_version_with_its_entry_passes(repository: Repository) -> None:
    remove_description(
        repository,
        (VERSION, "| Version | 2.0.0 |"),
        entry("2.0.0", "Breaking: `Task.description` removed; tasks have a title only."),
    )
    status, output = repository.diff("HEAD")
    assert status == 0, output
    assert output.startswith("Changes from HEAD (1.0.0) to specs/api/rest-endpoints.md (2.0.0):")
    assert "breaking" in output
    assert "error:" not in output


def test_a_major_version_without_its_entry_fails_naming_what_is_missing(
    repository: Repository,
) -> None:
    remove_description(repository, (VERSION, "| Version | 2.0.0 |"))
    status, output = repository.diff("HEAD")
    assert status == 1
    assert "error: the Changelog has no entry '### 2.0.0'" in output


def test_an_entry_that_does_not_name_the_break_fails(repository: Repository) -> None:
    remove_description(
        repository,
        (VERSION, "| Version | 2.0.0 |"),
        entry("2.0.0", "Breaking: `Task.title` is shorter.", "`Task.description` removed."),
    )
    status, output = repository.diff("HEAD")
    assert status == 1
    assert "does not name `Task.description` in a 'Breaking:' bullet" in output


def test_a_break_without_a_major_version_fails_saying_which_version(
    repository: Repository,
) -> None:
    remove_description(
        repository, (VERSION, "| Version | 1.1.0 |"), entry("1.1.0", "Breaking: `Task.description`")
    )
    status, output = repository.diff("HEAD")
    assert status == 1
    assert "need a new major version: set the Info Version to 2.0.0" in output


def test_unreleased_compatible_changes_say_the_least_next_version(repository: Repository) -> None:
    add_query_parameter(repository)
    status, output = repository.diff("HEAD")
    assert status == 0, output
    assert "the next release must be at least 1.1.0 (minor)" in output


def test_a_documentation_change_needs_only_a_patch(repository: Repository) -> None:
    repository.edit(
        (
            "Short title of the task. |\n| description | string or null | yes",
            "A title. |\n| description | string or null | yes",
        )
    )
    status, output = repository.diff("HEAD")
    assert status == 0, output
    assert "the next release must be at least 1.0.1 (patch)" in output


def test_a_new_capability_released_as_a_patch_fails(repository: Repository) -> None:
    add_query_parameter(repository, (VERSION, "| Version | 1.0.1 |"), entry("1.0.1", "Search."))
    status, output = repository.diff("HEAD")
    assert status == 1
    assert "1.0.1 is a patch release, but the changes need a minor one: 1.1.0 at least" in output


def test_a_minor_release_needs_its_entry(repository: Repository) -> None:
    add_query_parameter(repository, (VERSION, "| Version | 1.1.0 |"))
    status, output = repository.diff("HEAD")
    assert status == 1
    assert "the Changelog has no entry '### 1.1.0'" in output
    repository.edit(entry("1.1.0", "`listTasks` takes `q`, a keyword search."))
    assert repository.diff("HEAD")[0] == 0


def test_a_broken_spec_exits_2_with_its_line(repository: Repository) -> None:
    repository.edit(
        ("| completed | boolean | yes | | Whether", "| completed | bool | yes | | Whether")
    )
    completed = run(repository.root, "diff", "HEAD")
    assert completed.returncode == 2
    line = repository.line_of("| completed | bool |")
    assert completed.stderr.startswith(f"specs/api/rest-endpoints.md:{line}: unknown type 'bool'")


def test_a_version_that_is_not_semantic_is_a_spec_error(repository: Repository) -> None:
    repository.edit((VERSION, "| Version | 1.1 |"))
    completed = run(repository.root, "diff", "HEAD")
    assert completed.returncode == 2
    assert f":{repository.line_of('| Version |')}: Version '1.1' is not a semantic version" in (
        completed.stderr
    )


def test_changelog_entries_go_newest_first(repository: Repository) -> None:
    repository.edit(
        (VERSION, "| Version | 1.1.0 |"), ("### 1.0.0\n", "### 1.0.0\n\n- A.\n\n### 1.1.0\n")
    )
    completed = run(repository.root, "diff", "HEAD")
    assert completed.returncode == 2
    assert "changelog entry 1.1.0 comes after 1.0.0" in completed.stderr


def test_an_unknown_base_exits_2_naming_it(repository: Repository) -> None:
    completed = run(repository.root, "diff", "no-such-revision")
    assert completed.returncode == 2
    assert "BASE 'no-such-revision' is not a git revision" in completed.stderr


def test_a_committed_unacknowledged_break_fails_the_gate_with_the_diff(
    repository: Repository,
) -> None:
    remove_description(repository)
    assert run(repository.root).returncode == 0  # regenerate openapi/ and generated/
    repository.commit("drop Task.description")
    completed = run(repository.root, "diff")  # against the last release, as `make test` runs it
    assert completed.returncode == 1
    assert "breaking" in completed.stdout
    assert "#/components/schemas/Task/properties/description" in completed.stdout
    assert "[response-field-removed]" in completed.stdout
    # The commit before it, an explicit BASE, says the same.
    assert run(repository.root, "diff", "HEAD~1").returncode == 1


def test_release_records_the_version_and_the_history_is_checked(repository: Repository) -> None:
    add_query_parameter(
        repository, (VERSION, "| Version | 1.1.0 |"), entry("1.1.0", "`listTasks` takes `q`.")
    )
    released = run(repository.root, "release")
    assert released.returncode == 0, released.stdout
    snapshot = repository.root / "openapi" / "releases" / "1.1.0.json"
    assert json.loads(snapshot.read_text(encoding="utf-8"))["info"]["version"] == "1.1.0"
    assert repository.diff()[0] == 0
    # A released version cannot change under the same number.
    repository.edit(("Words. |", "Any words. |"))
    assert run(repository.root, "release").returncode == 1
    # A release file that breaks its predecessor without a major version fails the history.
    document = json.loads(snapshot.read_text(encoding="utf-8"))
    del document["components"]["schemas"]["Task"]["properties"]["title"]
    snapshot.write_text(json.dumps(document), encoding="utf-8")
    status, output = repository.diff()
    assert status == 1
    assert "error: release 1.0.0 -> 1.1.0:" in output


def test_the_changelog_is_in_the_document_the_front_end_reads() -> None:
    document = json.loads((codegen.ROOT / codegen.OPENAPI_JSON).read_text(encoding="utf-8"))
    description = document["info"]["description"]
    assert "\n\n## Changelog\n\n" in description
    assert f"\n\n### {document['info']['version']}\n\n" in description


def test_released_documents_are_never_rewritten() -> None:
    """No commit ever changed a file of openapi/releases/: a pinned client gets it back as is."""
    folder = codegen.ROOT / "openapi" / "releases"
    try:
        shallow = git(codegen.ROOT, "rev-parse", "--is-shallow-repository").strip()
    except (subprocess.CalledProcessError, FileNotFoundError):
        skip_or_fail("not a git checkout: the history of openapi/releases/ cannot be read")
    if shallow == "true":
        skip_or_fail("a shallow clone: the history of openapi/releases/ is incomplete")
    for path in sorted(folder.glob("*.json")):
        relative = path.relative_to(codegen.ROOT).as_posix()
        commits = git(codegen.ROOT, "log", "--format=%H", "--", relative).split()
        contents = {git(codegen.ROOT, "rev-parse", f"{commit}:{relative}") for commit in commits}
        assert len(contents) <= 1, f"{path.name} was changed after its release: {commits}"
        released = json.loads(path.read_text(encoding="utf-8"))
        assert released["info"]["version"] == path.stem
