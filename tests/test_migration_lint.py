"""`make lint`'s migration lint: squawk passes every revision, and catches a blocking one."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLAIN_INDEX_REVISION = '''"""An index built the blocking way.

Revision ID: 9999
Revises: {head}
"""

from alembic import op

revision = "9999"
down_revision = "{head}"


def upgrade() -> None:
    op.create_index("ix_tasks_owner_completed", "tasks", ["user_id", "completed"])
'''


def lint(script_location: Path | None = None) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, str(ROOT / "lint" / "migration_lint.py")]
    if script_location is not None:
        argv.append(str(script_location))
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)


def test_every_revision_passes_squawk() -> None:
    result = lint()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Found 0 issues" in result.stdout


def test_a_plain_create_index_on_tasks_fails_the_lint_naming_the_rule(tmp_path: Path) -> None:
    from backend.storage.schema import head_revision

    scripts = tmp_path / "migrations"
    shutil.copytree(ROOT / "migrations", scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "9999_plain_index.py").write_text(
        PLAIN_INDEX_REVISION.format(head=head_revision())
    )
    result = lint(scripts)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "require-concurrent-index-creation" in result.stdout
    assert "9999_plain_index.sql" in result.stdout
    assert "CREATE INDEX ix_tasks_owner_completed ON tasks" in result.stdout
