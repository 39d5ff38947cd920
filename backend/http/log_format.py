"""How the server's own log lines look: text for people, or one JSON object per line.

Applies to the `backend` loggers (the access log and the application's messages). In JSON,
uvicorn's own lines in a worker (startup, shutdown, the traceback of an unexpected error)
become JSON too. uvicorn's main process never loads the app: `uvicorn_json_logging.json`,
the production command's `--log-config`, gives its lines `JsonFormatter` as well.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any, Final, Literal

import orjson

from backend.http.access_log import current_request_id

LogFormat = Literal["text", "json"]
SERVER_LOGGER: Final = "backend"
UVICORN_LOGGER: Final = "uvicorn"
"""uvicorn's handlers hang here; `uvicorn.error` propagates to it (`uvicorn.access` does not)."""
# Attributes a record may carry (the access log sets them), in the order they are shown.
RECORD_FIELDS: Final = ("request_id", "trace_id", "method", "route", "status", "duration_ms")


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _request_id(record: logging.LogRecord) -> str | None:
    request_id = getattr(record, "request_id", None)
    return request_id if isinstance(request_id, str) else current_request_id.get()


def _trace(record: logging.LogRecord) -> str:
    trace_id = getattr(record, "trace_id", None)
    return f" {trace_id}" if isinstance(trace_id, str) else ""


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, pid, message, request fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        for name in RECORD_FIELDS:
            value = _request_id(record) if name == "request_id" else getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


class TextFormatter(logging.Formatter):
    """`time level logger [pid request_id] message`, one line per record (tracebacks after)."""

    def format(self, record: logging.LogRecord) -> str:
        line = (
            f"{_timestamp(record)} {record.levelname} {record.name} "
            f"[{record.process} {_request_id(record) or '-'}{_trace(record)}] "
            f"{record.getMessage()}"
        )
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return line


class _StdoutHandler(logging.Handler):
    """Writes to whatever `sys.stdout` is at the time, one write per line."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            stream = sys.stdout
            stream.write(self.format(record) + "\n")
            stream.flush()
        except (OSError, ValueError, TypeError):
            self.handleError(record)


def configure_logging(log_format: LogFormat) -> None:
    """Send the `backend` loggers to stdout in `log_format` (idempotent: once per process)."""
    formatter = JsonFormatter() if log_format == "json" else TextFormatter()
    if log_format == "json":
        for uvicorn_handler in logging.getLogger(UVICORN_LOGGER).handlers:
            uvicorn_handler.setFormatter(formatter)
    logger = logging.getLogger(SERVER_LOGGER)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    for handler in logger.handlers:
        if isinstance(handler, _StdoutHandler):
            handler.setFormatter(formatter)
            return
    handler = _StdoutHandler()
    handler.setFormatter(formatter)
    logger.addHandler(handler)
