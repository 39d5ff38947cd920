"""The RFC 9457 problem-details response, and the errors the HTTP layer itself raises.

Every error still answers through errors.py's one table; what lives here is what the edge
and the handlers need without knowing that table (and everything it names).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import orjson
from starlette.requests import Request
from starlette.responses import Response

PROBLEM_MEDIA_TYPE = "application/problem+json"
# RFC 3986 `pchar` and `/`, without `%`: the characters a path may carry unescaped.
PATH_SAFE = "/!$&'()*+,;=:@-._~"


class NotAuthenticated(Exception):
    """No usable `Authorization: Bearer` header."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotTaskOwner(Exception):
    """The token is valid but names another user than the path."""


class InvalidRequest(Exception):
    """A rule of the contract that the generated models cannot express was broken."""

    def __init__(self, location: str, message: str) -> None:
        super().__init__(message)
        self.location = location
        self.message = message


def problem(
    request: Request,
    status: int,
    detail: str,
    *,
    errors: Sequence[Mapping[str, str]] = (),
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A problem-details response (RFC 9457) for this request."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": instance_of(request),
    }
    if errors:
        body["errors"] = list(errors)
    return Response(
        orjson.dumps(body), status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE
    )


def instance_of(request: Request) -> str:
    """The request path as a URI reference: the decoded path may hold any character."""
    return quote(request.url.path, safe=PATH_SAFE)
