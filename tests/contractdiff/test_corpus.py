# ruff: noqa: E501 - the cases quote whole rows of the spec
"""The gate on single edits of the real spec: each edit's class, rules and exit code.

Each case names every rule its edit triggers, and no other: a rule that fires where it
should not (documentation-changed on every edit, say) fails the case.

Each case edits a copy of `specs/api/rest-endpoints.md` under git and runs
`codegen.py diff HEAD` on it, which builds the edited contract with codegen's own stages
(parse, build, validate) in memory and compares it with the committed `openapi/openapi.json`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from contractdiff import rules
from contractdiff.changes import Rule, Severity
from tests.support.contract_repository import Repository

TASK_DESCRIPTION = (
    "| description | string or null | yes | maxLength: 1000; pattern: `^[^\\u0000]*$` | "
    "Longer free text; `null` when the task has none. |\n"
)
CREATE_TITLE = (
    "| title | string | yes | minLength: 1; maxLength: 200; pattern: `^[^\\u0000]*$` | "
    "Short title of the task. |\n| description | string or null | no |"
)
CREATE_DESCRIPTION = "| description | string or null | no | maxLength: 1000; pattern: `^[^\\u0000]*$` | Longer free text. |"
CREATE_DUE_DATE = "| due_date | string(date) or null | no | | Calendar day the task is due. |"
TASK_TITLE = "| title | string | yes | minLength: 1; maxLength: 200; pattern: `^[^\\u0000]*$` | Short title of the task. |\n| description | string or null | yes |"
LIMIT = "| limit | query | integer(int32) | no | minimum: 1; maximum: 100; default: 20 | Largest number of tasks in the page. |"
STATUS = "| status | query | TaskStatusFilter | no | default: all | Which tasks to return, by completion. |"
SORT = "| sort | query | TaskSort | no | default: created | The order of the tasks. |\n"
CURSOR_PATTERN = (
    "| cursor | query | string | no | minLength: 1; maxLength: 512; pattern: `^[A-Za-z0-9_-]+$` |"
)
LIST_OK = "| 200 | array of Task | X-Next-Cursor | One page of tasks, possibly empty. |"
CREATED = "| 201 | Task | Location | The task was created. |"
CREATE_BODY = "| application/json | TaskCreate | yes | The new task. |"
BEARER = "| bearerAuth | http | bearer | JWT |"
TASK_ID = "| id | integer(int64) | yes | minimum: 1 |"
TASK_COMPLETED = "| completed | boolean | yes | | Whether the task is done. |"
TASK_DUE_DATE = "| due_date | string(date) or null | yes | |"
UPDATE_COMPLETED = "| completed | boolean | no | | New completion state. |"
GET_NOT_FOUND = "| 404 | Problem | | The user has no task with this id. |\n| 422 | Problem | | A parameter is invalid (`errors` says which). |\n| 500 | Problem | | An unexpected server error. |\n| 503 | Problem | | The database is unavailable; retry later. |\n\n### PUT"
PROBLEM_ERRORS = (
    "| errors | array of ValidationIssue | no | | For 422: each invalid part of the request. |"
)
NEW_OPERATION = """
### GET /api/{user_id}/tasks/{task_id}/history

- Operation ID: getTaskHistory
- Summary: A task's history
- Tags: tasks
- Security: bearerAuth

#### Parameters

| Name | In | Type | Required | Constraints | Description |
|---|---|---|---|---|---|
| user_id | path | string | yes | minLength: 1; maxLength: 128; pattern: `^[A-Za-z0-9_-]+$` | Id of the user. |
| task_id | path | integer(int64) | yes | minimum: 1 | Id of the task. |

#### Responses

| Status | Schema | Headers | Description |
|---|---|---|---|
| 200 | array of Task | | The versions of the task. |
| 401 | Problem | WWW-Authenticate | The token is missing or invalid. |
"""


def links_to(status: str) -> list[tuple[str, str]]:
    names = ("GetCreatedTask", "UpdateCreatedTask", "ToggleCreatedTask", "DeleteCreatedTask")
    return [(f"| 201 | {name} |", f"| {status} | {name} |") for name in names]


@dataclass(frozen=True)
class Case:
    name: str
    replacements: list[tuple[str, str]]
    expected: set[Rule]  # the rules reported: each of them, and no other
    severity: Severity  # the most severe class reported
    exit_code: int
    line: str | None = None  # a report line names the spec line starting with this text
    cut: tuple[str, str] | None = None  # also remove the spec's text between these two


def breaking(
    name: str,
    replacements: list[tuple[str, str]],
    *expected: Rule,
    line: str | None = None,
    cut: tuple[str, str] | None = None,
) -> Case:
    return Case(name, replacements, set(expected), Severity.BREAKING, 1, line, cut)


def compatible(
    name: str,
    replacements: list[tuple[str, str]],
    *expected: Rule,
    line: str | None = None,
    cut: tuple[str, str] | None = None,
) -> Case:
    return Case(name, replacements, set(expected), Severity.COMPATIBLE, 0, line, cut)


def warning(
    name: str,
    replacements: list[tuple[str, str]],
    *expected: Rule,
    line: str | None = None,
    cut: tuple[str, str] | None = None,
) -> Case:
    return Case(name, replacements, set(expected), Severity.WARNING, 0, line, cut)


CASES = [
    # --- breaking ---------------------------------------------------------------------------
    breaking(
        "remove description from Task",
        [(TASK_DESCRIPTION, "")],
        rules.RESPONSE_FIELD_REMOVED,
        line="### Task",
    ),
    breaking(
        "make description required in TaskCreate",
        [(CREATE_DESCRIPTION, CREATE_DESCRIPTION.replace("| no |", "| yes |"))],
        rules.REQUEST_FIELD_MADE_REQUIRED,
        line="| description | string or null | yes | maxLength: 1000; pattern: `^[^\\u0000]*$` | Longer free text. |",
    ),
    breaking(
        "TaskCreate title maxLength 200 -> 100",
        [(CREATE_TITLE, CREATE_TITLE.replace("maxLength: 200", "maxLength: 100"))],
        rules.REQUEST_CONSTRAINT_TIGHTENED,
    ),
    breaking(
        "remove completed from TaskStatusFilter",
        [("| completed | Completed tasks. |\n", "")],
        rules.REQUEST_ENUM_VALUE_REMOVED,
        rules.DOCUMENTATION_CHANGED,  # the enum's description lists its values
        line="### TaskStatusFilter",
    ),
    breaking(
        "add a required query parameter",
        [(LIMIT, LIMIT + "\n| q | query | string | yes | maxLength: 100 | Keyword. |")],
        rules.PARAMETER_ADDED_REQUIRED,
        line="| q | query |",
    ),
    breaking(
        "createTask answers 200 instead of 201",
        [(CREATED, CREATED.replace("201", "200")), *links_to("200")],
        rules.SUCCESS_STATUS_REMOVED,
        rules.SUCCESS_STATUS_ADDED,
    ),
    breaking(
        "remove the X-Next-Cursor header",
        [(LIST_OK, LIST_OK.replace("X-Next-Cursor", ""))],
        rules.RESPONSE_HEADER_REMOVED,
        line="| 200 | array of Task |",
    ),
    breaking(
        "remove deleteTask",
        [
            (
                "| 201 | DeleteCreatedTask | deleteTask | user_id: `$request.path.user_id`; task_id: `$response.body#/id` | Delete the task just created. |\n",
                "",
            ),
        ],
        rules.OPERATION_REMOVED,
        rules.DOCUMENTATION_CHANGED,  # createTask's 201 loses its link to deleteTask
        cut=("### DELETE /api/{user_id}/tasks/{task_id}\n", "### PATCH /api/"),
    ),
    breaking("remove the sort parameter", [(SORT, "")], rules.PARAMETER_REMOVED),
    breaking(
        "rename limit to page_size",
        [(LIMIT, LIMIT.replace("| limit |", "| page_size |"))],
        rules.PARAMETER_REMOVED,
        rules.PARAMETER_ADDED_OPTIONAL,
    ),
    breaking(
        "make limit required",
        [(LIMIT, LIMIT.replace("| no |", "| yes |"))],
        rules.PARAMETER_MADE_REQUIRED,
    ),
    breaking(
        "a new required field in TaskCreate",
        [(CREATE_DUE_DATE, CREATE_DUE_DATE + "\n| priority | string | yes | | How urgent. |")],
        rules.REQUEST_FIELD_ADDED_REQUIRED,
    ),
    breaking(
        "null no longer allowed for TaskCreate.due_date",
        [(CREATE_DUE_DATE, CREATE_DUE_DATE.replace("string(date) or null", "string(date)"))],
        rules.REQUEST_NULL_REMOVED,
    ),
    breaking(
        "TaskUpdate.completed boolean -> string",
        [(UPDATE_COMPLETED, UPDATE_COMPLETED.replace("boolean", "string"))],
        rules.REQUEST_TYPE_NARROWED,
    ),
    breaking(
        "a tighter cursor pattern",
        [(CURSOR_PATTERN, CURSOR_PATTERN.replace("A-Za-z0-9_-", "A-Za-z0-9"))],
        rules.REQUEST_CONSTRAINT_TIGHTENED,
    ),
    breaking(
        "limit maximum 100 -> 50",
        [(LIMIT, LIMIT.replace("maximum: 100", "maximum: 50"))],
        rules.REQUEST_CONSTRAINT_TIGHTENED,
    ),
    breaking(
        "Task.due_date made optional",
        [(TASK_DUE_DATE, TASK_DUE_DATE.replace("| yes |", "| no |"))],
        rules.RESPONSE_FIELD_MADE_OPTIONAL,
    ),
    breaking(
        "Task.completed made nullable",
        [(TASK_COMPLETED, TASK_COMPLETED.replace("boolean", "boolean or null"))],
        rules.RESPONSE_NULL_ADDED,
    ),
    breaking(
        "Task.id integer -> string",
        [(TASK_ID, "| id | string | yes | |")],
        rules.RESPONSE_TYPE_CHANGED,
        rules.RESPONSE_CONSTRAINT_RELAXED,  # minimum: 1 goes with the integer
    ),
    breaking(
        "createTask takes another media type",
        [(CREATE_BODY, CREATE_BODY.replace("application/json", "application/merge-patch+json"))],
        rules.REQUEST_MEDIA_TYPE_REMOVED,
        rules.REQUEST_MEDIA_TYPE_ADDED,
    ),
    breaking(
        "problems change media type",
        [("- Media type: application/problem+json\n", "")],
        rules.RESPONSE_MEDIA_TYPE_REMOVED,
        rules.RESPONSE_MEDIA_TYPE_ADDED,  # problems fall back to application/json
    ),
    breaking(
        "createTask needs another security scheme",
        [
            (BEARER, "| basicAuth | http | basic | | User and password. |\n" + BEARER),
            (
                "- Operation ID: createTask\n- Summary: Create a task\n- Tags: tasks\n- Security: bearerAuth",
                "- Operation ID: createTask\n- Summary: Create a task\n- Tags: tasks\n- Security: basicAuth",
            ),
        ],
        rules.SECURITY_CHANGED,
    ),
    breaking(
        "the bearer scheme changes",
        [(BEARER, "| bearerAuth | http | bearer | opaque |")],
        rules.SECURITY_SCHEME_CHANGED,
    ),
    breaking(
        "updateTask's body is no longer required... then removed",
        [
            (
                "#### Request body\n\n| Media type | Schema | Required | Description |\n|---|---|---|---|\n| application/json | TaskUpdate | yes | The fields to change. |\n",
                "",
            ),
        ],
        rules.REQUEST_BODY_REMOVED,
    ),
    breaking(
        "TaskCreate.due_date removed",
        [(CREATE_DUE_DATE + "\n", "")],
        rules.REQUEST_FIELD_REMOVED,
        line="### TaskCreate",
    ),
    breaking(
        "the toggle needs a body",
        [
            (
                "No\nrequest body.\n\n#### Parameters",
                "No\nrequest body.\n\n#### Request body\n\n| Media type | Schema | Required | Description |\n|---|---|---|---|\n| application/json | TaskUpdate | yes | The state. |\n\n#### Parameters",
            )
        ],
        rules.REQUEST_BODY_ADDED_REQUIRED,
    ),
    # --- compatible -------------------------------------------------------------------------
    compatible(
        "TaskCreate title maxLength 200 -> 300",
        [(CREATE_TITLE, CREATE_TITLE.replace("maxLength: 200", "maxLength: 300"))],
        rules.REQUEST_CONSTRAINT_RELAXED,
    ),
    compatible(
        "add an optional query parameter",
        [(LIMIT, LIMIT + "\n| q | query | string | no | maxLength: 100 | Keyword. |")],
        rules.PARAMETER_ADDED_OPTIONAL,
        line="| q | query |",
    ),
    compatible(
        "change only a description",
        [(TASK_TITLE, TASK_TITLE.replace("Short title of the task.", "What the task is about."))],
        rules.DOCUMENTATION_CHANGED,
    ),
    compatible(
        "limit minimum 1 -> 0",
        [(LIMIT, LIMIT.replace("minimum: 1", "minimum: 0"))],
        rules.REQUEST_CONSTRAINT_RELAXED,
    ),
    compatible(
        "TaskUpdate may be empty", [("- Min properties: 1\n", "")], rules.REQUEST_CONSTRAINT_RELAXED
    ),
    compatible(
        "a new sort order",
        [
            (
                "| due_date | `due_date` ascending",
                "| updated | Most recently changed first. |\n| due_date | `due_date` ascending",
            )
        ],
        rules.REQUEST_ENUM_VALUE_ADDED,
        rules.DOCUMENTATION_CHANGED,  # the enum's description lists its values
    ),
    compatible(
        "a new optional field in TaskCreate",
        [(CREATE_DUE_DATE, CREATE_DUE_DATE + "\n| priority | string | no | | How urgent. |")],
        rules.REQUEST_FIELD_ADDED_OPTIONAL,
    ),
    compatible(
        "TaskCreate.title may be null",
        [(CREATE_TITLE, CREATE_TITLE.replace("| title | string |", "| title | string or null |"))],
        rules.REQUEST_NULL_ADDED,
    ),
    compatible(
        "a new field in the open Problem schema",
        [(PROBLEM_ERRORS, PROBLEM_ERRORS + "\n| request_id | string | no | | The request's id. |")],
        rules.RESPONSE_FIELD_ADDED,
    ),
    compatible(
        "a new operation",
        [("\n### PUT /api/", NEW_OPERATION + "\n### PUT /api/")],
        rules.OPERATION_ADDED,
        line="### GET /api/{user_id}/tasks/{task_id}/history",
    ),
    compatible(
        "getTask may answer 429",
        [
            (
                GET_NOT_FOUND,
                GET_NOT_FOUND.replace(
                    "| 500 |", "| 429 | Problem | | Too many requests. |\n| 500 |"
                ),
            )
        ],
        rules.ERROR_STATUS_ADDED,
    ),
    compatible(
        "TaskCreate.title becomes optional",
        [
            (
                CREATE_TITLE,
                CREATE_TITLE.replace("| title | string | yes |", "| title | string | no |"),
            )
        ],
        rules.REQUEST_FIELD_MADE_OPTIONAL,
    ),
    compatible(
        "Problem.instance is always sent",
        [
            (
                "| instance | string(uri-reference) | no |",
                "| instance | string(uri-reference) | yes |",
            )
        ],
        rules.RESPONSE_FIELD_MADE_REQUIRED,
    ),
    compatible(
        "Task.due_date is never null",
        [(TASK_DUE_DATE, TASK_DUE_DATE.replace("string(date) or null", "string(date)"))],
        rules.RESPONSE_NULL_REMOVED,
    ),
    compatible(
        "Task.title is at most 100 characters",
        [(TASK_TITLE, TASK_TITLE.replace("maxLength: 200", "maxLength: 100"))],
        rules.RESPONSE_CONSTRAINT_TIGHTENED,
    ),
    compatible(
        "getTask no longer answers 503",
        [
            (
                GET_NOT_FOUND,
                GET_NOT_FOUND.replace(
                    "| 503 | Problem | | The database is unavailable; retry later. |\n", ""
                ),
            )
        ],
        rules.ERROR_STATUS_REMOVED,
    ),
    compatible(
        "createTask's body becomes optional",
        [(CREATE_BODY, CREATE_BODY.replace("| yes |", "| no |"))],
        rules.REQUEST_BODY_MADE_OPTIONAL,
    ),
    compatible(
        "TaskCreate accepts other fields",
        [("### TaskCreate\n", "### TaskCreate\n\n- Additional properties: allowed\n")],
        rules.REQUEST_OPENED,
    ),
    compatible(
        "Task may carry other fields",
        [("### Task\n", "### Task\n\n- Additional properties: allowed\n")],
        rules.RESPONSE_OPENED,
    ),
    compatible(
        "getTask's 200 names the task's Location",
        [("| 200 | Task | | The task. |", "| 200 | Task | Location | The task. |")],
        rules.RESPONSE_HEADER_ADDED,
    ),
    compatible(
        "an optional field of a new enum type",
        [
            (
                CREATE_DUE_DATE,
                CREATE_DUE_DATE + "\n| priority | TaskPriority | no | | How urgent. |",
            ),
            (
                "### TaskStatusFilter\n",
                "### TaskPriority\n\nHow urgent.\n\n| Value | Description |\n|---|---|\n| high | Soon. |\n| low | Later. |\n\n### TaskStatusFilter\n",
            ),
        ],
        rules.SCHEMA_ADDED,
        rules.REQUEST_FIELD_ADDED_OPTIONAL,
    ),
    compatible(
        "limit may be any number",
        [(LIMIT, LIMIT.replace("integer(int32)", "number"))],
        rules.REQUEST_TYPE_WIDENED,
    ),
    compatible(
        "Task.user_id is a UUID",
        [
            (
                "| user_id | string | yes | minLength: 1; maxLength: 128 |",
                "| user_id | string(uuid) | yes | minLength: 1; maxLength: 128 |",
            )
        ],
        rules.RESPONSE_TYPE_NARROWED,
    ),
    compatible(
        "Problem no longer carries other fields",
        [("- Additional properties: allowed\n", "")],
        rules.RESPONSE_CLOSED,
    ),
    # --- warnings ---------------------------------------------------------------------------
    warning(
        "a new field in the closed Task schema",
        [(TASK_COMPLETED, TASK_COMPLETED + "\n| priority | string | yes | | How urgent. |")],
        rules.RESPONSE_FIELD_ADDED_TO_CLOSED,
    ),
    warning(
        "the default status changes",
        [(STATUS, STATUS.replace("default: all", "default: pending"))],
        rules.DEFAULT_CHANGED,
    ),
    warning(
        "Task.title may be longer",
        [(TASK_TITLE, TASK_TITLE.replace("maxLength: 200", "maxLength: 300"))],
        rules.RESPONSE_CONSTRAINT_RELAXED,
    ),
    warning(
        "getTask is renamed readTask",
        [
            ("- Operation ID: getTask\n", "- Operation ID: readTask\n"),
            ("| GetCreatedTask | getTask |", "| GetCreatedTask | readTask |"),
        ],
        rules.OPERATION_ID_CHANGED,
        rules.DOCUMENTATION_CHANGED,  # the links name the operation by its id
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_single_edit(repository: Repository, case: Case) -> None:
    repository.edit(*case.replacements)
    if case.cut is not None:
        repository.cut(*case.cut)
    status, output = repository.diff("HEAD")
    reported = {
        line.rsplit("[", 1)[1].rstrip("]") for line in output.splitlines() if line.endswith("]")
    }
    assert reported == {rule.code for rule in case.expected}, output
    worst = next(
        severity
        for severity in Severity
        if any(line.startswith(severity.value) for line in output.splitlines())
    )
    assert worst is case.severity, output
    assert status == case.exit_code, output
    if case.line is not None:
        assert f"specs/api/rest-endpoints.md:{repository.line_of(case.line)} " in output, output
    if case.severity is not Severity.BREAKING:
        assert "error:" not in output
