"""The measurement plan: which target serves which operation, interleaved rounds, scaling."""

from __future__ import annotations

import os
import secrets
import statistics
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench import database as db
from bench.inprocess import supported_operations
from bench.load import Measurement, Request, run_wrk
from bench.servers import ServerFailed, UvicornServer, http_request, mint_token

API_APP = "backend.main:app"
TARGETS: dict[str, str] = {
    "bare": "bench.baselines.bare:app",
    "obvious": "bench.baselines.obvious:app",
    "raw": "bench.baselines.raw:app",
    "api": API_APP,
}
OPERATIONS: dict[str, tuple[str, ...]] = {
    "bare": ("list",),  # the constant endpoint, on the list path
    "obvious": ("list", "get", "create"),
    "raw": ("list", "get", "create"),
    "api": ("list", "get", "create", "create+key", "update", "toggle", "delete"),
}
OPERATION_ORDER = ("list", "get", "create", "create+key", "update", "toggle", "delete")


def operations_of(target: str, options: Options) -> tuple[str, ...]:
    """What a target serves: a baseline its own; another API tree, what its contract has."""
    if target in OPERATIONS:
        return OPERATIONS[target]
    tree = dict(options.trees)[target]
    return tuple(op for op in OPERATIONS["api"] if op in supported_operations(tree))


READER = "bench-user-1"  # list and get
UPDATER = "bench-user-2"  # update and toggle
CREATOR = "bench-user-create"  # creates land here, so reads see a stable dataset
DELETER = "bench-user-delete"  # a fresh batch of tasks before every delete run
SCALER = "bench-user-scale"
SCALES = (1_000, 100_000, 1_000_000)
DELETES_PER_SECOND_HEADROOM = 9_000  # more than any target here can delete per second


@dataclass(frozen=True)
class Options:
    duration: float
    warmup: float
    rounds: int
    users: int
    tasks_per_user: int
    max_scale: int
    skip_scaling: bool
    deep_walk_seconds: float
    # Other checkouts of the API measured beside this one, by name (the last release's
    # tree, an older one): their own code, on this tree's database schema.
    trees: tuple[tuple[str, Path], ...] = ()


@dataclass
class Result:
    """All rounds of one (target, operation) on one database."""

    database: str
    target: str
    operation: str
    runs: list[Measurement] = field(default_factory=list)
    note: str = ""

    @property
    def requests_per_second(self) -> float:
        return statistics.median(run.requests_per_second for run in self.runs)

    @property
    def p50_ms(self) -> float:
        return statistics.median(run.p50_ms for run in self.runs)

    @property
    def p99_ms(self) -> float:
        return statistics.median(run.p99_ms for run in self.runs)

    @property
    def status_errors(self) -> int:
        return sum(run.status_errors for run in self.runs)

    @property
    def socket_errors(self) -> int:
        return sum(run.socket_errors for run in self.runs)


@dataclass
class ScalingResult(Result):
    tasks: int = 0
    depth: int = 0  # tasks skipped before the measured page


@dataclass
class DatabaseReport:
    kind: str
    schema: str
    results: list[Result] = field(default_factory=list)
    scaling: list[ScalingResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # 1-minute load average sampled before every measured run: other work on the machine
    # (a test suite, a build) shows up here and makes the figures unreliable.
    load_samples: list[float] = field(default_factory=list)

    def sample_load(self) -> None:
        self.load_samples.append(os.getloadavg()[0])


@dataclass
class Context:
    """What one database run needs to build requests."""

    database: db.Database
    secret: str
    options: Options
    wrk: str
    reader_ids: db.IdRange
    updater_ids: db.IdRange
    scale_count: int = 0

    def token(self, user_id: str) -> str:
        return mint_token(self.secret, user_id)


def _request(context: Context, operation: str) -> tuple[Request, str]:
    """The wrk request of an operation and the user whose token it carries."""
    reader, updater = context.reader_ids, context.updater_ids
    if operation == "list":
        return Request("GET", f"/api/{READER}/tasks?limit=20"), READER
    if operation == "get":
        return Request("GET", f"/api/{READER}/tasks/{{id}}", "", reader.first, reader.last), READER
    if operation == "create":
        body = '{"title": "Bench task {id}", "description": "Created under load"}'
        return Request("POST", f"/api/{CREATOR}/tasks", body, 1, 10**9), CREATOR
    if operation == "create+key":
        # Every request its own key (a fresh prefix per run): each is a first request.
        body = '{"title": "Bench task {id}", "description": "Created under load"}'
        key = f"bench-{secrets.token_hex(8)}-{{id}}"
        return Request(
            "POST", f"/api/{CREATOR}/tasks", body, 1, 10**9, "unique", key_template=key
        ), CREATOR
    if operation == "update":
        body = '{"title": "Renamed {id}"}'
        path = f"/api/{UPDATER}/tasks/{{id}}"
        return Request("PUT", path, body, updater.first, updater.last), UPDATER
    if operation == "toggle":
        path = f"/api/{UPDATER}/tasks/{{id}}/complete"
        return Request("PATCH", path, "", updater.first, updater.last), UPDATER
    if operation == "delete":
        # A fresh contiguous batch: every request deletes its own id; a 404 is a failure.
        batch = int(context.options.duration * DELETES_PER_SECOND_HEADROOM) + 1_000
        ids = db.seed_tasks(context.database, DELETER, batch, offset=2_000_000)
        return Request(
            "DELETE", f"/api/{DELETER}/tasks/{{id}}", "", ids.first, ids.last, "unique"
        ), DELETER
    raise ValueError(operation)


def _preflight(context: Context, server: UvicornServer, operation: str) -> str:
    """One request outside wrk; returns '' when it succeeds, else why it did not."""
    if operation == "delete":
        # A task of its own, so the measured batch stays contiguous and untouched.
        task = db.seed_tasks(context.database, DELETER, 1, offset=1_999_999)
        request, user = Request("DELETE", f"/api/{DELETER}/tasks/{{id}}", "", task.first), DELETER
    else:
        request, user = _request(context, operation)
    path = request.path.replace("{id}", str(request.first_id))
    body = request.body.replace("{id}", "0") or None
    status, _, payload = http_request(
        server.base_url, request.method, path, context.token(user), body
    )
    if 200 <= status < 300:
        return ""
    return f"preflight {request.method} {path} answered {status}: {payload[:120]!r}"


def _describe(measurement: Measurement) -> str:
    line = (
        f"{measurement.requests_per_second:8.0f} req/s  p50 {measurement.p50_ms:6.2f} ms  "
        f"p99 {measurement.p99_ms:6.2f} ms"
    )
    if measurement.status_errors or measurement.socket_errors:
        line += (
            f"  !! {measurement.status_errors} non-2xx, {measurement.socket_errors} socket errors"
        )
    return line


@contextmanager
def running_servers(
    context: Context, repo_root: Path, log_dir: Path, report: DatabaseReport
) -> Iterator[dict[str, UvicornServer]]:
    """Start every target; a target that does not come up stops the run."""
    env = {"DATABASE_URL": context.database.url, "BETTER_AUTH_SECRET": context.secret}
    started: dict[str, UvicornServer] = {}
    targets = [(name, app, repo_root) for name, app in TARGETS.items()]
    targets += [(name, API_APP, tree) for name, tree in context.options.trees]
    try:
        for name, app, root in targets:
            log_name = f"{context.database.kind}-{name.replace(' ', '-')}.log"
            # Another tree serves this tree's schema, which its own migrations do not know.
            own_env = env if root == repo_root else {**env, "MIGRATE_ON_START": "false"}
            server = UvicornServer(app, own_env, root, log_dir / log_name)
            try:
                server.start()
            except ServerFailed:
                server.stop()
                print(f"!! {name} did not start:\n{server.log_tail()}")
                raise
            print(f"-- {name} ({app}) ready on {server.base_url}")
            started[name] = server
        yield started
    finally:
        for server in started.values():
            server.stop()


def measure_operations(
    context: Context, servers: dict[str, UvicornServer], report: DatabaseReport
) -> None:
    """Rounds interleaved across targets: list A,B,C, get A,B,C, ... then again."""
    options = context.options
    results: dict[tuple[str, str], Result] = {}
    for operation in OPERATION_ORDER:
        for name, server in servers.items():
            if operation not in operations_of(name, context.options):
                continue
            result = Result(report.kind, name, operation)
            reason = _preflight(context, server, operation)
            if reason:
                result.note = reason
                print(f"!! {name} {operation}: {reason}")
                report.results.append(result)
                continue
            request, user = _request(context, operation)
            run_wrk(context.wrk, server.base_url, context.token(user), request, options.warmup)
            results[(name, operation)] = result
            report.results.append(result)
    for round_number in range(1, options.rounds + 1):
        for (name, operation), result in results.items():
            request, user = _request(context, operation)
            server = servers[name]
            report.sample_load()
            measurement = run_wrk(
                context.wrk, server.base_url, context.token(user), request, options.duration
            )
            result.runs.append(measurement)
            print(
                f"[{report.kind} round {round_number}/{options.rounds}] "
                f"{name:>7} {operation:<6} {_describe(measurement)}"
            )


def _deep_cursor(
    server: UvicornServer, token: str, target_depth: int, seconds: float, filters: str = ""
) -> tuple[str | None, int]:
    """Follow X-Next-Cursor with limit=100 pages until `target_depth` tasks or the deadline."""
    deadline = time.monotonic() + seconds
    cursor: str | None = None
    depth = 0
    while depth < target_depth and time.monotonic() < deadline:
        query = "limit=100" + filters
        if cursor:
            query += f"&cursor={urllib.parse.quote(cursor, safe='')}"
        status, headers, _ = http_request(
            server.base_url, "GET", f"/api/{SCALER}/tasks?{query}", token
        )
        next_cursor = headers.get("x-next-cursor")
        if status != 200 or not next_cursor:
            break
        cursor = next_cursor
        depth += 100
    return cursor, depth


# First pages of filtered lists, measured at the largest scale (bench/database.py seeds the
# word and tag frequencies).
FILTERED_PAGES = {
    f"q 1% ({db.COMMON_WORD})": f"&q={db.COMMON_WORD}",
    f"q 10 tasks ({db.RARE_WORD})": f"&q={db.RARE_WORD}",
    f"tag 1% ({db.COMMON_TAG})": f"&tag={db.COMMON_TAG}",
    "priority=high&sort=due_date": "&priority=high&sort=due_date",
}
DEEP_FILTER = f"&tag={db.COMMON_TAG}"
# The reminder lists (contract 1.4.0), on the reminders db.seed_reminders gives one task in
# 10 of the scaling user: a notifier's one-minute window and a week's.
REMINDER_PAGES = {
    f"sort=remind_at, {name} window": (
        "&sort=remind_at"
        f"&remind_from={db.REMINDER_WINDOW_START:%Y-%m-%dT%H:%M:%SZ}"
        f"&remind_to={db.REMINDER_WINDOW_START + width:%Y-%m-%dT%H:%M:%SZ}"
    )
    for name, width in db.REMINDER_WINDOWS.items()
}


# The second shape of 1,000,000 tasks: many users with a few each. The listing user owns
# task numbers 4,200-4,299, so one of each: the 1% word, the rare word, the 1% tag.
MANY_USERS = 10_000
TASKS_PER_MANY_USER = 100
MANY_USER = db.many_user_id(42)


def _many_user_plans(
    context: Context, server: UvicornServer, report: DatabaseReport
) -> list[tuple[ScalingResult, UvicornServer, Request]]:
    """Filtered first pages of one user among MANY_USERS, after seeding them."""
    started = time.perf_counter()
    db.seed_many_users(context.database, MANY_USERS, TASKS_PER_MANY_USER)
    print(
        f"-- {report.kind}: {MANY_USERS:,} users x {TASKS_PER_MANY_USER} tasks seeded in "
        f"{time.perf_counter() - started:.1f} s"
    )
    shape = f"{MANY_USERS:,} users x {TASKS_PER_MANY_USER}"
    total = MANY_USERS * TASKS_PER_MANY_USER
    return [
        (
            ScalingResult(report.kind, "api", f"{name}, {shape}", tasks=total),
            server,
            Request("GET", f"/api/{MANY_USER}/tasks?limit=20{filters}"),
        )
        for name, filters in FILTERED_PAGES.items()
    ]


def _filtered_plans(
    context: Context, server: UvicornServer, scale: int, report: DatabaseReport
) -> list[tuple[ScalingResult, UvicornServer, Request]]:
    plans = [
        (
            ScalingResult(report.kind, "api", name, tasks=scale),
            server,
            Request("GET", f"/api/{SCALER}/tasks?limit=20{filters}"),
        )
        for name, filters in FILTERED_PAGES.items()
    ]
    started = time.perf_counter()
    reminded = db.seed_reminders(context.database, SCALER)
    if reminded:
        print(
            f"-- {report.kind}: {reminded:,} of {SCALER}'s tasks given a reminder in "
            f"{time.perf_counter() - started:.1f} s"
        )
        plans.extend(
            (
                ScalingResult(report.kind, "api", name, tasks=scale),
                server,
                Request("GET", f"/api/{SCALER}/tasks?limit=20{filters}"),
            )
            for name, filters in REMINDER_PAGES.items()
        )
    else:
        print(f"-- {report.kind}: no remind_at column (before 1.4.0): reminders not measured")
    token = context.token(SCALER)
    matches = scale // 100
    cursor, depth = _deep_cursor(
        server, token, matches // 2, context.options.deep_walk_seconds, DEEP_FILTER
    )
    deep = ScalingResult(report.kind, "api", "deep page, tag 1%", tasks=scale, depth=depth)
    if cursor:
        path = (
            f"/api/{SCALER}/tasks?limit=20{DEEP_FILTER}"
            f"&cursor={urllib.parse.quote(cursor, safe='')}"
        )
        plans.append((deep, server, Request("GET", path)))
    else:
        deep.note = "no X-Next-Cursor on the first page"
        report.scaling.append(deep)
    return plans


def _drain(server: UvicornServer, token: str, request: Request) -> None:
    """Wait out the requests wrk left queued in the server when it stopped.

    One worker answers in order: a request sent now is answered after the backlog, so a slow
    page's leftovers never count against the next measurement.
    """
    http_request(server.base_url, request.method, request.path, token)


def measure_scaling(
    context: Context, servers: dict[str, UvicornServer], report: DatabaseReport
) -> None:
    """List latency for one user with growing task counts: first page and a deep page."""
    options = context.options
    token = context.token(SCALER)
    for scale in (scale for scale in SCALES if scale <= options.max_scale):
        started = time.perf_counter()
        db.seed_tasks(
            context.database, SCALER, scale - context.scale_count, offset=context.scale_count
        )
        context.scale_count = scale
        seconds = time.perf_counter() - started
        print(f"-- {report.kind}: {SCALER} has {scale:,} tasks (seeded in {seconds:.1f} s)")
        plans: list[tuple[ScalingResult, UvicornServer, Request]] = []
        first_page = Request("GET", f"/api/{SCALER}/tasks?limit=20")
        if "api" in servers:
            plans.append(
                (
                    ScalingResult(report.kind, "api", "first page", tasks=scale),
                    servers["api"],
                    first_page,
                )
            )
            cursor, depth = _deep_cursor(
                servers["api"], token, scale // 2, options.deep_walk_seconds
            )
            deep = ScalingResult(report.kind, "api", "deep page", tasks=scale, depth=depth)
            if cursor:
                path = f"/api/{SCALER}/tasks?limit=20&cursor={urllib.parse.quote(cursor, safe='')}"
                plans.append((deep, servers["api"], Request("GET", path)))
            else:
                deep.note = "no X-Next-Cursor on the first page"
                report.scaling.append(deep)
        if "api" in servers and scale == max(x for x in SCALES if x <= options.max_scale):
            plans.extend(_filtered_plans(context, servers["api"], scale, report))
            if scale == MANY_USERS * TASKS_PER_MANY_USER:
                plans.extend(_many_user_plans(context, servers["api"], report))
        if "raw" in servers:
            plans.append(
                (
                    ScalingResult(report.kind, "raw", "first page", tasks=scale),
                    servers["raw"],
                    first_page,
                )
            )
        for result, server, request in plans:
            owner_token = context.token(_owner_of(request))
            run_wrk(context.wrk, server.base_url, owner_token, request, options.warmup)
            _drain(server, owner_token, request)
            report.scaling.append(result)
        for round_number in range(1, options.rounds + 1):
            for result, server, request in plans:
                owner_token = context.token(_owner_of(request))
                report.sample_load()
                measurement = run_wrk(
                    context.wrk, server.base_url, owner_token, request, options.duration
                )
                _drain(server, owner_token, request)
                result.runs.append(measurement)
                print(
                    f"[{report.kind} {scale:>9,} round {round_number}/{options.rounds}] "
                    f"{result.target:>4} {result.operation:<28} {_describe(measurement)}"
                )


def _owner_of(request: Request) -> str:
    """The user of an `/api/{user_id}/...` request: its token's subject."""
    return request.path.split("/")[2]


def run_database(
    database: db.Database, repo_root: Path, log_dir: Path, secret: str, wrk: str, options: Options
) -> DatabaseReport:
    """Schema, seed, start servers, measure operations and (unless skipped) scaling."""
    schema = db.prepare_schema(database, repo_root)
    report = DatabaseReport(kind=database.kind, schema=schema)
    started = time.perf_counter()
    ranges = [
        db.seed_tasks(database, f"bench-user-{number}", options.tasks_per_user, offset=0)
        for number in range(1, options.users + 1)
    ]
    print(
        f"-- {database.kind}: table by {schema}; seeded {options.users} users x "
        f"{options.tasks_per_user:,} tasks in {time.perf_counter() - started:.1f} s"
    )
    context = Context(
        database, secret, options, wrk, ranges[0], ranges[1 if len(ranges) > 1 else 0]
    )
    with running_servers(context, repo_root, log_dir, report) as servers:
        measure_operations(context, servers, report)
        if options.skip_scaling:
            report.notes.append("scaling skipped (--skip-scaling)")
        else:
            measure_scaling(context, servers, report)
    return report
