"""The served routes agree with the committed contract (openapi/openapi.json), and drift shows.

`conformance_problems` reads what FastAPI will actually enforce (the routes, their
parameters including those of sub-dependencies, body and response models) and compares it
with the contract the front end generates its client from. The app serves the committed
document as its /openapi.json, so nothing else would notice if a handler drifted from it.
"""

from __future__ import annotations

import copy
import json
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI, Query, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, Field, TypeAdapter, create_model
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined, to_jsonable_python

from backend import contract as backend_contract
from backend.http.body_limits import BODY_METHODS
from backend.main import create_app
from backend.routes import tasks
from backend.routes.dependencies import Owner, Store, get_owner, get_store, query_of
from backend.routes.tasks import ListQuery
from backend.settings import Settings
from generated.models import Task, TaskCreate

CONTRACT_PATH = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")
PARAMETER_LOCATIONS = ("path", "query", "header", "cookie")

# JSON Schema keywords compared as they are; `format` is compared for strings only,
# because Pydantic states integer ranges with minimum/maximum, not int32/int64.
CONSTRAINT_KEYWORDS = (
    "enum",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
)

# Rules of the contract that the generated models cannot express, so a handler enforces
# them in code; their HTTP behaviour is tested in tests/api/test_tasks.py.
ENFORCED_BY_HANDLERS = frozenset(
    {"updateTask: request body: minProperties is absent, contract says 1"}
)


# --- the comparison ---------------------------------------------------------------------------


def _resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> dict[str, Any]:
    """`schema` with a local `$ref` replaced by its target (sibling keywords kept)."""
    resolved = dict(schema)
    while "$ref" in resolved:
        pointer = resolved.pop("$ref")
        if not pointer.startswith("#/"):
            raise ValueError(f"only local references are supported, not {pointer}")
        target: Any = root
        for part in pointer[2:].split("/"):
            target = target[part]
        resolved = {**target, **resolved}
    return resolved


def _normalized(schema: Mapping[str, Any], root: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of a JSON schema that change what a client may send or receive.

    Pydantic writes `str | None` as `anyOf: [string, null]`, the contract as
    `type: [string, null]`; both become `type: {string, null}` here.
    """
    schema = _resolve(schema, root)
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:
        merged: dict[str, Any] = {"type": frozenset()}
        for branch in branches:
            normalized_branch = _normalized(branch, root)
            merged["type"] |= normalized_branch.pop("type")
            for keyword, value in normalized_branch.items():
                merged.setdefault(keyword, value)
        return merged
    declared = schema.get("type", ())
    types = frozenset([declared] if isinstance(declared, str) else declared)
    result: dict[str, Any] = {"type": types}
    for keyword in CONSTRAINT_KEYWORDS:
        if keyword in schema:
            result[keyword] = schema[keyword]
    if "format" in schema and "string" in types:
        result["format"] = schema["format"]
    if "object" in types:
        result["properties"] = {
            name: _normalized(property_schema, root)
            for name, property_schema in schema.get("properties", {}).items()
        }
        result["required"] = sorted(schema.get("required", []))
        result["additionalProperties"] = schema.get("additionalProperties", True)
    if "items" in schema:
        result["items"] = _normalized(schema["items"], root)
    return result


def _shown(value: Any) -> str:
    if isinstance(value, frozenset):
        return " or ".join(sorted(value)) or "unspecified"
    return json.dumps(value)


def _schema_differences(where: str, served: dict[str, Any], declared: dict[str, Any]) -> list[str]:
    if served["type"] != declared["type"]:
        # Comparing the insides of an array with those of an object would only add noise.
        return [
            f"{where}: type is {_shown(served['type'])}, contract says {_shown(declared['type'])}"
        ]
    problems: list[str] = []
    for keyword in (*CONSTRAINT_KEYWORDS, "format", "additionalProperties", "required"):
        if keyword in ("additionalProperties", "required") and (
            keyword not in served or keyword not in declared
        ):
            continue  # only objects have them
        if served.get(keyword) != declared.get(keyword):
            ours = _shown(served[keyword]) if keyword in served else "absent"
            theirs = _shown(declared[keyword]) if keyword in declared else "absent"
            problems.append(f"{where}: {keyword} is {ours}, contract says {theirs}")
    served_properties = served.get("properties", {})
    declared_properties = declared.get("properties", {})
    for name in served_properties.keys() - declared_properties.keys():
        problems.append(f"{where}: property '{name}' is not in the contract")
    for name in declared_properties.keys() - served_properties.keys():
        problems.append(f"{where}: property '{name}' is missing (the contract declares it)")
    for name in served_properties.keys() & declared_properties.keys():
        problems += _schema_differences(
            f"{where}.{name}", served_properties[name], declared_properties[name]
        )
    if "items" in served and "items" in declared:
        problems += _schema_differences(f"{where}[]", served["items"], declared["items"])
    return sorted(problems)


def _served_schema(annotation: Any, mode: str, *metadata: Any) -> dict[str, Any]:
    typed = Annotated[(annotation, *metadata)] if metadata else annotation
    schema = TypeAdapter(typed).json_schema(mode=mode)  # type: ignore[arg-type]
    return _normalized(schema, schema)


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    """The route's dependant and every sub-dependency, depth first."""
    yield dependant
    for dependency in dependant.dependencies:
        yield from _dependants(dependency)


@dataclass(frozen=True)
class ModelParameter:
    """A field of a model a dependency validates the query string against, as a parameter."""

    alias: str
    field_info: FieldInfo


def _served_parameters(route: Any) -> dict[tuple[str, str], Any]:
    """(location, name on the wire) -> field, across the whole dependency tree: FastAPI's
    own parameters, and the fields of a query model (backend.routes.dependencies.query_of)."""
    parameters: dict[tuple[str, str], Any] = {}
    for dependant in _dependants(route.dependant):
        for location in PARAMETER_LOCATIONS:
            for field in getattr(dependant, f"{location}_params"):
                parameters.setdefault((location, field.alias), field)
        for location in ("path", "query"):
            model: type[BaseModel] | None = getattr(dependant.call, f"{location}_model", None)
            for name, info in (model.model_fields if model else {}).items():
                parameters.setdefault((location, info.alias or name), ModelParameter(name, info))
    return parameters


def _served_body(route: Any) -> Any:
    """FastAPI's body field, or the model a dependency checks the body against (a field of
    that type, optional when None is among its values)."""
    if route.body_field is not None:
        return route.body_field
    for dependant in _dependants(route.dependant):
        model = getattr(dependant.call, "body_model", None)
        if model is not None:
            optional = type(None) in typing.get_args(model)
            info = FieldInfo.from_annotated_attribute(
                model, None if optional else PydanticUndefined
            )
            return ModelParameter("body", info)
    return None


def _parameter_problems(
    operation_id: str, route: Any, operation: Mapping[str, Any], contract: Mapping[str, Any]
) -> list[str]:
    declared_parameters = {
        (parameter["in"], parameter["name"]): parameter
        for parameter in operation.get("parameters", [])
    }
    served_parameters = _served_parameters(route)
    problems: list[str] = []
    for location, name in sorted(served_parameters.keys() - declared_parameters.keys()):
        problems.append(f"{operation_id}: {location} parameter '{name}' is not in the contract")
    for location, name in sorted(declared_parameters.keys() - served_parameters.keys()):
        problems.append(
            f"{operation_id}: {location} parameter '{name}' is missing (the contract declares it)"
        )
    for location, name in sorted(served_parameters.keys() & declared_parameters.keys()):
        where = f"{operation_id}: {location} parameter '{name}'"
        field = served_parameters[(location, name)]
        parameter = declared_parameters[(location, name)]
        required = field.field_info.is_required()
        if required != parameter.get("required", False):
            problems.append(
                f"{where}: required is {json.dumps(required)}, "
                f"contract says {json.dumps(parameter.get('required', False))}"
            )
        default = field.field_info.default
        served = _served_schema(field.field_info.annotation, "validation", field.field_info)
        if default is None and not required:
            # `None` is how an absent parameter reaches the handler; a client cannot send a
            # null in a query string, so the contract rightly declares a non-nullable type.
            served["type"] -= {"null"}
        declared_schema = _resolve(parameter["schema"], contract)
        problems += _schema_differences(where, served, _normalized(declared_schema, contract))
        served_default = (
            None
            if default in (PydanticUndefined, None)
            else to_jsonable_python(default.value if isinstance(default, Enum) else default)
        )
        if served_default != declared_schema.get("default"):
            problems.append(
                f"{where}: default is {json.dumps(served_default)}, "
                f"contract says {json.dumps(declared_schema.get('default'))}"
            )
    return problems


def _body_problems(
    operation_id: str, route: Any, operation: Mapping[str, Any], contract: Mapping[str, Any]
) -> list[str]:
    body = operation.get("requestBody")
    field = _served_body(route)
    where = f"{operation_id}: request body"
    if field is None and body is None:
        return []
    if body is None:
        return [f"{where} is accepted, but the contract declares none"]
    if field is None:
        return [f"{where} is not accepted, but the contract declares one"]
    problems: list[str] = []
    required = field.field_info.is_required()
    if required != body.get("required", False):
        problems.append(
            f"{where}: required is {json.dumps(required)}, "
            f"contract says {json.dumps(body.get('required', False))}"
        )
    content = body.get("content", {})
    if "application/json" not in content:
        return [*problems, f"{where}: the contract does not declare it as application/json"]
    annotation = field.field_info.annotation
    if not required:
        # An optional body is `Model | None` to FastAPI: None stands for no body at all (the
        # handlers' strict body check refuses a JSON `null`), not for a value the body may be.
        kept = [part for part in typing.get_args(annotation) if part is not type(None)]
        annotation = kept[0] if len(kept) == 1 else annotation
    served = _served_schema(annotation, "validation")
    declared_schema = _normalized(content["application/json"]["schema"], contract)
    return problems + _schema_differences(where, served, declared_schema)


def _response_problems(
    operation_id: str, route: Any, operation: Mapping[str, Any], contract: Mapping[str, Any]
) -> list[str]:
    responses: Mapping[str, Any] = operation.get("responses", {})
    problems: list[str] = []
    served_status = route.status_code or 200
    declared_successes = sorted(status for status in responses if status.startswith("2"))
    if declared_successes != [str(served_status)]:
        problems.append(
            f"{operation_id}: success status is {served_status}, "
            f"contract says {', '.join(declared_successes) or 'none'}"
        )
    success = responses[declared_successes[0]] if declared_successes else {}
    declared_schema = success.get("content", {}).get("application/json", {}).get("schema")
    served_field = route.response_field
    where = f"{operation_id}: response body"
    if served_field is None and declared_schema is not None:
        problems.append(f"{where} has no model, but the contract declares one")
    elif served_field is not None and declared_schema is None:
        problems.append(f"{where} has a model, but the contract declares none")
    elif served_field is not None:
        served = _served_schema(served_field.field_info.annotation, "serialization")
        problems += _schema_differences(where, served, _normalized(declared_schema, contract))

    for status in sorted(_producible_error_statuses(route) - {int(s) for s in responses}):
        problems.append(f"{operation_id}: status {status} can be answered but is not documented")
    for documented, response in sorted(responses.items()):
        if int(documented) >= 400 and "application/problem+json" not in response.get("content", {}):
            problems.append(
                f"{operation_id}: status {documented} is not documented as application/problem+json"
            )
    return problems


def _producible_error_statuses(route: Any) -> set[int]:
    """The error statuses the app can answer for this route, read from how it is built."""
    calls = {dependant.call for dependant in _dependants(route.dependant)}
    statuses = {500}  # errors.py turns anything unexpected into a 500 problem
    if get_owner in calls:
        statuses |= {401, 403}  # the token, then its subject against the path
    if get_store in calls:
        statuses.add(503)  # errors.py: the database is unavailable
    parameters = _served_parameters(route)
    if parameters or _served_body(route) is not None:
        statuses.add(422)
    if ("path", "task_id") in parameters:
        statuses.add(404)  # the store's TaskNotFound
    if _served_body(route) is not None or set(route.methods or ()) & BODY_METHODS:
        statuses |= {413, 415}  # BodyLimits admits bodies by method, before routing
    return statuses


def conformance_problems(app: FastAPI, contract: Mapping[str, Any]) -> list[str]:
    """Every way the app's routes disagree with `contract`; empty when they conform."""
    served: dict[tuple[str, str], Any] = {}
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, APIRoute):
            for method in route.methods or ():
                served[(method.lower(), str(route.path_format))] = route
    declared: dict[tuple[str, str], Mapping[str, Any]] = {
        (method, path): operation
        for path, path_item in contract["paths"].items()
        for method, operation in path_item.items()
        if method in HTTP_METHODS
    }
    problems: list[str] = []
    for method, path in sorted(declared.keys() - served.keys()):
        operation_id = declared[(method, path)]["operationId"]
        problems.append(f"{method.upper()} {path} ({operation_id}) is in the contract, not served")
    for method, path in sorted(served.keys() - declared.keys()):
        problems.append(f"{method.upper()} {path} is served, but not in the contract")
    for key in (key for key in declared if key in served):  # in the contract's order
        route, operation = served[key], declared[key]
        operation_id = operation["operationId"]
        if route.operation_id != operation_id:
            problems.append(
                f"{key[0].upper()} {key[1]}: operationId is {route.operation_id}, "
                f"contract says {operation_id}"
            )
        problems += _parameter_problems(operation_id, route, operation, contract)
        problems += _body_problems(operation_id, route, operation, contract)
        problems += _response_problems(operation_id, route, operation, contract)
    return problems


# --- fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def contract() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(CONTRACT_PATH.read_text(encoding="utf-8"))
    return document


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    """The real app; building it opens no database connection and runs no lifespan."""
    return create_app(
        Settings(
            database_url=f"sqlite:///{tmp_path / 'todo.db'}",
            better_auth_secret="conformance-secret-0123456789abcdef",
            migrate_on_start=False,
            _env_file=None,
        )
    )


def rebuilt_app(drift: Mapping[str, Mapping[str, Any] | None] | None = None) -> FastAPI:
    """The real task routes added one by one to a new app; `drift[operation_id]` overrides
    arguments of `add_api_route` for that operation, and None leaves it out."""
    drift = drift or {}
    app = FastAPI()
    for route in tasks.router.routes:
        assert isinstance(route, APIRoute)
        arguments: dict[str, Any] = {
            "endpoint": route.endpoint,
            "methods": sorted(route.methods or ()),
            "operation_id": route.operation_id,
            "status_code": route.status_code,
            "response_model": route.response_model,
            "dependencies": route.dependencies,
        }
        operation_id = route.operation_id or route.name
        if operation_id in drift:
            override = drift[operation_id]
            if override is None:
                continue
            arguments |= override
        app.add_api_route(route.path, **arguments)
    return app


def page_of_tasks() -> list[Task]:
    raise NotImplementedError("never called: only the signature is inspected")


# --- the real app -----------------------------------------------------------------------------


def test_the_served_routes_conform_to_the_contract(app: FastAPI, contract: dict[str, Any]) -> None:
    problems = conformance_problems(app, contract)
    assert [problem for problem in problems if problem not in ENFORCED_BY_HANDLERS] == []


def test_all_six_operations_are_compared(app: FastAPI, contract: dict[str, Any]) -> None:
    """Guards against a comparison that passes because it matched nothing."""
    served = {
        route.operation_id
        for route in iter_route_contexts(app.routes)
        if isinstance(route.original_route, APIRoute)
    }
    assert served == {
        "listTasks",
        "createTask",
        "getTask",
        "updateTask",
        "deleteTask",
        "toggleTaskCompletion",
    }
    without_operations = {**contract, "paths": {}}
    assert len(conformance_problems(app, without_operations)) == 6


def test_the_rebuilt_app_conforms_so_each_drift_below_is_the_only_change(
    contract: dict[str, Any],
) -> None:
    problems = conformance_problems(rebuilt_app(), contract)
    assert [problem for problem in problems if problem not in ENFORCED_BY_HANDLERS] == []


# --- drift: each change to a route is reported, and only it ----------------------------------


def drifted_problems(contract: dict[str, Any], drift: Mapping[str, Any]) -> list[str]:
    problems = conformance_problems(rebuilt_app(drift), contract)
    return [problem for problem in problems if problem not in ENFORCED_BY_HANDLERS]


def test_drift_changed_success_status(contract: dict[str, Any]) -> None:
    problems = drifted_problems(contract, {"createTask": {"status_code": 200}})
    assert problems == ["createTask: success status is 200, contract says 201"]


def test_drift_missing_operation(contract: dict[str, Any]) -> None:
    problems = drifted_problems(contract, {"deleteTask": None})
    assert problems == [
        "DELETE /api/{user_id}/tasks/{task_id} (deleteTask) is in the contract, not served"
    ]


def test_drift_renamed_operation_id(contract: dict[str, Any]) -> None:
    problems = drifted_problems(contract, {"getTask": {"operation_id": "readTask"}})
    assert problems == [
        "GET /api/{user_id}/tasks/{task_id}: operationId is readTask, contract says getTask"
    ]


def test_drift_extra_query_parameter_from_a_sub_dependency(contract: dict[str, Any]) -> None:
    def page_number(page: Annotated[int, Query(ge=1)] = 1) -> int:
        return page

    problems = drifted_problems(contract, {"listTasks": {"dependencies": [Depends(page_number)]}})
    assert problems == ["listTasks: query parameter 'page' is not in the contract"]


def listing(**changed: Any) -> Any:
    """A listTasks endpoint whose query model is ListQuery with `changed` fields (None: gone)."""
    fields: dict[str, Any] = {
        name: (info.annotation, info) for name, info in ListQuery.model_fields.items()
    }
    for name, field in changed.items():
        if field is None:
            del fields[name]
        else:
            fields[name] = field
    model = create_model("DriftedListQuery", **fields)

    async def list_tasks(owner: Owner, store: Store, response: Response, query: Any) -> list[Task]:
        return page_of_tasks()

    # An object, not a string: the model is local, where FastAPI cannot look a name up.
    list_tasks.__annotations__["query"] = Annotated[Any, query_of(model)]
    return list_tasks


def test_drift_renamed_query_parameter(contract: dict[str, Any]) -> None:
    renamed = listing(limit=None, size=(Annotated[int, Field(ge=1, le=100)], 20))
    problems = drifted_problems(contract, {"listTasks": {"endpoint": renamed}})
    assert problems == [
        "listTasks: query parameter 'size' is not in the contract",
        "listTasks: query parameter 'limit' is missing (the contract declares it)",
    ]


def test_drift_changed_constraint(contract: dict[str, Any]) -> None:
    widened = listing(limit=(Annotated[int, Field(ge=1, le=500)], 20))
    problems = drifted_problems(contract, {"listTasks": {"endpoint": widened}})
    assert problems == ["listTasks: query parameter 'limit': maximum is 500, contract says 100"]


def test_drift_changed_default_type_and_required_ness(contract: dict[str, Any]) -> None:
    changed = listing(
        cursor=(Annotated[str, Field(**backend_contract.parameter("listTasks", "cursor"))], ...),
        status=(str, "everything"),
        limit=(Annotated[int, Field(ge=1, le=100)], 50),
    )
    problems = drifted_problems(contract, {"listTasks": {"endpoint": changed}})
    assert problems == [
        "listTasks: query parameter 'cursor': required is true, contract says false",
        "listTasks: query parameter 'limit': default is 50, contract says 20",
        "listTasks: query parameter 'status': enum is absent, contract says [\"all\", "
        '"pending", "completed"]',
        'listTasks: query parameter \'status\': default is "everything", contract says "all"',
    ]


def test_drift_different_response_model(contract: dict[str, Any]) -> None:
    problems = drifted_problems(contract, {"getTask": {"response_model": TaskCreate}})
    assert problems == [
        "getTask: response body: additionalProperties is false, contract says true",
        *(
            f"getTask: response body: property '{name}' is missing (the contract declares it)"
            for name in (
                *("completed", "created_at", "due_at", "id", "next_occurrence_id"),
                *("remind_at", "updated_at", "user_id"),
            )
        ),
        'getTask: response body: required is ["title"], contract says ["completed", '
        '"created_at", "description", "due_at", "due_date", "due_time", "id", '
        '"next_occurrence_id", "priority", "recurrence", "remind_at", '
        '"remind_before_minutes", "tags", "time_zone", "title", "updated_at", "user_id"]',
    ]


def test_drift_response_array_ness(contract: dict[str, Any]) -> None:
    problems = drifted_problems(contract, {"getTask": {"response_model": list[Task]}})
    assert problems == ["getTask: response body: type is array, contract says object"]
    problems = drifted_problems(contract, {"listTasks": {"response_model": Task}})
    assert problems == ["listTasks: response body: type is object, contract says array"]


def test_drift_different_request_body_model(contract: dict[str, Any]) -> None:
    async def update_task(owner: Owner, task_id: int, store: Store, body: TaskCreate) -> Task:
        raise NotImplementedError

    problems = drifted_problems(contract, {"updateTask": {"endpoint": update_task}})
    assert (
        "updateTask: request body: property 'completed' is missing (the contract declares it)"
        in (problems)
    )
    assert 'updateTask: request body: required is ["title"], contract says []' in problems
    # task_id lost its constraints too: the contract's minimum and maximum are gone.
    assert "updateTask: path parameter 'task_id': minimum is absent, contract says 1" in problems


def test_drift_in_the_contract_undocumented_error_statuses(contract: dict[str, Any]) -> None:
    edited = copy.deepcopy(contract)
    del edited["paths"]["/api/{user_id}/tasks/{task_id}"]["get"]["responses"]["404"]
    del edited["paths"]["/api/{user_id}/tasks"]["post"]["responses"]["413"]
    del edited["paths"]["/api/{user_id}/tasks"]["get"]["responses"]["401"]
    problems = conformance_problems(rebuilt_app(), edited)
    assert [problem for problem in problems if problem not in ENFORCED_BY_HANDLERS] == [
        "listTasks: status 401 can be answered but is not documented",
        "createTask: status 413 can be answered but is not documented",
        "getTask: status 404 can be answered but is not documented",
    ]


def test_drift_in_the_contract_body_constraint(contract: dict[str, Any]) -> None:
    edited = copy.deepcopy(contract)
    edited["components"]["schemas"]["TaskCreate"]["properties"]["title"]["maxLength"] = 100
    problems = conformance_problems(rebuilt_app(), edited)
    assert [problem for problem in problems if problem not in ENFORCED_BY_HANDLERS] == [
        "createTask: request body.title: maxLength is 200, contract says 100"
    ]
