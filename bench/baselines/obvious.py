"""The tutorial way: sync handlers, a Session per request, ORM selects, response_model, PyJWT.

This is what a typical FastAPI + SQLModel walkthrough produces; the API should beat it.
"""

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Annotated

import jwt
from fastapi import Depends, FastAPI, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Field, Session, SQLModel, create_engine, select


class TaskBase(SQLModel):
    title: str = Field(max_length=200)
    description: str | None = None


class Task(TaskBase, table=True):
    __tablename__ = "tasks"

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=128, index=True)
    completed: bool = False
    due_date: date | None = None
    created_at: datetime
    updated_at: datetime


class TaskCreate(TaskBase):
    pass


class TaskRead(TaskBase):
    id: int
    user_id: str
    completed: bool
    due_date: date | None
    created_at: datetime
    updated_at: datetime


def create_app() -> FastAPI:
    database_url = os.environ["DATABASE_URL"]
    secret = os.environ["BETTER_AUTH_SECRET"]
    connect_args = {"check_same_thread": False} if database_url.startswith("sqlite") else {}
    engine = create_engine(database_url, connect_args=connect_args)
    bearer = HTTPBearer()

    def get_session() -> Iterator[Session]:
        with Session(engine) as session:
            yield session

    def current_user(
        user_id: str,
        credentials: Annotated[HTTPAuthorizationCredentials, Depends(bearer)],
    ) -> str:
        try:
            payload = jwt.decode(credentials.credentials, secret, algorithms=["HS256"])
        except jwt.InvalidTokenError as invalid:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Invalid token") from invalid
        if payload.get("sub") != user_id:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "Not your tasks")
        return user_id

    SessionDep = Annotated[Session, Depends(get_session)]
    UserDep = Annotated[str, Depends(current_user)]
    application = FastAPI()

    @application.get("/api/{user_id}/tasks", response_model=list[TaskRead])
    def list_tasks(
        user: UserDep, session: SessionDep, offset: int = 0, limit: int = 20
    ) -> list[Task]:
        statement = (
            select(Task)
            .where(Task.user_id == user)
            .order_by(Task.created_at.desc(), Task.id.desc())  # type: ignore[attr-defined, union-attr]
            .offset(offset)
            .limit(limit)
        )
        return list(session.exec(statement).all())

    @application.get("/api/{user_id}/tasks/{task_id}", response_model=TaskRead)
    def get_task(task_id: int, user: UserDep, session: SessionDep) -> Task:
        task = session.get(Task, task_id)
        if task is None or task.user_id != user:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "Task not found")
        return task

    @application.post("/api/{user_id}/tasks", response_model=TaskRead, status_code=201)
    def create_task(body: TaskCreate, user: UserDep, session: SessionDep) -> Task:
        now = datetime.now(UTC)
        task = Task.model_validate(
            body, update={"user_id": user, "created_at": now, "updated_at": now}
        )
        session.add(task)
        session.commit()
        session.refresh(task)
        return task

    return application


app = create_app()
