"""SQLite: the due and reminder moments before the year 1000 written with a padded year.

Releases up to 1.4.2 wrote a moment on SQLite with strftime's `%Y`, which glibc does not pad:
a task due in the year 362 held `362-06-25 09:00:00.000000`, which no reader parsed (the
owner's every list answered 500) and which sorts after `2026-...`. This revision rewrites
such values as SQLAlchemy writes them, `0362-06-25 ...`. Only `due_at` and `remind_at` can
hold such a year (the others are the server's clock). PostgreSQL stored them as timestamps:
nothing to do there. Downgrading keeps the padded form, which the older releases read.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOMENT_COLUMNS = ("due_at", "remind_at")


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for column in MOMENT_COLUMNS:
        # `362-06-25 ...` -> `0000362-06-25 ...` -> from the dash's place less one year
        # digit: `0362-06-25 ...`; four-digit years never match the WHERE.
        op.execute(
            f"UPDATE tasks SET {column} = substr('0000' || {column}, instr({column}, '-')) "
            f"WHERE {column} IS NOT NULL AND {column} NOT GLOB '[0-9][0-9][0-9][0-9]-*'"
        )


def downgrade() -> None:
    pass
