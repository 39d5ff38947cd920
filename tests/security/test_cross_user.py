"""Group 2: the cross-user (BOLA) matrix, derived from openapi/openapi.json, not hand-listed.

For every operation with a `user_id` path parameter: user A's token on user B's path is
403 (whether B's task exists or not); B's task id under A's own path is 404 like any
unknown id; and after each attempt B's tasks are exactly what they were.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import httpx
import jsonschema
import pytest

from tests.conftest import make_task, new_owner, token_for
from tests.support.contract import HTTP_METHODS, load_contract, minimal_value, resolve

pytestmark = pytest.mark.anyio

MISSING_TASK_ID = 9_000_000_000_000_000_000  # within int64, never assigned in a test run
# Conditional headers change what a request means (412, 304): the matrix sends them in a
# test of their own, not with every request.
CONDITIONAL = ("If-Match", "If-None-Match")


# --- the matrix ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    path: str
    takes_task_id: bool
    body: Any
    """A minimal valid JSON body, or None when the operation takes none."""
    headers: dict[str, str] = field(default_factory=dict)
    """A minimal valid value of each header parameter (Idempotency-Key on createTask)."""
    conditional: tuple[str, ...] = ()
    """The conditional headers it takes (If-Match on writes, If-None-Match on getTask)."""

    def url(self, user_id: str, task_id: int) -> str:
        return self.path.format(user_id=user_id, task_id=task_id)

    async def send(
        self,
        client: httpx.AsyncClient,
        *,
        as_user: str,
        user_id: str,
        task_id: int,
        extra: dict[str, str] | None = None,
    ) -> httpx.Response:
        return await client.request(
            self.method,
            self.url(user_id, task_id),
            headers={**self.headers, **(extra or {}), **token_for(as_user)},
            json=self.body if self.body is not None else None,
        )


def user_operations(contract: dict[str, Any]) -> list[Operation]:
    """Every operation of the contract with a `user_id` path parameter."""
    found = []
    for path, item in contract["paths"].items():
        shared = item.get("parameters", [])
        for method in HTTP_METHODS:
            if method not in item:
                continue
            declared = item[method]
            parameters = [resolve(p, contract) for p in [*shared, *declared.get("parameters", [])]]
            in_path = {p["name"] for p in parameters if p["in"] == "path"}
            if "user_id" not in in_path:
                continue
            body = None
            if "requestBody" in declared:
                content = resolve(declared["requestBody"], contract)["content"]
                body = minimal_value(content["application/json"]["schema"], contract)
            headers = {
                p["name"]: str(minimal_value(p["schema"], contract))
                for p in parameters
                if p["in"] == "header" and p["name"] not in CONDITIONAL
            }
            conditional = tuple(
                p["name"] for p in parameters if p["in"] == "header" and p["name"] in CONDITIONAL
            )
            found.append(
                Operation(
                    declared["operationId"],
                    method.upper(),
                    path,
                    "task_id" in in_path,
                    body,
                    headers,
                    conditional,
                )
            )
    return found


MATRIX = user_operations(load_contract())
WITH_TASK_ID = [operation for operation in MATRIX if operation.takes_task_id]


def test_header_parameters_join_the_matrix() -> None:
    create = next(op for op in MATRIX if op.operation_id == "createTask")
    assert set(create.headers) == {"Idempotency-Key"}
    conditional = {op.operation_id: op.conditional for op in MATRIX if op.conditional}
    assert conditional == {
        "getTask": ("If-None-Match",),
        "updateTask": ("If-Match",),
        "deleteTask": ("If-Match",),
        "toggleTaskCompletion": ("If-Match",),
    }
    toggle = next(op for op in MATRIX if op.operation_id == "toggleTaskCompletion")
    assert toggle.body == {"completed": True}


async def test_a_key_never_answers_for_another_user(client: httpx.AsyncClient) -> None:
    """B sending A's key, on B's path, creates B's own task; on A's path, is 403."""
    owner_a, owner_b = new_owner(), new_owner()
    key = {"Idempotency-Key": "shared-key"}
    body = {"title": "A's keyed task"}
    mine = await client.post(
        f"/api/{owner_a}/tasks", json=body, headers={**key, **token_for(owner_a)}
    )
    assert mine.status_code == 201, mine.text
    before_a = await snapshot(client, owner_a)
    theirs = await client.post(
        f"/api/{owner_b}/tasks", json=body, headers={**key, **token_for(owner_b)}
    )
    assert theirs.status_code == 201, theirs.text
    assert theirs.json()["id"] != mine.json()["id"]
    assert theirs.json()["user_id"] == owner_b
    assert owner_a not in theirs.text
    forbidden = await client.post(
        f"/api/{owner_a}/tasks", json=body, headers={**key, **token_for(owner_b)}
    )
    assert_problem(forbidden, 403)
    assert "A's keyed task" not in forbidden.text
    assert await snapshot(client, owner_a) == before_a


def by_id(operation: Operation) -> str:
    return f"{operation.operation_id}-{operation.method}"


# --- the matrix covers the contract ----------------------------------------------------------


def test_the_matrix_holds_exactly_the_contracts_user_operations() -> None:
    contract = load_contract()
    expected = {
        operation["operationId"]
        for path, item in contract["paths"].items()
        if "{user_id}" in path
        for method, operation in item.items()
        if method in HTTP_METHODS
    }
    assert {operation.operation_id for operation in MATRIX} == expected
    assert len(MATRIX) == len(expected) > 0


def test_an_operation_added_to_the_contract_joins_the_matrix() -> None:
    contract = copy.deepcopy(load_contract())
    template = contract["paths"]["/api/{user_id}/tasks/{task_id}"]["put"]
    contract["paths"]["/api/{user_id}/tasks/{task_id}/archive"] = {
        "post": {**template, "operationId": "archiveTask"}
    }
    added = [op for op in user_operations(contract) if op.operation_id == "archiveTask"]
    assert len(added) == 1
    assert added[0].method == "POST"
    assert added[0].takes_task_id
    assert added[0].body == minimal_value(
        template["requestBody"]["content"]["application/json"]["schema"], contract
    )
    assert len(user_operations(contract)) == len(MATRIX) + 1


@pytest.mark.parametrize("operation", [op for op in MATRIX if op.body is not None], ids=by_id)
def test_each_example_body_is_valid_under_its_schema(operation: Operation) -> None:
    contract = load_contract()
    method = contract["paths"][operation.path][operation.method.lower()]
    schema = method["requestBody"]["content"]["application/json"]["schema"]
    # Validate with the components in scope, so $refs resolve.
    jsonschema.validate(operation.body, {**schema, "components": contract["components"]})


# --- the matrix against the server -----------------------------------------------------------


async def snapshot(client: httpx.AsyncClient, owner: str) -> list[dict[str, Any]]:
    """Everything `owner` has, read through the owner's own token."""
    response = await client.get(
        f"/api/{owner}/tasks", params={"limit": 100}, headers=token_for(owner)
    )
    assert response.status_code == 200, response.text
    tasks: list[dict[str, Any]] = response.json()
    return tasks


def assert_problem(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == status


@pytest.fixture
async def victim(client: httpx.AsyncClient) -> tuple[str, dict[str, Any]]:
    owner = new_owner()
    await make_task(
        client,
        owner,
        title="older",
        due_date="2031-05-01",
        priority="high",
        tags=["shared"],
        due_time="09:00",
        remind_before_minutes=30,
    )
    task = await make_task(client, owner, title="B's private task", description="only B")
    return owner, task


@pytest.mark.parametrize("operation", MATRIX, ids=by_id)
@pytest.mark.parametrize("task", ["existing-task", "missing-task"])
async def test_a_token_on_another_users_path_is_403(
    client: httpx.AsyncClient,
    victim: tuple[str, dict[str, Any]],
    operation: Operation,
    task: str,
) -> None:
    """Existing or not, B's tasks answer A alike: ownership is checked before existence."""
    owner_b, task_b = victim
    before = await snapshot(client, owner_b)
    task_id = task_b["id"] if task == "existing-task" else MISSING_TASK_ID
    response = await operation.send(client, as_user=new_owner(), user_id=owner_b, task_id=task_id)
    assert_problem(response, 403)
    assert "B's private task" not in response.text
    assert await snapshot(client, owner_b) == before


@pytest.mark.parametrize("operation", WITH_TASK_ID, ids=by_id)
async def test_another_users_task_id_under_ones_own_path_is_404(
    client: httpx.AsyncClient, victim: tuple[str, dict[str, Any]], operation: Operation
) -> None:
    owner_b, task_b = victim
    owner_a = new_owner()
    await make_task(client, owner_a, title="A's own")
    before_a, before_b = await snapshot(client, owner_a), await snapshot(client, owner_b)
    response = await operation.send(client, as_user=owner_a, user_id=owner_a, task_id=task_b["id"])
    assert_problem(response, 404)
    unknown = await operation.send(
        client, as_user=owner_a, user_id=owner_a, task_id=MISSING_TASK_ID
    )
    assert_problem(unknown, 404)
    # No oracle: B's id and an unassigned id read the same, apart from the id itself.
    assert response.json()["detail"].replace(str(task_b["id"]), "N") == unknown.json()[
        "detail"
    ].replace(str(MISSING_TASK_ID), "N")
    assert await snapshot(client, owner_b) == before_b
    assert await snapshot(client, owner_a) == before_a


@pytest.mark.parametrize("operation", MATRIX, ids=by_id)
async def test_the_owner_can_do_what_the_others_cannot(
    client: httpx.AsyncClient, victim: tuple[str, dict[str, Any]], operation: Operation
) -> None:
    """The control: each example request succeeds for B, so the 403s above mean something."""
    owner_b, task_b = victim
    response = await operation.send(client, as_user=owner_b, user_id=owner_b, task_id=task_b["id"])
    assert 200 <= response.status_code < 300, response.text


# Values of listTasks' filters that B's "older" task matches; the paging and order
# parameters do not select tasks. A filter added to the contract must be added here.
FILTER_VALUES: dict[str, Any] = {
    "status": "pending",
    "priority": "high",
    "tag": ["shared"],
    "due_from": "2031-05-01",
    "due_to": "2031-05-01",
    "q": "OLDER",
    # The reminder window (1.4.0), which lists with sort=remind_at: B's reminder is at 08:30.
    "remind_from": "2031-05-01T08:00:00Z",
    "remind_to": "2031-05-01T09:00:00Z",
}
REMINDER_SORT = {"sort": "remind_at"}
NOT_FILTERS = {"limit", "cursor", "sort"}


def list_query_parameters() -> set[str]:
    operation = next(op for op in MATRIX if op.operation_id == "listTasks")
    declared = load_contract()["paths"][operation.path]["get"]["parameters"]
    return {parameter["name"] for parameter in declared if parameter["in"] == "query"}


def test_every_filter_of_the_list_is_in_the_filter_matrix() -> None:
    assert list_query_parameters() == set(FILTER_VALUES) | NOT_FILTERS


@pytest.mark.parametrize("name", sorted(FILTER_VALUES))
async def test_a_filter_never_reaches_another_users_tasks(
    client: httpx.AsyncClient, victim: tuple[str, dict[str, Any]], name: str
) -> None:
    """The tag table and the search index answer for the owner in the path only."""
    owner_b, _ = victim
    owner_a = new_owner()
    query = {name: FILTER_VALUES[name]}
    if name.startswith("remind_"):
        query |= REMINDER_SORT
    everything = FILTER_VALUES | REMINDER_SORT
    for params in (query, everything):
        mine = await client.get(f"/api/{owner_a}/tasks", params=params, headers=token_for(owner_a))
        assert mine.status_code == 200, mine.text
        assert mine.json() == []
        # The control: the same filters find B's task for B.
        theirs = await client.get(
            f"/api/{owner_b}/tasks", params=params, headers=token_for(owner_b)
        )
        assert "older" in [task["title"] for task in theirs.json()]


CONDITIONAL_MATRIX = [operation for operation in MATRIX if operation.conditional]


@pytest.mark.parametrize("operation", CONDITIONAL_MATRIX, ids=by_id)
async def test_conditional_headers_open_no_door_to_another_users_task(
    client: httpx.AsyncClient, victim: tuple[str, dict[str, Any]], operation: Operation
) -> None:
    """`*` matches any task that exists: on B's path it is still 403, and B's task id
    under A's own path answers as an unassigned id does (412 for If-Match, RFC 9110; 404
    for If-None-Match), so neither header tells A that B's task exists."""
    owner_b, task_b = victim
    owner_a = new_owner()
    before = await snapshot(client, owner_b)
    match_any = dict.fromkeys(operation.conditional, "*")
    foreign = await operation.send(
        client, as_user=owner_a, user_id=owner_b, task_id=task_b["id"], extra=match_any
    )
    assert_problem(foreign, 403)
    answers = [
        await operation.send(
            client, as_user=owner_a, user_id=owner_a, task_id=task_id, extra=match_any
        )
        for task_id in (task_b["id"], MISSING_TASK_ID)
    ]
    status = 412 if "If-Match" in operation.conditional else 404
    for answer in answers:
        assert_problem(answer, status)
    details = [
        answer.json()["detail"].replace(str(task_id), "N")
        for answer, task_id in zip(answers, (task_b["id"], MISSING_TASK_ID), strict=True)
    ]
    assert details[0] == details[1]
    assert await snapshot(client, owner_b) == before
