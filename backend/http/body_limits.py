"""Admission of request bodies: size limit (413) and media type (415), before any parsing."""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.http.problems import problem

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _replay(messages: list[Message], then: Receive | None = None) -> Receive:
    """A receive() that yields `messages`, then defers to `then` (disconnect notices)."""
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        if then is None:
            return {"type": "http.disconnect"}
        return await then()

    return receive


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


class BodyLimits:
    """Answers 413 past `max_bytes` (declared or streamed) and 415 for non-JSON bodies."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        declared = request.headers.get("content-length")
        if declared is not None and not declared.isdigit():
            # HTTP servers refuse such a header themselves; in case one lets it through, it is
            # an invalid request header, not a body that is too large.
            issue = {"location": "header.content-length", "message": "is not a byte count"}
            detail = "the request is invalid: header.content-length"
            await problem(request, 422, detail, errors=[issue])(scope, receive, send)
            return
        if declared is not None and int(declared) > self.max_bytes:
            await self._too_large(request, scope, receive, send)
            return
        has_body = (
            declared != "0" if declared is not None else "transfer-encoding" in request.headers
        )
        content_type = request.headers.get("content-type")
        if has_body and (content_type is None or not _is_json(content_type)):
            response = problem(
                request, 415, f"the body must be application/json, not {content_type or 'untyped'}"
            )
            await response(scope, receive, send)
            return

        # Read the whole (bounded) body here and replay it: the app's own body errors would
        # hide a streamed overrun behind a generic 400.
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)
                return
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max_bytes:
                await self._too_large(request, scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([body], then=receive), send)

    async def _too_large(
        self, request: Request, scope: Scope, receive: Receive, send: Send
    ) -> None:
        detail = f"the body is larger than {self.max_bytes} bytes"
        await problem(request, 413, detail, headers={"Connection": "close"})(scope, receive, send)
