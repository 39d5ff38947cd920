"""Signs that DATABASE_URL leads to a transaction-mode pooler, and the one warning about it."""

from __future__ import annotations

import logging
from typing import Final

import psycopg

logger = logging.getLogger(__name__)

# What such a pooler does to prepared statements: the server session changed under them.
# Neither error ran the statement, so it may be sent again, unprepared.
PREPARED_STATEMENT_ERRORS: Final = (
    psycopg.errors.DuplicatePreparedStatement,
    psycopg.errors.InvalidSqlStatementName,
)
# PgBouncer's answer to the session settings sent at connection time.
REFUSED_STARTUP_OPTIONS: Final = "unsupported startup parameter"


def refuses_startup_options(error: psycopg.OperationalError) -> bool:
    """A connection failed because a pooler refused its startup options."""
    return REFUSED_STARTUP_OPTIONS in str(error)


def warn_pooler_found(cause: psycopg.Error) -> None:
    logger.warning(
        "DATABASE_URL leads to a transaction-mode pooler (%s) but DATABASE_TRANSACTION_POOLER "
        "is not set: statements are no longer prepared and no session settings are sent (the "
        "statement timeout is the role's); set DATABASE_TRANSACTION_POOLER=true",
        type(cause).__name__,
    )
