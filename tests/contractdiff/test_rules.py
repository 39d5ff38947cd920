"""Rules the Markdown grammar cannot express on its own, on small OpenAPI documents; and the
rule table in docs/CONTRACT-CHANGES.md held to the rules the gate applies."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

import pytest

import codegen
from contractdiff import rules
from contractdiff.changes import Rule
from contractdiff.operations import compare_documents
from tests.contractdiff.test_clients import CLIENT_RULES
from tests.contractdiff.test_corpus import CASES
from tests.contractdiff.test_corpus_events import EVENT_CASES

Document = dict[str, Any]


def document() -> Document:
    """A one-operation contract: a query parameter, a body, an enum in the response."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "T", "version": "1.0.0"},
        "paths": {
            "/items": {
                "post": {
                    "operationId": "createItem",
                    "parameters": [
                        {
                            "name": "mode",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "requestBody": {
                        "required": False,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/New"}}
                        },
                    },
                    "responses": {
                        "201": {
                            "description": "created",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Item"}
                                }
                            },
                        }
                    },
                    "security": [{"bearer": []}],
                }
            }
        },
        "components": {
            "schemas": {
                "New": {"type": "object", "properties": {"name": {"type": "string"}}},
                "Item": {
                    "type": "object",
                    "properties": {"state": {"$ref": "#/components/schemas/State"}},
                    "required": ["state"],
                    "additionalProperties": False,
                },
                "State": {"type": "string", "enum": ["open", "done"]},
                "Unused": {"type": "string"},
            },
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def operation(doc: Document) -> dict[str, Any]:
    result: dict[str, Any] = doc["paths"]["/items"]["post"]
    return result


def make_optional(doc: Document) -> None:
    operation(doc)["parameters"][0]["required"] = False


def drop_body(doc: Document) -> None:
    del operation(doc)["requestBody"]


def require_body(doc: Document) -> None:
    operation(doc)["requestBody"]["required"] = True


def close_request(doc: Document) -> None:
    doc["components"]["schemas"]["New"]["additionalProperties"] = False


def add_state(doc: Document) -> None:
    doc["components"]["schemas"]["State"]["enum"].append("archived")


def remove_state(doc: Document) -> None:
    doc["components"]["schemas"]["State"]["enum"].remove("done")


def add_media_type(doc: Document) -> None:
    content = operation(doc)["responses"]["201"]["content"]
    content["application/xml"] = copy.deepcopy(content["application/json"])


def remove_schema(doc: Document) -> None:
    del doc["components"]["schemas"]["Unused"]


def remove_security(doc: Document) -> None:
    operation(doc)["security"] = []


# (rule, edit of the base, edit of the new document): the rule is reported from base to new.
SYNTHETIC: list[tuple[Rule, Callable[[Document], None], Callable[[Document], None]]] = [
    (rules.PARAMETER_MADE_OPTIONAL, lambda d: None, make_optional),
    (rules.REQUEST_BODY_ADDED_OPTIONAL, drop_body, lambda d: None),
    (rules.REQUEST_BODY_MADE_REQUIRED, lambda d: None, require_body),
    (rules.REQUEST_CLOSED, lambda d: None, close_request),
    (rules.RESPONSE_ENUM_VALUE_ADDED, lambda d: None, add_state),
    (rules.RESPONSE_ENUM_VALUE_REMOVED, lambda d: None, remove_state),
    (rules.RESPONSE_MEDIA_TYPE_ADDED, lambda d: None, add_media_type),
    (rules.SCHEMA_REMOVED, lambda d: None, remove_schema),
    (rules.SECURITY_REMOVED, lambda d: None, remove_security),
]
SYNTHETIC_RULES = {rule for rule, _, _ in SYNTHETIC}


@pytest.mark.parametrize(
    ("rule", "edit_base", "edit_new"), SYNTHETIC, ids=[rule.code for rule, _, _ in SYNTHETIC]
)
def test_synthetic_rule(
    rule: Rule, edit_base: Callable[[Document], None], edit_new: Callable[[Document], None]
) -> None:
    base, new = document(), document()
    edit_base(base)
    edit_new(new)
    changes = compare_documents(base, new)
    assert [change.rule for change in changes] == [rule], [c.message for c in changes]


def test_identical_documents_have_no_changes() -> None:
    assert compare_documents(document(), document()) == []


def test_a_cycle_of_references_terminates() -> None:
    base, new = document(), document()
    for doc in (base, new):
        doc["components"]["schemas"]["Item"]["properties"]["parent"] = {
            "$ref": "#/components/schemas/Item"
        }
    new["components"]["schemas"]["Item"]["properties"]["parent"] = {
        "anyOf": [{"$ref": "#/components/schemas/Item"}, {"type": "null"}]
    }
    changes = compare_documents(base, new)
    assert [change.rule for change in changes] == [rules.RESPONSE_NULL_ADDED]


def test_the_corpus_and_the_synthetic_cases_cover_every_rule() -> None:
    covered = (
        {rule for case in [*CASES, *EVENT_CASES] for rule in case.expected}
        | SYNTHETIC_RULES
        | CLIENT_RULES
    )
    missing = set(rules.ALL_RULES) - covered
    assert not missing, sorted(rule.code for rule in missing)
    breaking = [case for case in CASES if case.exit_code == 1]
    assert len(CASES) >= 30
    assert len(breaking) >= len(CASES) // 2 - 1


def test_the_rule_table_in_docs_is_the_rules_the_gate_applies() -> None:
    table = (codegen.ROOT / "docs" / "CONTRACT-CHANGES.md").read_text(encoding="utf-8")
    rows = re.findall(
        r"^\| `([a-z-]+)` \| (breaking|warning|compatible) \| (major|minor|patch) \|",
        table,
        re.MULTILINE,
    )
    documented = {code: (severity, bump) for code, severity, bump in rows}
    applied = {rule.code: (rule.severity.value, rule.bump.name.lower()) for rule in rules.ALL_RULES}
    assert documented == applied


def test_unique_items_added_to_a_request_array_is_breaking_and_to_a_response_compatible() -> None:
    base, new = document(), document()
    for doc in (base, new):
        doc["components"]["schemas"]["New"]["properties"]["tags"] = {
            "type": "array",
            "items": {"type": "string"},
        }
        doc["components"]["schemas"]["Item"]["properties"]["tags"] = {
            "type": "array",
            "items": {"type": "string"},
        }
    new["components"]["schemas"]["New"]["properties"]["tags"]["uniqueItems"] = True
    new["components"]["schemas"]["Item"]["properties"]["tags"]["uniqueItems"] = True
    changes = {change.subject: change.rule for change in compare_documents(base, new)}
    assert changes == {
        "New.tags": rules.REQUEST_CONSTRAINT_TIGHTENED,
        "Item.tags": rules.RESPONSE_CONSTRAINT_TIGHTENED,
    }
