"""The rules for what an HTTP client calls: paths, operations, parameters, bodies, responses."""

from __future__ import annotations

import re
from typing import Any

from contractdiff import rules
from contractdiff.changes import Change
from contractdiff.schemas import (
    SCHEMA_PREFIX,
    Direction,
    Findings,
    Place,
    Schema,
    SchemaComparer,
)
from contractdiff.webhooks import compare_webhooks, webhooks

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
Document = dict[str, Any]


def compare_documents(base: Document, head: Document) -> list[Change]:
    """Every change from `base` to `head`, most severe first, then in document order."""
    findings = Findings()
    comparer = SchemaComparer(base, head, findings)
    OperationComparer(base, head, findings, comparer).compare()
    compare_webhooks(base, head, findings, comparer)
    compare_components(base, head, findings, comparer)
    compare_info(base, head, findings)
    found = list(findings.changes.values())  # in the order they were found: document order
    return sorted(found, key=lambda change: (-change.severity.rank, found.index(change)))


def escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def template(path: str) -> str:
    """A path with its parameter names blanked, so renaming `{id}` still matches the path."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def operations(document: Document) -> dict[tuple[str, str], tuple[str, dict[str, Any]]]:
    found: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
    for path, item in document.get("paths", {}).items():
        for method in HTTP_METHODS:
            if isinstance(item.get(method), dict):
                found[(template(path), method)] = (path, item[method])
    return found


def security_of(document: Document, operation: dict[str, Any]) -> list[Any]:
    requirements = operation.get("security", document.get("security")) or []
    return sorted(requirements, key=repr)


class OperationComparer:
    def __init__(
        self, base: Document, head: Document, findings: Findings, schemas: SchemaComparer
    ) -> None:
        self.base, self.head, self.findings, self.schemas = base, head, findings, schemas

    def compare(self) -> None:
        old_operations, new_operations = operations(self.base), operations(self.head)
        for key, (old_path, old) in old_operations.items():
            subject = old.get("operationId") or f"{key[1].upper()} {old_path}"
            if key not in new_operations:
                pointer = f"/paths/{escape(old_path)}/{key[1]}"
                place = Place(pointer, f"/paths/{escape(old_path)}", subject)
                self.findings.add(
                    rules.OPERATION_REMOVED,
                    place,
                    f"{subject}: {key[1].upper()} {old_path} removed",
                )
                continue
            new_path, new = new_operations[key]
            pointer = f"/paths/{escape(new_path)}/{key[1]}"
            self.operation(old, new, Place(pointer, pointer, subject))
        for key, (new_path, new) in new_operations.items():
            if key not in old_operations:
                pointer = f"/paths/{escape(new_path)}/{key[1]}"
                subject = new.get("operationId") or f"{key[1].upper()} {new_path}"
                self.findings.add(
                    rules.OPERATION_ADDED,
                    Place(pointer, pointer, subject),
                    f"{subject}: new operation {key[1].upper()} {new_path}",
                )

    def operation(self, old: dict[str, Any], new: dict[str, Any], place: Place) -> None:
        if old.get("operationId") != new.get("operationId"):
            self.findings.add(
                rules.OPERATION_ID_CHANGED,
                place.child("operationId"),
                f"{place.subject}: operationId {old.get('operationId')} -> "
                f"{new.get('operationId')} (generated method names change)",
            )
        for keyword in ("summary", "description", "tags"):
            if old.get(keyword) != new.get(keyword):
                self.findings.add(
                    rules.DOCUMENTATION_CHANGED,
                    place.child(keyword, exists=keyword in new),
                    f"{place.subject}: {keyword} changed",
                )
        old_security, new_security = security_of(self.base, old), security_of(self.head, new)
        if old_security != new_security:
            rule = rules.SECURITY_REMOVED if not new_security else rules.SECURITY_CHANGED
            self.findings.add(
                rule,
                place.child("security", exists="security" in new),
                f"{place.subject}: security {old_security} -> {new_security}",
            )
        self.parameters(old, new, place)
        self.request_body(old.get("requestBody"), new.get("requestBody"), place)
        self.responses(old.get("responses", {}), new.get("responses", {}), place)

    def parameters(self, old: dict[str, Any], new: dict[str, Any], place: Place) -> None:
        old_parameters = {(p["in"], p["name"]): p for p in old.get("parameters", [])}
        new_index = {(p["in"], p["name"]): i for i, p in enumerate(new.get("parameters", []))}
        for index, (key, parameter) in enumerate(old_parameters.items()):
            subject = f"{place.subject}.{key[1]}"
            if key not in new_index:
                removed = Place(f"{place.pointer}/parameters/{index}", place.anchor, subject)
                self.findings.add(
                    rules.PARAMETER_REMOVED, removed, f"{subject}: {key[0]} parameter removed"
                )
                continue
            here = place.child("parameters", str(new_index[key]), subject=subject)
            replacement = new["parameters"][new_index[key]]
            if replacement.get("required", False) and not parameter.get("required", False):
                self.findings.add(rules.PARAMETER_MADE_REQUIRED, here, f"{subject}: now required")
            elif parameter.get("required", False) and not replacement.get("required", False):
                self.findings.add(rules.PARAMETER_MADE_OPTIONAL, here, f"{subject}: now optional")
            if parameter.get("description") != replacement.get("description"):
                self.findings.add(
                    rules.DOCUMENTATION_CHANGED,
                    here.child("description"),
                    f"{subject}: description changed",
                )
            self.schemas.compare(
                parameter.get("schema", {}),
                replacement.get("schema", {}),
                Direction.REQUEST,
                here.child("schema"),
            )
        for key, index in new_index.items():
            if key in old_parameters:
                continue
            subject = f"{place.subject}.{key[1]}"
            here = place.child("parameters", str(index), subject=subject)
            if new["parameters"][index].get("required", False):
                self.findings.add(
                    rules.PARAMETER_ADDED_REQUIRED,
                    here,
                    f"{subject}: new required {key[0]} parameter",
                )
            else:
                self.findings.add(
                    rules.PARAMETER_ADDED_OPTIONAL,
                    here,
                    f"{subject}: new optional {key[0]} parameter",
                )

    def request_body(
        self, old: dict[str, Any] | None, new: dict[str, Any] | None, place: Place
    ) -> None:
        here = place.child("requestBody", exists=new is not None)
        if new is None:
            if old is not None:
                self.findings.add(
                    rules.REQUEST_BODY_REMOVED, here, f"{place.subject}: request body removed"
                )
            return
        if old is None:
            required = new.get("required", False)
            rule = (
                rules.REQUEST_BODY_ADDED_REQUIRED if required else rules.REQUEST_BODY_ADDED_OPTIONAL
            )
            self.findings.add(rule, here, f"{place.subject}: now takes a request body")
            return
        if new.get("required", False) and not old.get("required", False):
            self.findings.add(
                rules.REQUEST_BODY_MADE_REQUIRED, here, f"{place.subject}: body now required"
            )
        elif old.get("required", False) and not new.get("required", False):
            self.findings.add(
                rules.REQUEST_BODY_MADE_OPTIONAL, here, f"{place.subject}: body now optional"
            )
        if old.get("description") != new.get("description"):
            self.findings.add(
                rules.DOCUMENTATION_CHANGED,
                here.child("description"),
                f"{place.subject}: body description changed",
            )
        self.content(old.get("content", {}), new.get("content", {}), Direction.REQUEST, here)

    def content(
        self, old: dict[str, Any], new: dict[str, Any], direction: Direction, place: Place
    ) -> None:
        request = direction is Direction.REQUEST
        for media_type, old_media in old.items():
            if media_type not in new:
                rule = (
                    rules.REQUEST_MEDIA_TYPE_REMOVED
                    if request
                    else rules.RESPONSE_MEDIA_TYPE_REMOVED
                )
                self.findings.add(
                    rule,
                    place.child("content", media_type, exists=False),
                    f"{place.subject}: media type {media_type} removed",
                )
                continue
            self.schemas.compare(
                old_media.get("schema", {}),
                new[media_type].get("schema", {}),
                direction,
                place.child("content", media_type, "schema"),
            )
        for media_type in new:
            if media_type not in old:
                rule = (
                    rules.REQUEST_MEDIA_TYPE_ADDED if request else rules.RESPONSE_MEDIA_TYPE_ADDED
                )
                self.findings.add(
                    rule,
                    place.child("content", media_type),
                    f"{place.subject}: media type {media_type} added",
                )

    def responses(self, old: dict[str, Any], new: dict[str, Any], place: Place) -> None:
        for status, old_response in old.items():
            success = status.startswith("2")
            if status not in new:
                rule = rules.SUCCESS_STATUS_REMOVED if success else rules.ERROR_STATUS_REMOVED
                self.findings.add(
                    rule,
                    place.child("responses", status, exists=False),
                    f"{place.subject}: no longer answers {status}",
                )
                continue
            here = place.child("responses", status)
            self.response(old_response, new[status], here)
        for status in new:
            if status not in old:
                success = status.startswith("2")
                rule = rules.SUCCESS_STATUS_ADDED if success else rules.ERROR_STATUS_ADDED
                self.findings.add(
                    rule,
                    place.child("responses", status),
                    f"{place.subject}: may now answer {status}",
                )

    def response(self, old: dict[str, Any], new: dict[str, Any], place: Place) -> None:
        for keyword in ("description", "links"):
            if old.get(keyword) != new.get(keyword):
                self.findings.add(
                    rules.DOCUMENTATION_CHANGED,
                    place.child(keyword, exists=keyword in new),
                    f"{place.subject}: {keyword} of {place.pointer.rpartition('/')[2]} changed",
                )
        old_content, new_content = old.get("content", {}), new.get("content", {})
        self.content(old_content, new_content, Direction.RESPONSE, place)
        old_headers, new_headers = old.get("headers", {}), new.get("headers", {})
        for name, header in old_headers.items():
            if name not in new_headers:
                self.findings.add(
                    rules.RESPONSE_HEADER_REMOVED,
                    Place(f"{place.pointer}/headers/{escape(name)}", place.anchor, name),
                    f"{place.subject}: header {name} removed",
                )
                continue
            old_schema = self.header(self.base, header).get("schema", {})
            new_schema = self.header(self.head, new_headers[name]).get("schema", {})
            self.schemas.compare(
                old_schema,
                new_schema,
                Direction.RESPONSE,
                place.child("headers", name, subject=name),
            )
        for name in new_headers:
            if name not in old_headers:
                self.findings.add(
                    rules.RESPONSE_HEADER_ADDED,
                    place.child("headers", name, subject=name),
                    f"{place.subject}: new header {name}",
                )

    @staticmethod
    def header(document: Document, header: dict[str, Any]) -> dict[str, Any]:
        reference = header.get("$ref")
        if isinstance(reference, str):
            name = reference.rpartition("/")[2]
            found: dict[str, Any] = document.get("components", {}).get("headers", {}).get(name, {})
            return found
        return header


def usage(document: Document) -> dict[str, set[Direction]]:
    """Which component schemas travel in requests, responses, events (through `$ref`s)."""
    used: dict[str, set[Direction]] = {}
    schemas = document.get("components", {}).get("schemas", {})

    def walk(node: Any, direction: Direction) -> None:
        if isinstance(node, dict):
            reference = node.get("$ref")
            if isinstance(reference, str) and reference.startswith(SCHEMA_PREFIX):
                name = reference.removeprefix(SCHEMA_PREFIX)
                if direction not in used.setdefault(name, set()):
                    used[name].add(direction)
                    walk(schemas.get(name, {}), direction)
            for value in node.values():
                walk(value, direction)
        elif isinstance(node, list):
            for value in node:
                walk(value, direction)

    for _, operation in operations(document).values():
        walk(operation.get("parameters", []), Direction.REQUEST)
        walk(operation.get("requestBody", {}), Direction.REQUEST)
        walk(operation.get("responses", {}), Direction.RESPONSE)
    for webhook in webhooks(document).values():
        walk(webhook.get("parameters", []), Direction.EVENT)
        walk(webhook.get("requestBody", {}), Direction.EVENT)
    walk(document.get("components", {}).get("headers", {}), Direction.RESPONSE)
    return used


def compare_components(
    base: Document, head: Document, findings: Findings, comparer: SchemaComparer
) -> None:
    old_schemas: dict[str, Schema] = base.get("components", {}).get("schemas", {})
    new_schemas: dict[str, Schema] = head.get("components", {}).get("schemas", {})
    directions = usage(base)
    for name, old in old_schemas.items():
        pointer = f"/components/schemas/{escape(name)}"
        if name not in new_schemas:
            findings.add(
                rules.SCHEMA_REMOVED,
                Place(pointer, "/components/schemas", name),
                f"{name}: schema removed (client code that names the type no longer compiles)",
            )
            continue
        for direction in sorted(directions.get(name, {Direction.RESPONSE}), key=lambda d: d.value):
            # `compare_resolved` rather than `compare`: here the component itself is the subject.
            comparer.compare_resolved(
                old, new_schemas[name], direction, Place(pointer, pointer, name)
            )
    for name in new_schemas:
        if name not in old_schemas:
            pointer = f"/components/schemas/{escape(name)}"
            findings.add(rules.SCHEMA_ADDED, Place(pointer, pointer, name), f"{name}: new schema")
    old_headers = base.get("components", {}).get("headers", {})
    new_headers = head.get("components", {}).get("headers", {})
    for name, header in old_headers.items():
        if name not in new_headers:
            findings.add(
                rules.SCHEMA_REMOVED,
                Place(f"/components/headers/{escape(name)}", "/components/headers", name),
                f"{name}: header component removed (client code that names it no longer compiles)",
            )
        else:
            pointer = f"/components/headers/{escape(name)}"
            place = Place(pointer, pointer, name)
            comparer.compare(
                header.get("schema", {}),
                new_headers[name].get("schema", {}),
                Direction.RESPONSE,
                place.child("schema"),
            )
            if header.get("description") != new_headers[name].get("description"):
                findings.add(
                    rules.DOCUMENTATION_CHANGED,
                    place.child("description"),
                    f"{name}: description changed",
                )
    compare_security_schemes(base, head, findings)


def compare_security_schemes(base: Document, head: Document, findings: Findings) -> None:
    old_schemes = base.get("components", {}).get("securitySchemes", {})
    new_schemes = head.get("components", {}).get("securitySchemes", {})
    for name, old in old_schemes.items():
        pointer = f"/components/securitySchemes/{escape(name)}"
        new = new_schemes.get(name)
        if new is None:
            findings.add(
                rules.SECURITY_SCHEME_CHANGED,
                Place(pointer, "/components/securitySchemes", name),
                f"{name}: security scheme removed",
            )
            continue
        place = Place(pointer, pointer, name)
        if {k: v for k, v in old.items() if k != "description"} != {
            k: v for k, v in new.items() if k != "description"
        }:
            findings.add(rules.SECURITY_SCHEME_CHANGED, place, f"{name}: security scheme changed")
        if old.get("description") != new.get("description"):
            findings.add(
                rules.DOCUMENTATION_CHANGED,
                place.child("description"),
                f"{name}: description changed",
            )


def compare_info(base: Document, head: Document, findings: Findings) -> None:
    old_info, new_info = base.get("info", {}), head.get("info", {})
    for key in sorted(set(old_info) | set(new_info)):
        if key != "version" and old_info.get(key) != new_info.get(key):
            pointer = f"/info/{escape(key)}"
            findings.add(
                rules.DOCUMENTATION_CHANGED,
                Place(pointer, pointer if key in new_info else "/info/version", "info"),
                f"info.{key} changed",
            )
    for key in ("servers", "tags"):
        if base.get(key) != head.get(key):
            findings.add(
                rules.DOCUMENTATION_CHANGED, Place(f"/{key}", f"/{key}", key), f"{key} changed"
            )
