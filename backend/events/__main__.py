"""The operator's command for events (docs/OPERATIONS.md, "Events and webhooks").

    python -m backend.events relay                 deliver, as a process of its own
    python -m backend.events failed [--endpoint E] [--days N] [--limit N]
    python -m backend.events redeliver [--endpoint E] [--days N] | --event EVENT_ID
    python -m backend.events disabled
    python -m backend.events enable ENDPOINT

It reads the server's settings (DATABASE_URL, WEBHOOK_*) from the environment and `.env`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from datetime import UTC, datetime, timedelta

from backend.events.operations import Operations
from backend.events.relay import Relay
from backend.settings import Settings
from backend.storage.factory import connect
from backend.telemetry import tracing


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m backend.events", description=__doc__.split("\n\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("relay", help="deliver events until stopped (SIGTERM or Ctrl-C)")
    failed = commands.add_parser("failed", help="list the deliveries that failed")
    redeliver = commands.add_parser("redeliver", help="send failed deliveries (or one event) again")
    for command in (failed, redeliver):
        command.add_argument("--endpoint", help="only this endpoint's deliveries")
        command.add_argument(
            "--days", type=float, default=30.0, help="events of the last N days (default 30)"
        )
    failed.add_argument("--limit", type=int, default=100, help="at most N rows (default 100)")
    redeliver.add_argument("--event", help="this event (evt_...), whatever its deliveries' state")
    commands.add_parser("disabled", help="list the endpoints a receiver disabled (410 Gone)")
    enable = commands.add_parser("enable", help="send to an endpoint a receiver disabled again")
    enable.add_argument("endpoint")
    return parser


async def _relay(settings: Settings) -> int:
    database = connect(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    # Traced as the server is, from the OTEL_* variables: a delivery continues its write's trace.
    traced = tracing.tracing_for(None)
    try:
        await Relay(database, settings, tracer=traced.tracer if traced else None).run(stop)
    finally:
        await database.close()
        provider = tracing.process_provider()
        if provider is not None:
            await asyncio.to_thread(provider.force_flush)
    return 0


async def _operate(settings: Settings, args: argparse.Namespace) -> int:
    database = connect(settings)
    operations = Operations(database)
    now = datetime.now(UTC)
    try:
        if args.command == "failed":
            since = now - timedelta(days=args.days)
            rows = await operations.failed(since, args.endpoint, args.limit)
            for row in rows:
                sys.stdout.write(
                    f"{row.event_id}  {row.type:<15} task {row.task_id} of {row.user_id}  "
                    f"to {row.endpoint}  {row.attempts} attempts  "
                    f"last: {row.last_status or '-'} {row.last_error or ''}\n"
                )
            sys.stdout.write(f"{len(rows)} failed deliveries\n")
        elif args.command == "redeliver":
            count = await operations.redeliver(
                now,
                timedelta(seconds=settings.webhook_max_age_seconds),
                since=now - timedelta(days=args.days),
                endpoint=args.endpoint,
                event_id=args.event,
            )
            sys.stdout.write(f"{count} deliveries pending again: the relay sends them\n")
        elif args.command == "disabled":
            for name, when, reason in await operations.disabled():
                sys.stdout.write(f"{name}  disabled at {when.isoformat()}: {reason or ''}\n")
        elif args.command == "enable":
            if not await operations.enable(args.endpoint):
                sys.stdout.write(f"{args.endpoint} was not disabled\n")
                return 1
            sys.stdout.write(f"{args.endpoint} enabled: its pending deliveries are sent\n")
    finally:
        await database.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings()
    if args.command == "relay":
        with contextlib.suppress(KeyboardInterrupt):
            return asyncio.run(_relay(settings))
        return 0
    return asyncio.run(_operate(settings, args))


if __name__ == "__main__":
    sys.exit(main())
