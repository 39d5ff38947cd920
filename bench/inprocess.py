"""`python -m bench.inprocess`: CPU time per create request, in one process, no network.

wrk's figures move by several percent from one run to the next on a shared machine. This
measures the server's own work on the create path instead: sequential POSTs through
httpx's ASGI transport to the app of a checkout (this one, or each `--tree`, such as a
`git worktree` of an older revision), on SQLite in a temporary file, each run in its own
process; the trees are interleaved run by run, and the medians printed. `--key` sends
every create with its own `Idempotency-Key`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-inprocess-secret-of-at-least-32-bytes"
USER = "bench-user"
BODY = {"title": "Bench task", "description": "Created under load"}


async def measure(requests: int, warmup: int, keyed: bool) -> float:
    """CPU microseconds per create, past the warm-up (the backend imported is the tree's)."""
    import httpx
    import jwt

    from backend.main import create_app
    from backend.settings import Settings

    with tempfile.TemporaryDirectory(prefix="bench-inprocess-") as scratch:
        settings = Settings(
            _env_file=None,
            database_url=f"sqlite:///{scratch}/bench.sqlite3",
            better_auth_secret=SECRET,
            migrate_on_start=True,
        )
        app = create_app(settings)
        token = jwt.encode({"sub": USER, "exp": int(time.time()) + 3600}, SECRET, "HS256")
        headers = {"Authorization": f"Bearer {token}"}
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://bench") as client,
        ):
            started = 0.0
            for number in range(warmup + requests):
                if number == warmup:
                    started = time.process_time()
                key = {"Idempotency-Key": f"bench-{number}"} if keyed else {}
                response = await client.post(
                    f"/api/{USER}/tasks", json=BODY, headers={**headers, **key}
                )
                if response.status_code != 201:
                    raise SystemExit(f"create answered {response.status_code}: {response.text}")
            return (time.process_time() - started) / requests * 1e6


def run_child(tree: Path, arguments: argparse.Namespace) -> float:
    # Run as a script, so that the tree's own `backend` is the one imported.
    command = [
        sys.executable,
        __file__,
        "--child",
        "--requests",
        str(arguments.requests),
        "--warmup",
        str(arguments.warmup),
        *(["--key"] if arguments.key else []),
    ]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    result = subprocess.run(
        command, cwd=tree, env=env, capture_output=True, text=True, check=False, timeout=600
    )
    if result.returncode != 0:
        raise SystemExit(f"{tree}: {(result.stdout + result.stderr).strip()}")
    return float(result.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.inprocess", description=__doc__)
    parser.add_argument("--tree", type=Path, action="append", help="a checkout (repeatable)")
    parser.add_argument("--runs", type=int, default=6, help="runs per tree (default 6)")
    parser.add_argument("--requests", type=int, default=2500, help="measured creates per run")
    parser.add_argument("--warmup", type=int, default=500, help="creates before measuring")
    parser.add_argument("--key", action="store_true", help="an Idempotency-Key on every create")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.child:
        print(f"{asyncio.run(measure(arguments.requests, arguments.warmup, arguments.key)):.1f}")
        return 0
    trees = [tree.resolve() for tree in arguments.tree or [REPO_ROOT]]
    figures: dict[Path, list[float]] = {tree: [] for tree in trees}
    for run in range(1, arguments.runs + 1):
        for tree in trees:
            figures[tree].append(run_child(tree, arguments))
            print(f"run {run}/{arguments.runs} {tree}: {figures[tree][-1]:.0f} us")
    kind = "keyed creates" if arguments.key else "creates"
    print(f"\nCPU per request, {arguments.requests:,} sequential {kind} per run:")
    for tree, values in figures.items():
        print(
            f"- {tree}: median {statistics.median(values):.0f} us "
            f"(runs {min(values):.0f} to {max(values):.0f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
