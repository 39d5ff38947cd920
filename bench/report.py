"""Figures to Markdown: machine facts, operation tables, ratios, scaling and codegen timings."""

from __future__ import annotations

import os
import platform
import sqlite3
import statistics
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from bench.load import CONNECTIONS, THREADS
from bench.plan import (
    OPERATION_ORDER,
    OPERATIONS,
    DatabaseReport,
    Options,
    Result,
    ScalingResult,
)
from tests.support.postgres import PostgresUnavailable, find_pg_bin

BASELINES = frozenset(OPERATIONS) - {"api"}


@dataclass(frozen=True)
class CodegenTiming:
    command: str
    median_seconds: float | None
    note: str = ""


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _postgres_version() -> str:
    try:
        postgres = find_pg_bin() / "postgres"
    except PostgresUnavailable:
        return "unavailable"
    result = subprocess.run(
        [str(postgres), "--version"], capture_output=True, text=True, timeout=30, check=False
    )
    return result.stdout.strip().removeprefix("postgres (PostgreSQL) ") or "unknown"


def _wrk_version(wrk: str) -> str:
    result = subprocess.run(
        [wrk, "--version"], capture_output=True, text=True, timeout=30, check=False
    )
    first = (result.stdout or result.stderr).strip().splitlines()
    return first[0].split(" [")[0] if first else "unknown"


def machine_facts(wrk: str, options: Options, mode: str) -> list[tuple[str, str]]:
    return [
        ("Date (UTC)", datetime.now(UTC).strftime("%Y-%m-%d %H:%M")),
        ("Mode", mode),
        ("CPU", _cpu_model()),
        ("Cores", str(os.cpu_count())),
        ("Python", platform.python_version()),
        ("uvicorn", f"{_version('uvicorn')} (1 worker, uvloop, httptools, no access log)"),
        ("FastAPI / Starlette", f"{_version('fastapi')} / {_version('starlette')}"),
        ("SQLAlchemy / SQLModel", f"{_version('sqlalchemy')} / {_version('sqlmodel')}"),
        ("psycopg", _version("psycopg")),
        ("PostgreSQL", f"{_postgres_version()} (throwaway: fsync off, synchronous_commit off)"),
        ("SQLite", f"{sqlite3.sqlite_version} (file in a temp dir, WAL)"),
        ("Load generator", f"{_wrk_version(wrk)}, {THREADS} threads, {CONNECTIONS} connections"),
        (
            "Per measurement",
            f"{options.duration:g} s after a {options.warmup:g} s warm-up; "
            f"{options.rounds} interleaved rounds, medians",
        ),
        ("Dataset", f"{options.users} users x {options.tasks_per_user:,} tasks"),
        (
            "Other trees of the API",
            ", ".join(f"{name} ({_commit_of(tree)})" for name, tree in options.trees) or "none",
        ),
    ]


def _commit_of(tree: Path) -> str:
    result = subprocess.run(
        ["git", "rev-parse", "--short=12", "HEAD"],
        cwd=tree,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or "not a git checkout"


def _failures(result: Result) -> str:
    if result.note:
        return f"**NOT MEASURED: {result.note}**"
    if result.status_errors or result.socket_errors:
        return f"**FAILED: {result.status_errors} non-2xx, {result.socket_errors} socket errors**"
    return "0"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _figures(result: Result) -> list[str]:
    if not result.runs:
        return ["-", "-", "-"]
    return [
        f"{result.requests_per_second:,.0f}",
        f"{result.p50_ms:.2f}",
        f"{result.p99_ms:.2f}",
    ]


def load_line(report: DatabaseReport) -> str:
    """Median and peak 1-minute load average before measured runs; loud when the box was busy."""
    if not report.load_samples:
        return "Load average: not sampled."
    peak = max(report.load_samples)
    line = (
        f"Load average (1 min) before measured runs: median "
        f"{statistics.median(report.load_samples):.2f}, peak {peak:.2f} on {os.cpu_count()} cores."
    )
    # The 1-minute average includes the previous measured run: one server worker and wrk keep
    # about two cores busy on their own. Only a median above the core count means other work.
    line += " (The benchmark's own server and wrk account for up to about 2.)"
    if statistics.median(report.load_samples) > (os.cpu_count() or 1):
        line += " **The machine was busy with other work: treat these figures as noisy.**"
    return line


def operations_table(report: DatabaseReport) -> list[str]:
    lines = [
        _row(["Target", "Operation", "req/s", "p50 ms", "p99 ms", "Failures"]),
        _row(["---", "---", "---:", "---:", "---:", "---"]),
    ]
    for result in report.results:
        operation = "constant JSON" if result.target == "bare" else result.operation
        lines.append(_row([result.target, operation, *_figures(result), _failures(result)]))
    return lines


def _find(report: DatabaseReport, target: str, operation: str) -> Result | None:
    for result in report.results:
        if result.target == target and result.operation == operation and result.runs:
            return result
    return None


def ratio_lines(report: DatabaseReport) -> list[str]:
    """Throughput ratios; p50 ratios alongside, since both tell the story."""
    lines: list[str] = []
    bare = _find(report, "bare", "list")
    pairs = [("api", "raw"), ("api", "obvious")]
    for operation in ("list", "get", "create"):
        for left, right in pairs:
            mine, theirs = _find(report, left, operation), _find(report, right, operation)
            if mine and theirs:
                lines.append(
                    f"- {operation}: {left} / {right} = "
                    f"{mine.requests_per_second / theirs.requests_per_second:.2f}x req/s "
                    f"(p50 {mine.p50_ms:.2f} vs {theirs.p50_ms:.2f} ms)"
                )
    # Other trees of the API (the last release, an older one): this tree against each.
    for tree in sorted({result.target for result in report.results} - BASELINES - {"api"}):
        for operation in OPERATION_ORDER:
            mine, theirs = _find(report, "api", operation), _find(report, tree, operation)
            if mine and theirs:
                lines.append(
                    f"- {operation}: api / {tree} = "
                    f"{mine.requests_per_second / theirs.requests_per_second:.2f}x req/s "
                    f"(p50 {mine.p50_ms:.2f} vs {theirs.p50_ms:.2f} ms)"
                )
    plain, keyed = _find(report, "api", "create"), _find(report, "api", "create+key")
    if plain and keyed:
        # The contract's budget: a create with an Idempotency-Key within 1.5x of one without.
        lines.append(
            f"- create with an Idempotency-Key / without: p50 {keyed.p50_ms:.2f} vs "
            f"{plain.p50_ms:.2f} ms = {keyed.p50_ms / plain.p50_ms:.2f}x; "
            f"{keyed.requests_per_second / plain.requests_per_second:.2f}x req/s"
        )
    if bare:
        for target in ("api", "raw", "obvious"):
            listing = _find(report, target, "list")
            if listing:
                lines.append(
                    f"- list: {target} / bare = "
                    f"{listing.requests_per_second / bare.requests_per_second:.2f}x req/s "
                    "(share of the framework ceiling)"
                )
    return lines


def scaling_table(report: DatabaseReport) -> list[str]:
    lines = [
        _row(
            [
                "Target",
                "Tasks",
                "Page",
                "Depth",
                "req/s",
                "p50 ms",
                "p99 ms",
                "p50 / 1k first",
                "Failures",
            ]
        ),
        _row(["---", "---:", "---", "---:", "---:", "---:", "---:", "---:", "---"]),
    ]
    baselines: dict[str, ScalingResult] = {}
    for result in report.scaling:
        if (
            result.tasks == min(r.tasks for r in report.scaling)
            and result.operation == "first page"
        ):
            baselines.setdefault(result.target, result)
    for result in report.scaling:
        base = baselines.get(result.target)
        ratio = (
            f"{result.p50_ms / base.p50_ms:.2f}x"
            if base and base.runs and result.runs and base.p50_ms
            else "-"
        )
        lines.append(
            _row(
                [
                    result.target,
                    f"{result.tasks:,}",
                    result.operation,
                    f"{result.depth:,}" if result.operation.startswith("deep page") else "0",
                    *_figures(result),
                    ratio,
                    _failures(result),
                ]
            )
        )
    return lines


FILTERED_TARGET = 3.0  # a filtered page's p50 within 3x the unfiltered first page at 1,000


def filtered_target_lines(report: DatabaseReport) -> list[str]:
    """Each filtered page against the target: its p50 within 3x the 1k unfiltered first page."""
    base = next(
        (
            result
            for result in report.scaling
            if result.target == "api" and result.tasks == 1_000 and result.operation == "first page"
        ),
        None,
    )
    filtered = [
        result
        for result in report.scaling
        if result.target == "api" and result.operation not in ("first page", "deep page")
    ]
    if base is None or not base.runs or not filtered:
        return []
    lines = [
        f"Target: p50 of each filtered page within {FILTERED_TARGET:.0f}x the unfiltered first "
        f"page at 1,000 tasks ({base.p50_ms:.2f} ms, same run): at most "
        f"{FILTERED_TARGET * base.p50_ms:.2f} ms.",
        "",
    ]
    for result in filtered:
        if not result.runs:
            lines.append(f"- {result.operation} at {result.tasks:,}: not measured ({result.note})")
            continue
        ratio = result.p50_ms / base.p50_ms
        verdict = "met" if ratio <= FILTERED_TARGET else "**missed**"
        lines.append(
            f"- {result.operation} at {result.tasks:,}: p50 {result.p50_ms:.2f} ms = "
            f"{ratio:.2f}x: {verdict}"
        )
    return lines


def render(
    facts: list[tuple[str, str]],
    reports: list[DatabaseReport],
    codegen: list[CodegenTiming],
    command: str,
) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `{command}` (bench/). Every server is `uvicorn APP --workers 1 "
        "--loop uvloop --http httptools --no-access-log` on 127.0.0.1; wrk runs on the same "
        "machine, so load generator and server share the cores. A failure is a response with "
        "status >= 400 or a socket error; any failure is shown in bold.",
        "",
        "Targets: **bare** = one `async def` FastAPI endpoint returning a constant (the "
        "framework ceiling); **obvious** = the tutorial way (sync handlers, SQLModel Session "
        "per request, ORM select, `response_model`); **raw** = the floor (async handler, "
        "PyJWT, one SQL statement on the bare driver, orjson bytes); **api** = `backend.main:app`.",
        "",
        "## Machine",
        "",
        _row(["Fact", "Value"]),
        _row(["---", "---"]),
        *(_row([name, value]) for name, value in facts),
    ]
    for report in reports:
        lines += ["", f"## {report.kind}", "", f"Table created by: {report.schema}.", ""]
        lines += [load_line(report), ""]
        lines += [f"- Note: {note}" for note in report.notes]
        if report.notes:
            lines.append("")
        lines += operations_table(report)
        ratios = ratio_lines(report)
        if ratios:
            lines += ["", "Ratios (medians):", "", *ratios]
        if report.scaling:
            lines += [
                "",
                f"### {report.kind}: list latency as one user's tasks grow",
                "",
                "First page = `?limit=20`; deep page = `?limit=20&cursor=...` with the cursor "
                "reached by following `X-Next-Cursor` over `limit=100` pages (depth = tasks "
                "skipped). raw shows the floor for the first page.",
                "",
                *scaling_table(report),
            ]
            target = filtered_target_lines(report)
            if target:
                lines += ["", f"### {report.kind}: filtered lists", "", *target]
    if codegen:
        lines += [
            "",
            "## Codegen",
            "",
            _row(["Command", "Median of 5 (s)", "Note"]),
            _row(["---", "---:", "---"]),
        ]
        for timing in codegen:
            seconds = f"{timing.median_seconds:.2f}" if timing.median_seconds is not None else "-"
            lines.append(_row([f"`{timing.command}`", seconds, timing.note or ""]))
    return "\n".join(lines) + "\n"


def console_summary(reports: list[DatabaseReport], codegen: list[CodegenTiming]) -> str:
    parts: list[str] = []
    for report in reports:
        parts += ["", f"## {report.kind}", "", load_line(report), "", *operations_table(report)]
        parts += ["", *ratio_lines(report)]
        if report.scaling:
            parts += ["", *scaling_table(report), "", *filtered_target_lines(report)]
    for timing in codegen:
        seconds = f"{timing.median_seconds:.2f} s" if timing.median_seconds is not None else "-"
        parts.append(f"codegen `{timing.command}`: {seconds} {timing.note}")
    return "\n".join(parts)
