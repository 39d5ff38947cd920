"""Every error the server answers, as an RFC 9457 problem-details body, in one place: the
table from each exception, wherever it is raised, to its problem (built by http/problems.py)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from backend import contract
from backend.auth.tokens import TokenRejected
from backend.http.access_log import NO_ROUTE, REQUEST_ID_HEADER, request_id_of
from backend.http.problems import InvalidRequest, NotAuthenticated, NotTaskOwner, problem
from backend.queries.idempotency import IdempotencyKeyInFlight, IdempotencyKeyReused
from backend.queries.store import TaskNotFound
from backend.storage.database import DatabaseUnavailable
from backend.tasks.pagination import InvalidCursor
from backend.tasks.preconditions import PreconditionFailed, PreconditionRequired
from backend.tasks.schedule import InvalidSchedule

logger = logging.getLogger(__name__)

BEARER_REALM = 'Bearer realm="todo"'
IDEMPOTENCY_KEY_LOCATION = "header.Idempotency-Key"


def _location(loc: Sequence[str | int]) -> str:
    return ".".join(str(part) for part in loc)


def _validation_message(error: Mapping[str, Any]) -> str:
    if error.get("type") == "extra_forbidden":
        return "no such field in the request body"
    message = str(error.get("msg", "is invalid"))
    return message.removeprefix("Value error, ")


async def to_problem(request: Request, error: Exception) -> Response:
    """The problem-details answer to an exception raised while handling `request`."""
    match error:
        case RequestValidationError():
            issues = [
                {"location": _location(item["loc"]), "message": _validation_message(item)}
                for item in error.errors()
            ]
            named = ", ".join(sorted({issue["location"] for issue in issues}))
            return problem(request, 422, f"the request is invalid: {named}", errors=issues)
        case InvalidSchedule():
            location = f"body.{error.field}"
            issue = {"location": location, "message": error.message}
            return problem(request, 422, f"the request is invalid: {location}", errors=[issue])
        case InvalidRequest():
            issue = {"location": error.location, "message": error.message}
            return problem(
                request, 422, f"the request is invalid: {error.location}", errors=[issue]
            )
        case IdempotencyKeyReused():
            issue = {
                "location": IDEMPOTENCY_KEY_LOCATION,
                "message": "this key was first sent with another body; "
                "draw a new key for another request",
            }
            return problem(
                request, 422, f"the request is invalid: {IDEMPOTENCY_KEY_LOCATION}", errors=[issue]
            )
        case IdempotencyKeyInFlight():
            return problem(
                request,
                409,
                "a request with this Idempotency-Key is still being processed; retry later",
                headers={"Retry-After": "1"},
            )
        case InvalidCursor():
            issue = {"location": "query.cursor", "message": error.reason}
            return problem(request, 422, "the request is invalid: query.cursor", errors=[issue])
        case NotAuthenticated():
            return problem(request, 401, error.reason, headers={"WWW-Authenticate": BEARER_REALM})
        case TokenRejected():
            challenge = f'{BEARER_REALM}, error="invalid_token", error_description="{error.reason}"'
            return problem(request, 401, error.reason, headers={"WWW-Authenticate": challenge})
        case NotTaskOwner():
            return problem(request, 403, "the token does not belong to the user in the path")
        case TaskNotFound():
            return problem(request, 404, f"the user has no task with id {error.task_id}")
        case PreconditionFailed():
            return problem(
                request,
                412,
                f"task {error.task_id} changed since it was read, or is gone: If-Match names "
                "none of its tags; read it again and retry with its ETag",
            )
        case PreconditionRequired():
            return problem(
                request,
                428,
                "this server requires If-Match on writes: read the task and send its ETag",
            )
        case HTTPException(status_code=400) if isinstance(error.__cause__, ValueError):
            # FastAPI answers a body it cannot decode (not UTF-8) with a bare 400; the contract
            # answers every invalid body 422 with `errors`, as it does malformed JSON.
            issue = {"location": "body", "message": "the body is not UTF-8 encoded JSON"}
            return problem(request, 422, "the request is invalid: body", errors=[issue])
        case HTTPException():
            return _http_problem(request, error)
        case DatabaseUnavailable():
            logger.warning("database unavailable: %s", error)
            return problem(
                request,
                503,
                "the database is unavailable; retry later",
                headers={"Retry-After": "1"},
            )
    # Sent by Starlette's outermost middleware, outside AccessLog: name the request here.
    request_id = request_id_of(request.scope)
    # The route template, not the path: a path may carry anything a client put in it.
    route = getattr(request.scope.get("route"), "path", NO_ROUTE)
    logger.error(
        "unexpected error on %s %s",
        request.method,
        route,
        exc_info=error,
        extra={"request_id": request_id},
    )
    headers = {REQUEST_ID_HEADER: request_id} if request_id else None
    return problem(
        request, 500, "an unexpected error occurred; it has been logged", headers=headers
    )


def _http_problem(request: Request, error: HTTPException) -> Response:
    detail = error.detail if isinstance(error.detail, str) else HTTPStatus(error.status_code).phrase
    if error.status_code == 404 and detail == "Not Found":
        detail = f"no route matches {request.url.path}"
    headers = dict(error.headers or {})
    if error.status_code == 405:
        # Starlette names the methods of the first route that matched the path only; a path
        # of the contract may have several (GET, PUT and DELETE of one task): name them all.
        allowed = _allowed_methods(request)
        if allowed:  # else a route outside the contract (/readyz): Starlette's Allow is right
            headers["Allow"] = ", ".join(allowed)
        if detail == "Method Not Allowed":
            detail = (
                f"{request.method} is not supported on {request.url.path}; use {headers['Allow']}"
            )
    return problem(request, error.status_code, detail, headers=headers)


def _allowed_methods(request: Request) -> list[str]:
    methods = set(contract.methods_for(request.url.path))
    if "GET" in methods:
        methods.add("HEAD")  # Starlette answers HEAD wherever it answers GET
    return sorted(methods)


HANDLED = (
    RequestValidationError,
    InvalidRequest,
    InvalidSchedule,
    InvalidCursor,
    IdempotencyKeyReused,
    IdempotencyKeyInFlight,
    NotAuthenticated,
    PreconditionFailed,
    PreconditionRequired,
    TokenRejected,
    NotTaskOwner,
    TaskNotFound,
    HTTPException,
    DatabaseUnavailable,
    Exception,
)


def install_error_handlers(app: FastAPI) -> None:
    for error_class in HANDLED:
        app.add_exception_handler(error_class, to_problem)
