"""The framework ceiling: one `async def` endpoint that returns a constant small object."""

from typing import Any

from fastapi import FastAPI


def create_app() -> FastAPI:
    application = FastAPI()

    @application.get("/api/{user_id}/tasks")
    async def constant(user_id: str) -> dict[str, Any]:
        return {"status": "ok", "items": 0}

    return application


app = create_app()
