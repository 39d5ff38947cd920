"""Operational probes outside the task API: is the process up, can it reach its database."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from backend.http.problems import problem
from backend.queries.store import TaskStore

# Shorter than a load balancer's probe interval; a database slower than this is not ready.
READINESS_TIMEOUT_SECONDS = 2.0

router = APIRouter()


async def livez(_request: Request) -> Response:
    """The process serves requests; says nothing about the database."""
    return JSONResponse({"status": "live"})


async def readyz(request: Request) -> Response:
    """Ready when `SELECT 1` answers in time. An unreachable database raises the driver's
    error, which errors.py answers with 503; a slow one is answered 503 here."""
    store: TaskStore = request.app.state.store
    try:
        async with asyncio.timeout(READINESS_TIMEOUT_SECONDS):
            await store.ping()
    except TimeoutError:
        detail = f"the database did not answer within {READINESS_TIMEOUT_SECONDS:g} s"
        return problem(request, 503, detail, headers={"Retry-After": "1"})
    return JSONResponse({"status": "ready"})


# Plain Starlette routes, not API operations: they are not in the contract (openapi/) and
# carry no user data, so no OpenAPI entry, no auth, no generated models.
router.add_route("/livez", livez, methods=["GET"], include_in_schema=False)
router.add_route("/readyz", readyz, methods=["GET"], include_in_schema=False)
