"""`make mutate`: mutmut over the modules where a silent defect costs most, one at a time.

Each module runs in a copy of the work tree of its own (.mutation/NAME/), whose setup.cfg
names the module and the fast tests that exercise it: mutmut measures which of those
tests reach each function, then runs only them against each mutant. The copy keeps
mutmut's results, so a second run retries only what changed.

    python -m tests.support.mutation [--survivors] [MODULE ...]   (every module if none)

--survivors retries only the mutants the last run left alive (after a test was added).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from mutmut.stats import status_by_exit_code

ROOT: Final = Path(__file__).resolve().parent.parent.parent
WORK: Final = ROOT / ".mutation"
JOBS: Final = os.environ.get("MUTATE_JOBS", "1")  # the machine's two cores are shared
# A PostgreSQL server per mutant costs seconds: only a module with code that runs on
# PostgreSQL alone has its tests run on both databases.
SQLITE_ONLY: Final = ("-k", "not postgres")
BOTH_DATABASES: Final = frozenset({"backend/queries/idempotency.py"})
# The list's statements differ by dialect: of its tests, those that hold every page to a
# model of the rules (test_list_statements.py) run on PostgreSQL too.
POSTGRES_TOO: Final = {
    "backend/queries/listing.py": "test_list_statements",
    "backend/queries/pages.py": "test_list_statements",
}

# The pages held to a model of the rules, the plans each list takes, the parameters' 422s
# (the HTTP tests of the list, test_list.py and test_search.py, add a minute per survivor).
LIST_TESTS: Final = (
    "tests/api/test_list_statements.py",
    "tests/api/test_filters.py",
    "tests/api/test_query_plans.py",
    "tests/tasks/test_list_parameters.py",
)

# Module -> the fast tests that exercise it (each runs in a few seconds).
MODULES: Final[dict[str, tuple[str, ...]]] = {
    "backend/auth/tokens.py": (
        "tests/auth/test_verifiers.py",
        "tests/auth/test_jwk_selection.py",
        "tests/auth/test_refusal_reasons.py",
        "tests/auth/test_jwks_defaults.py",
        "tests/auth/test_verifier_rules.py",
    ),
    "backend/auth/jwks.py": (
        "tests/auth/test_jwk_selection.py",
        "tests/auth/test_jwks_fetch.py",
        "tests/auth/test_jwks.py",
    ),
    "backend/tasks/pagination.py": (
        "tests/tasks/test_list_parameters.py",
        "tests/api/test_list.py",
    ),
    "backend/tasks/filters.py": (
        "tests/tasks/test_list_parameters.py",
        "tests/api/test_filters.py",
    ),
    "backend/tasks/search.py": ("tests/tasks/test_list_parameters.py", "tests/api/test_search.py"),
    "backend/tasks/preconditions.py": ("tests/api/test_conditional_requests.py",),
    "backend/tasks/recurrence.py": (
        "tests/tasks/test_recurrence_rules.py",
        "tests/api/test_recurrence_oracle.py",
        "tests/api/test_recurrence.py",
        "tests/api/test_schedule_updates.py",
    ),
    "backend/tasks/schedule.py": (
        "tests/tasks/test_schedule_values.py",
        "tests/api/test_recurrence.py",
        "tests/api/test_schedule_updates.py",
        "tests/api/test_reminders.py",
    ),
    "backend/queries/idempotency.py": (
        "tests/queries/test_idempotency_values.py",
        "tests/api/test_idempotency.py",
        "tests/api/test_idempotency_stale.py",
    ),
    # The HTTP edge: body admission, the access log's redaction, CORS.
    "backend/http/body_limits.py": ("tests/api/test_body_limits.py", "tests/api/test_errors.py"),
    "backend/http/log_redaction.py": ("tests/security/test_log_redaction.py",),
    "backend/http/cors.py": (
        "tests/api/test_cors_policy.py",
        "tests/api/test_cors.py",
        "tests/api/test_cors_credentials.py",
    ),
    # The list's reads: its plans and statements, their cache, the probe of its tags.
    "backend/queries/match_probe.py": (
        "tests/queries/test_match_probe.py",
        "tests/api/test_query_plans.py",
    ),
    "backend/queries/listing.py": LIST_TESTS,
    "backend/queries/pages.py": LIST_TESTS,
    "backend/queries/statements.py": ("tests/queries/test_statement_cache.py",),
    "contractdiff/rules.py": ("tests/contractdiff/test_rules.py",),
    "contractdiff/policy.py": (
        "tests/contractdiff/test_policy.py",
        "tests/contractdiff/test_gate.py",
    ),
    # The comparer on small schemas, not the corpus: its 54 git repositories take an hour here.
    "contractdiff/schemas.py": (
        "tests/contractdiff/test_schema_parts.py",
        "tests/contractdiff/test_schema_comparer.py",
        "tests/contractdiff/test_schema_constraints.py",
        "tests/contractdiff/test_schema_properties.py",
        "tests/contractdiff/test_rules.py",
    ),
    "speclang/changelog.py": ("tests/codegen/test_changelog.py", "tests/codegen/test_grammar.py"),
}
# A mutant that makes the tests hang is caught too: a real run stops at pytest-timeout.
KILLED: Final = frozenset({"killed", "caught by type check", "timeout"})


@dataclass(frozen=True)
class Tally:
    module: str
    statuses: Counter[str]
    survivors: dict[str, str]  # mutant -> its status: survived, no tests, timeout, ...

    @property
    def total(self) -> int:
        return sum(self.statuses.values())

    @property
    def killed(self) -> int:
        return sum(count for status, count in self.statuses.items() if status in KILLED)

    def line(self) -> str:
        rate = f"{100 * self.killed / self.total:.1f} %" if self.total else "no mutants"
        others = ", ".join(f"{count} {status}" for status, count in sorted(self.statuses.items()))
        return f"{self.module}: {self.killed}/{self.total} killed ({rate}); {others}"


def copy_work_tree(target: Path) -> None:
    """The work tree's files (tracked, and new ones git does not ignore) into `target`."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for relative in filter(None, listed.split("\0")):
        source = ROOT / relative
        if source.is_file():
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)


def give_history(directory: Path) -> None:
    """mutmut runs the tests in `directory`/mutants: a clone's .git there gives the tests
    that read the releases' git history (the corpus, the gate) a history of their own."""
    if (directory / "mutants" / ".git").exists():
        return
    clone = directory / "history"
    shutil.rmtree(clone, ignore_errors=True)
    subprocess.run(
        ["git", "clone", "--quiet", "--no-checkout", "--shared", str(ROOT), str(clone)],
        check=True,
    )
    (directory / "mutants").mkdir(exist_ok=True)
    (clone / ".git").rename(directory / "mutants" / ".git")
    clone.rmdir()


def setup_cfg(module: str, tests: tuple[str, ...]) -> str:
    databases: tuple[str, ...] = SQLITE_ONLY
    if module in BOTH_DATABASES:
        databases = ()
    elif module in POSTGRES_TOO:
        # By the database's parameter id: "not postgres" would also drop every test whose
        # id names postgresql (test_query_plans.py's documented indexes, on SQLite too).
        databases = ("-k", f"not (postgres- or postgres]) or {POSTGRES_TOO[module]}")
    lines = [
        "[mutmut]",
        f"source_paths = {module}",
        "also_copy =",
        *(f"    {folder}" for folder in sorted(set(ROOT_FOLDERS) - {module})),
        "pytest_add_cli_args =",
        *(f"    {argument}" for argument in ("-p", "no:cacheprovider", *databases)),
        "pytest_add_cli_args_test_selection =",
        *(f"    {test}" for test in tests),
    ]
    return "\n".join(lines) + "\n"


ROOT_FOLDERS: Final = (
    "alembic.ini",
    "backend",
    "codegen.py",
    "contractdiff",
    "docs",
    "generated",
    "migrations",
    "openapi",
    "speclang",
    "specs",
)


def tally(directory: Path, module: str) -> Tally:
    path = directory / "mutants" / f"{module}.meta"
    if not path.exists():  # no function to mutate: mutmut mutates function bodies only
        return Tally(module, Counter(), {})
    meta = json.loads(path.read_text(encoding="utf-8"))
    statuses: Counter[str] = Counter()
    survivors: dict[str, str] = {}
    for name, exit_code in sorted(meta["exit_code_by_key"].items()):
        status = status_by_exit_code[exit_code]
        statuses[status] += 1
        if status not in KILLED:
            survivors[name] = status
    return Tally(module, statuses, survivors)


def directory_of(module: str) -> Path:
    return WORK / module.replace("/", ".").removesuffix(".py")


def mutate(module: str, *, survivors_only: bool) -> Tally:
    """Run mutmut on the module: every mutant not tried yet, or only the last survivors."""
    directory = directory_of(module)
    retried = list(tally(directory, module).survivors) if survivors_only else []
    directory.mkdir(parents=True, exist_ok=True)
    copy_work_tree(directory)
    give_history(directory)
    (directory / "setup.cfg").write_text(setup_cfg(module, MODULES[module]), encoding="utf-8")
    environment = {name: value for name, value in os.environ.items() if name != "CI"}
    mutmut = Path(sys.executable).parent / "mutmut"
    if not survivors_only or retried:
        run = subprocess.run(
            [str(mutmut), "run", "--max-children", JOBS, *retried],
            cwd=directory,
            env=environment,
            check=False,
        )
        if run.returncode != 0:
            sys.stderr.write(f"mutmut stopped on {module} (exit {run.returncode}): see above\n")
    return tally(directory, module)


def main(arguments: list[str]) -> int:
    survivors_only = "--survivors" in arguments
    modules = [argument for argument in arguments if argument != "--survivors"]
    unknown = sorted(set(modules) - set(MODULES))
    if unknown:
        sys.stderr.write(f"not a module `make mutate` knows: {', '.join(unknown)}\n")
        return 2
    tallies = [mutate(module, survivors_only=survivors_only) for module in modules or MODULES]
    for result in tallies:
        sys.stdout.write(result.line() + "\n")
        for survivor, status in result.survivors.items():
            sys.stdout.write(f"    {survivor}: {status}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
