# ruff: noqa: E501 - the cases quote whole rows of the spec
"""The gate on single edits of the spec's events: a receiver reads what the server sends.

As test_corpus.py, but on the spec as it is in the working tree (its committed `openapi/`
agrees with it: `codegen.py --check`), where the events first released in 1.6.0 are.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import codegen
from contractdiff import rules
from tests.contractdiff.test_corpus import Case, breaking, compatible
from tests.support.contract_repository import Repository, git

DELETED_TASK_ID = "| task_id | integer(int64) | yes | minimum: 1 | Id of the deleted task. |"
DELETED_USER_ID = (
    "| user_id | string | yes | minLength: 1; maxLength: 128 | Id of the user who owned the task. |"
)
DEFAULT_ANSWER = "| default | Not accepted (or no answer): the event is sent again later, with the same `webhook-id`. |"
SIGNATURE = "| webhook-signature | string | yes | minLength: 1 |"
NEW_EVENT = """
### task.archived

- Payload: TaskArchivedEvent
- Summary: A task was archived
- Tags: events

Sent when a task is archived.

```json
{"id": "evt_1", "type": "task.archived", "task_id": 7}
```
"""
NEW_PAYLOAD = """
### TaskArchivedEvent

The body of a `task.archived` event.

- Additional properties: allowed

| Field | Type | Required | Constraints | Description |
|---|---|---|---|---|
| id | string | yes | minLength: 1 | The event's id. |
| type | string | yes | const: task.archived | The kind of event. |
| task_id | integer(int64) | yes | minimum: 1 | Id of the task. |
"""

EVENT_CASES = [
    breaking(
        "a payload field removed",
        [(DELETED_TASK_ID + "\n", "")],
        rules.RESPONSE_FIELD_REMOVED,
        line="### TaskDeletedData",
    ),
    breaking(
        "a payload field renamed",
        [
            (DELETED_TASK_ID, DELETED_TASK_ID.replace("| task_id |", "| deleted_task_id |")),
            ('"task_id": 7,\n    "sequence": 5\n', '"deleted_task_id": 7,\n    "sequence": 5\n'),
        ],
        rules.RESPONSE_FIELD_REMOVED,
        rules.RESPONSE_FIELD_ADDED,
    ),
    breaking(
        "a payload field may be null",
        [(DELETED_USER_ID, DELETED_USER_ID.replace("| string |", "| string or null |"))],
        rules.RESPONSE_NULL_ADDED,
        line="| user_id | string or null | yes | minLength: 1; maxLength: 128 | Id of the user who owned the task. |",
    ),
    breaking(
        "a new priority reaches receivers in the task",
        [
            (
                "| low | Do it when there is time. |",
                "| low | Do it when there is time. |\n| someday | Maybe never. |",
            )
        ],
        rules.EVENT_ENUM_VALUE_ADDED,
        rules.RESPONSE_ENUM_VALUE_ADDED,
        rules.REQUEST_ENUM_VALUE_ADDED,
        rules.DOCUMENTATION_CHANGED,  # the enum's description lists its values
    ),
    breaking(
        "task.deleted no longer sent",
        [],
        rules.EVENT_REMOVED,
        cut=("### task.deleted\n", "## Examples\n"),
    ),
    breaking(
        "the signature header no longer sent",
        [(SIGNATURE, SIGNATURE.replace("| webhook-signature |", "| webhook-sig |"))],
        rules.RESPONSE_HEADER_REMOVED,
        rules.RESPONSE_HEADER_ADDED,
    ),
    breaking(
        "a receiver's other answers no longer read",
        [(DEFAULT_ANSWER + "\n", "")],
        rules.EVENT_ANSWER_REMOVED,
    ),
    compatible(
        "a new event",
        [
            ("\n## Examples\n", NEW_EVENT + "\n## Examples\n"),
            ("\n## Operations\n", NEW_PAYLOAD + "\n## Operations\n"),
        ],
        rules.EVENT_ADDED,
        rules.SCHEMA_ADDED,
        line="### task.archived",
    ),
    compatible(
        "an optional field in a payload",
        [
            (
                DELETED_TASK_ID,
                DELETED_TASK_ID
                + "\n| deleted_at | string(date-time) | no | | When it was deleted. |",
            )
        ],
        rules.RESPONSE_FIELD_ADDED,
    ),
    compatible(
        "a receiver may answer 429",
        [
            (
                DEFAULT_ANSWER,
                "| 429 | Too many: sent again after its Retry-After. |\n" + DEFAULT_ANSWER,
            )
        ],
        rules.EVENT_ANSWER_ADDED,
    ),
]


@pytest.fixture
def repository(tmp_path: Path) -> Repository:
    """The working tree's spec and openapi/, committed to a new git repository."""
    root = tmp_path / "repository"
    for folder in ("specs", "openapi"):
        shutil.copytree(codegen.ROOT / folder, root / folder)
    git(root, "init", "-q", "-b", "main")
    found = Repository(root)
    found.commit("the contract as in the working tree")
    return found


@pytest.mark.parametrize("case", EVENT_CASES, ids=[case.name for case in EVENT_CASES])
def test_single_edit_of_an_event(repository: Repository, case: Case) -> None:
    from tests.contractdiff.test_corpus import test_single_edit

    test_single_edit(repository, case)
