"""The gate's client stage: the base's TypeScript client compiled against the new contract's
types, with openapi-typescript's default settings and the documented ones."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from contractdiff import rules
from tests.support.contract_repository import Repository, make_repository, release_commit
from tests.support.tools import ROOT, node_binary

pytestmark = pytest.mark.slow  # seconds per test: run first by the parallel workers

CODEGEN = str(ROOT / "codegen.py")
# test_rules.py counts these rules as covered, beside the corpus and the synthetic cases.
CLIENT_RULES = {
    rules.CLIENT_BREAKS_WITH_DEFAULT_SETTINGS,
    rules.CLIENT_BREAKS_WITH_DOCUMENTED_SETTINGS,
}
CLIENT_PARTS = ("tsconfig.json", "package.json", "types.mjs", "src/tasks.ts", "test/tasks.test.ts")
# Front-end code written against 1.2.0: a switch over every priority that compiles only while
# the priorities are these three.
EXHAUSTIVE_SWITCH = """import type { components } from "../src/schema.js";

export function label(priority: components["schemas"]["TaskPriority"]): string {
  switch (priority) {
    case "high":
      return "High";
    case "medium":
      return "Medium";
    case "low":
      return "Low";
    default: {
      const unknown: never = priority;
      return unknown;
    }
  }
}
"""
LOW = "| low | Do it when there is time. |\n"


def gate(root: Path, *arguments: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """`codegen.py diff ARGUMENTS --root ROOT`: (exit code, stdout and stderr)."""
    completed = subprocess.run(
        [sys.executable, CODEGEN, "diff", *arguments, "--root", str(root)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )
    return completed.returncode, completed.stdout + completed.stderr


def client_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if "[client-breaks-" in line]


def repository_with_client(root: Path, *, tools: bool = True) -> Repository:
    """Release 1.2.0's contract with today's client and a switch over every priority,
    committed; with the project's npm tools unless `tools` is false."""
    repository = make_repository(root, "1.2.0")
    client = root / "clients" / "typescript"
    for part in CLIENT_PARTS:
        (client / part).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / "clients" / "typescript" / part, client / part)
    (client / "test" / "priority.ts").write_text(EXHAUSTIVE_SWITCH, encoding="utf-8")
    (root / ".gitignore").write_text("node_modules\n", encoding="utf-8")
    if tools:
        (root / "node_modules").symlink_to(ROOT / "node_modules")
    repository.commit("the client written against 1.2.0")
    return repository


def test_against_1_0_0_the_request_defaults_break_the_client_at_default_settings_only() -> None:
    """openapi-typescript at its defaults types a request field with a default as required:
    TaskCreate.priority (`medium`, 1.1.0) and TaskCreate.time_zone (`UTC`, 1.4.0). 1.0.0's
    client, which creates tasks with neither, stops compiling; with the documented settings
    it compiles. TypeScript names both in one error, which is a finding for each field."""
    node_binary()
    release_commit("1.0.0")  # the history that holds release 1.0.0's client, or skip/fail
    status, output = gate(ROOT, "1.0.0")
    assert status == 0, output
    lines = client_lines(output)
    assert [field_of(line) for line in lines] == ["TaskCreate.priority", "TaskCreate.time_zone"]
    for line in lines:
        assert line.startswith("warning    specs/api/rest-endpoints.md:"), line
        assert "the 1.0.0 client (clients/typescript at " in line
        assert "types generated with openapi-typescript's default settings" in line
        assert "is missing the following properties from type '{…}': priority, time_zone" in line
        assert line.endswith("(3 places) [client-breaks-with-default-settings]")
    assert "note: clients: the 1.0.0 client (clients/typescript at " in output


def test_against_1_3_0_a_second_missing_default_is_found_where_the_first_was_already_missing() -> (
    None
):
    """1.3.0's client, at default settings, already failed where it creates a task without a
    priority; against 1.4.0's types the same places also lack `time_zone`. An error at the
    same place about another field is the change's doing: the time zone is a warning, the
    priority (the base's own error) is not reported again."""
    node_binary()
    release_commit("1.3.0")
    status, output = gate(ROOT, "1.3.0")
    assert status == 0, output
    [line] = client_lines(output)
    assert field_of(line) == "TaskCreate.time_zone", line
    assert "#/components/schemas/TaskCreate/properties/time_zone  " in line
    assert line.endswith("[client-breaks-with-default-settings]")


def field_of(line: str) -> str:
    """The subject of a client finding: `TaskCreate.priority`."""
    found = re.search(r"  ([A-Za-z]+\.[a-z_]+): the ", line)
    assert found, line
    return found.group(1)


def test_the_last_release_s_client_compiles_against_the_spec() -> None:
    node_binary()
    status, output = gate(ROOT)
    assert status == 0, output
    assert client_lines(output) == []
    assert re.search(r"^note: clients: the \d+\.\d+\.\d+ client .* compiled", output, re.M), output


def test_a_break_of_the_client_at_the_documented_settings_is_breaking(tmp_path: Path) -> None:
    """A new priority is compatible on the wire and a warning for what clients receive, but
    the client's switch over every priority stops compiling with the documented settings."""
    node_binary()
    repository = repository_with_client(tmp_path / "repository")
    repository.edit((LOW, LOW + "| someday | Maybe never. |\n"))
    status, output = gate(repository.root, "HEAD")
    assert status == 1, output
    assert "[response-enum-value-added]" in output
    [line] = client_lines(output)
    assert line.startswith("breaking   -"), line
    assert "clients/typescript/test/priority.ts:12: the 1.2.0 client" in line
    assert line.endswith(
        "(clients/typescript/types.mjs): Type '\"someday\"' is not assignable to type 'never'"
        " [client-breaks-with-documented-settings]"
    )
    assert "1 breaking change(s) need a new major version" in output


def test_without_the_npm_tools_the_stage_is_skipped_saying_why_but_not_under_ci(
    tmp_path: Path,
) -> None:
    repository = repository_with_client(tmp_path / "repository", tools=False)
    env = {"PATH": "/usr/bin:/bin:/usr/local/bin", "CI": ""}
    reason = (
        "the npm tools are not installed: run `npm ci` at the repository root"
        if shutil.which("node", path=env["PATH"])
        else "node is not installed (Debian: apt-get install nodejs npm)"
    )
    status, output = gate(repository.root, "HEAD", env=env)
    assert status == 0, output
    assert f"note: clients: SKIPPED compiling the base's TypeScript client: {reason}" in output
    status, output = gate(repository.root, "HEAD", env={**env, "CI": "true"})
    assert status == 2, output
    assert f"error: CI must compile the base's TypeScript client, but {reason}" in output
