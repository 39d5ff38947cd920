"""Keeps credentials out of uvicorn's access log by redacting query-string values.

uvicorn logs each request's path with its query string, so a client that puts a token in
`?access_token=` (which the server refuses) would get it written to the log. Values of
the query parameters the contract declares are kept, unless they look like a JWT; every
other value becomes `[redacted]`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Final
from urllib.parse import unquote_plus

ACCESS_LOGGER: Final = "uvicorn.access"
REDACTED: Final = "[redacted]"
_PATH_ARGUMENT: Final = 2
"""uvicorn's access record args: (client, method, path?query, http_version, status)."""

# A base64url-encoded JSON object ("{" -> "eyJ"/"eyB"/"ewo"...) followed by a dot: the first
# segment of a JWS or JWE, also when percent-encoded.
_JWT_SHAPED = re.compile(r"e[wy][A-Za-z0-9_%-]{8,}(\.|%2E)", re.IGNORECASE)


def looks_like_jwt(text: str) -> bool:
    """True when `text` holds what looks like the start of a JWS or JWE (also percent-encoded)."""
    return _JWT_SHAPED.search(text) is not None


def redact_query(path: str, keep: frozenset[str]) -> str:
    """`path` with every query value redacted, except those of `keep` that are not JWTs."""
    base, separator, query = path.partition("?")
    if not separator:
        return path
    redacted = []
    for pair in query.split("&"):
        name, equals, value = pair.partition("=")
        if unquote_plus(name) in keep and not looks_like_jwt(value):
            redacted.append(pair)
        else:
            redacted.append(f"{name}{equals}{REDACTED}" if equals else REDACTED)
    return f"{base}?{'&'.join(redacted)}"


class QueryRedaction(logging.Filter):
    """A filter for the `uvicorn.access` logger: rewrites the path argument of each record."""

    def __init__(self, keep: Iterable[str]) -> None:
        super().__init__()
        self.keep = frozenset(keep)

    def filter(self, record: logging.LogRecord) -> bool:
        arguments = record.args
        if isinstance(arguments, tuple) and len(arguments) > _PATH_ARGUMENT:
            path = arguments[_PATH_ARGUMENT]
            if isinstance(path, str) and "?" in path:
                redacted = redact_query(path, self.keep)
                record.args = (*arguments[:_PATH_ARGUMENT], redacted, *arguments[3:])
        return True


def install_query_redaction(keep: Iterable[str]) -> None:
    """Add the filter to the access logger once per process (create_app may run many times)."""
    access_logger = logging.getLogger(ACCESS_LOGGER)
    for existing in access_logger.filters:
        if isinstance(existing, QueryRedaction):
            existing.keep = frozenset(keep)
            return
    access_logger.addFilter(QueryRedaction(keep))
