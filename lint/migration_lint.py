"""`make lint`'s migration lint: squawk on the PostgreSQL SQL of every Alembic revision."""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

ROOT = Path(__file__).resolve().parent.parent
ALEMBIC_INI = ROOT / "alembic.ini"
SQUAWK_CONFIG = ROOT / "lint" / "squawk.toml"
# Offline mode never connects: the URL only picks the dialect.
OFFLINE_URL = "postgresql+psycopg://lint@127.0.0.1/lint"


def alembic_config(script_location: Path | None, output: io.StringIO | None = None) -> Config:
    config = Config(str(ALEMBIC_INI), output_buffer=output)
    if script_location is not None:
        config.set_main_option("script_location", str(script_location))
    config.attributes["database_url"] = OFFLINE_URL
    config.attributes["configure_logging"] = False
    return config


def revision_sql(script_location: Path | None, previous: str, revision: str) -> str:
    """What `alembic upgrade PREVIOUS:REVISION --sql` writes for PostgreSQL."""
    output = io.StringIO()
    command.upgrade(alembic_config(script_location, output), f"{previous}:{revision}", sql=True)
    return output.getvalue()


def main(argv: list[str]) -> int:
    """Lint migrations/ (or the Alembic script directory given as the one argument)."""
    script_location = Path(argv[0]) if argv else None
    script = ScriptDirectory.from_config(alembic_config(script_location))
    squawk = Path(sys.executable).parent / "squawk"
    with tempfile.TemporaryDirectory(prefix="squawk-") as scratch:
        files, names = [], []
        for found in reversed(list(script.walk_revisions())):
            previous = found.down_revision or "base"
            if not isinstance(previous, str):
                raise SystemExit(f"{found.revision}: a merge revision; lint its ranges by hand")
            path = Path(scratch) / Path(found.path).with_suffix(".sql").name
            path.write_text(
                revision_sql(script_location, previous, found.revision), encoding="utf-8"
            )
            files.append(str(path))
            names.append(found.revision)
        sys.stdout.write(f"== squawk on {len(files)} revision(s): {', '.join(names)}\n")
        sys.stdout.flush()
        result = subprocess.run(  # noqa: S603 (the venv's squawk on files written here)
            [str(squawk), "--config", str(SQUAWK_CONFIG), *files], check=False
        )
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
