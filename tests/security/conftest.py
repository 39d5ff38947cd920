"""Security suite: the figure table printed at the end of the session, and shared fixtures."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.main import create_app
from backend.settings import Settings
from tests.conftest import start_postgres_or_skip
from tests.support.jwks import Ed25519Key, JwksEndpoint, serve_jwks
from tests.support.postgres import PostgresServer

GROUPS = {
    "test_tokens": "1. Forged and broken tokens",
    "test_cross_user": "2. Cross-user matrix",
    "test_property_authorization": "3. Property-level authorization",
    "test_hostile_input": "4. Hostile input",
    "test_concurrency": "5. Concurrency",
    "test_database_faults": "6. Database faults",
    "test_lost_responses": "6. Database faults",
    "test_statement_timeout": "6. Database faults",
    "test_logs": "7. Logs",
    "test_log_redaction": "7. Logs",
}
ANY_DATABASE = "-"
OUTCOMES = ("passed", "failed", "skipped")


# --- the figure table -------------------------------------------------------------------------


@dataclass
class _Case:
    group: str
    database: str
    outcome: str | None = None
    """None until a phase of the case reports (cases left unrun by -x are not counted)."""


_cases: dict[str, _Case] = {}


def _group_of(nodeid: str) -> str | None:
    module = Path(nodeid.split("::", 1)[0]).stem
    if Path(nodeid.split("::", 1)[0]).parent.name != "security":
        return None
    return GROUPS.get(module)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        group = _group_of(item.nodeid)
        if group is None:
            continue
        callspec = getattr(item, "callspec", None)
        params: dict[str, Any] = callspec.params if callspec is not None else {}
        database = params.get("database_url", ANY_DATABASE)
        _cases[item.nodeid] = _Case(group, str(database))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    case = _cases.get(report.nodeid)
    if case is None:
        return
    # A case is failed if any phase failed, skipped if skipped (xfail included), else passed.
    if report.failed:
        case.outcome = "failed"
    elif report.skipped and case.outcome != "failed":
        case.outcome = "skipped"
    elif report.when == "call" and case.outcome is None:
        case.outcome = "passed"


def figure_table() -> list[str]:
    """The per-group, per-database counts of the cases collected in this session."""
    counts: Counter[tuple[str, str, str]] = Counter()
    for case in _cases.values():
        if case.outcome is None:
            continue
        counts[case.group, case.database, case.outcome] += 1
    rows = sorted({(group, database) for group, database, _ in counts})
    header = f"| {'Group':<34} | {'Database':<8} | Tried | Passed | Failed | Skipped |"
    rule = "|" + "|".join("-" * len(cell) for cell in header.split("|")[1:-1]) + "|"
    lines = [header, rule]
    totals: Counter[str] = Counter()
    for group in dict.fromkeys(GROUPS.values()):  # each group once, in order
        group_rows = [row for row in rows if row[0] == group]
        if not group_rows:
            lines.append(f"| {group:<34} | {ANY_DATABASE:<8} |     0 |      0 |      0 |       0 |")
            continue
        for _, database in group_rows:
            figures = [counts[group, database, outcome] for outcome in OUTCOMES]
            for outcome, figure in zip(OUTCOMES, figures, strict=True):
                totals[outcome] += figure
            lines.append(
                f"| {group:<34} | {database:<8} | {sum(figures):>5} | {figures[0]:>6} "
                f"| {figures[1]:>6} | {figures[2]:>7} |"
            )
    figures = [totals[outcome] for outcome in OUTCOMES]
    lines.append(
        f"| {'Total':<34} | {'':<8} | {sum(figures):>5} | {figures[0]:>6} "
        f"| {figures[1]:>6} | {figures[2]:>7} |"
    )
    return lines


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not any(case.outcome is not None for case in _cases.values()):
        return
    terminalreporter.section("security suite figures")
    for line in figure_table():
        terminalreporter.write_line(line)


# --- shared fixtures --------------------------------------------------------------------------

ISSUER = "https://auth.todo.test"
AUDIENCE = "todo-api"


@pytest.fixture(scope="session")
def signing_key() -> Ed25519Key:
    """The key the JWKS-mode servers trust, published by `jwks_endpoint`."""
    return Ed25519Key.generate()


@pytest.fixture(scope="session")
def jwks_endpoint(signing_key: Ed25519Key) -> Iterator[JwksEndpoint]:
    with serve_jwks(signing_key) as endpoint:
        yield endpoint


def jwks_settings(database_url: str, jwks_url: str, **overrides: Any) -> Settings:
    return Settings(
        database_url=database_url,
        better_auth_jwks_url=jwks_url,
        migrate_on_start=False,
        _env_file=None,
        **overrides,
    )


@asynccontextmanager
async def client_for(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An AsyncClient on a fresh app built from `settings`, its lifespan running."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@pytest.fixture
def own_postgres(tmp_path: Path) -> Iterator[PostgresServer]:
    """A PostgreSQL server of this test alone: stopping it, or counting the cancellations in
    its log, concerns no other test."""
    server = start_postgres_or_skip(tmp_path / "postgres")
    try:
        yield server
    finally:
        server.destroy()
