"""The rules for what the server sends a receiver: events (webhooks), their payloads and headers.

A receiver reads what the server writes, as a client reads a response: a payload is compared
in the event direction (the response rules, and a new enum value breaks), a delivery header
as a response header. What a receiver answers is read by the server, which must go on
accepting every answer it did.
"""

from __future__ import annotations

from typing import Any

from contractdiff import rules
from contractdiff.schemas import Direction, Findings, Place, SchemaComparer

Document = dict[str, Any]
WEBHOOK_METHODS = ("post", "put", "patch", "get", "delete")


def webhooks(document: Document) -> dict[tuple[str, str], dict[str, Any]]:
    """(event name, method) -> the webhook's operation."""
    return {
        (name, method): item[method]
        for name, item in document.get("webhooks", {}).items()
        for method in WEBHOOK_METHODS
        if isinstance(item.get(method), dict)
    }


def place_of(name: str, method: str) -> Place:
    pointer = "/webhooks/" + name.replace("~", "~0").replace("/", "~1") + "/" + method
    return Place(pointer, pointer, name)


def compare_webhooks(
    base: Document, head: Document, findings: Findings, schemas: SchemaComparer
) -> None:
    old_events, new_events = webhooks(base), webhooks(head)
    for key, old in old_events.items():
        place = place_of(*key)
        if key not in new_events:
            removed = Place(place.pointer, "/webhooks" if "webhooks" in head else "", key[0])
            findings.add(rules.EVENT_REMOVED, removed, f"{key[0]}: event no longer sent")
            continue
        WebhookComparer(findings, schemas).compare(old, new_events[key], place)
    for key in new_events:
        if key not in old_events:
            findings.add(rules.EVENT_ADDED, place_of(*key), f"{key[0]}: new event")


class WebhookComparer:
    def __init__(self, findings: Findings, schemas: SchemaComparer) -> None:
        self.findings, self.schemas = findings, schemas

    def compare(self, old: dict[str, Any], new: dict[str, Any], place: Place) -> None:
        for keyword in ("operationId", "summary", "description", "tags"):
            if old.get(keyword) != new.get(keyword):
                self.findings.add(
                    rules.DOCUMENTATION_CHANGED,
                    place.child(keyword, exists=keyword in new),
                    f"{place.subject}: {keyword} changed",
                )
        self.headers(old.get("parameters", []), new.get("parameters", []), place)
        self.payload(old.get("requestBody", {}), new.get("requestBody", {}), place)
        self.answers(old.get("responses", {}), new.get("responses", {}), place)

    def headers(self, old: list[dict[str, Any]], new: list[dict[str, Any]], place: Place) -> None:
        old_headers = {(p["in"], p["name"].lower()): p for p in old}
        new_index = {(p["in"], p["name"].lower()): i for i, p in enumerate(new)}
        for index, (key, header) in enumerate(old_headers.items()):
            subject = f"{place.subject}.{header['name']}"
            if key not in new_index:
                removed = Place(f"{place.pointer}/parameters/{index}", place.anchor, subject)
                self.findings.add(
                    rules.RESPONSE_HEADER_REMOVED, removed, f"{subject}: header no longer sent"
                )
                continue
            here = place.child("parameters", str(new_index[key]), subject=subject)
            replacement = new[new_index[key]]
            if header.get("required", False) and not replacement.get("required", False):
                self.findings.add(
                    rules.RESPONSE_FIELD_MADE_OPTIONAL, here, f"{subject}: no longer always sent"
                )
            elif replacement.get("required", False) and not header.get("required", False):
                self.findings.add(
                    rules.RESPONSE_FIELD_MADE_REQUIRED, here, f"{subject}: now always sent"
                )
            if header.get("description") != replacement.get("description"):
                self.findings.add(
                    rules.DOCUMENTATION_CHANGED,
                    here.child("description"),
                    f"{subject}: description changed",
                )
            self.schemas.compare(
                header.get("schema", {}),
                replacement.get("schema", {}),
                Direction.EVENT,
                here.child("schema"),
            )
        for key, index in new_index.items():
            if key not in old_headers:
                subject = f"{place.subject}.{new[index]['name']}"
                self.findings.add(
                    rules.RESPONSE_HEADER_ADDED,
                    place.child("parameters", str(index), subject=subject),
                    f"{subject}: new header",
                )

    def payload(self, old: dict[str, Any], new: dict[str, Any], place: Place) -> None:
        here = place.child("requestBody", exists=bool(new))
        if old.get("description") != new.get("description"):
            self.findings.add(
                rules.DOCUMENTATION_CHANGED,
                here.child("description", exists="description" in new),
                f"{place.subject}: payload description changed",
            )
        old_content, new_content = old.get("content", {}), new.get("content", {})
        for media_type, old_media in old_content.items():
            if media_type not in new_content:
                self.findings.add(
                    rules.RESPONSE_MEDIA_TYPE_REMOVED,
                    here.child("content", media_type, exists=False),
                    f"{place.subject}: payload no longer sent as {media_type}",
                )
                continue
            self.schemas.compare(
                old_media.get("schema", {}),
                new_content[media_type].get("schema", {}),
                Direction.EVENT,
                here.child("content", media_type, "schema"),
            )
        for media_type in new_content:
            if media_type not in old_content:
                self.findings.add(
                    rules.RESPONSE_MEDIA_TYPE_ADDED,
                    here.child("content", media_type),
                    f"{place.subject}: payload also sent as {media_type}",
                )

    def answers(self, old: dict[str, Any], new: dict[str, Any], place: Place) -> None:
        for status, answer in old.items():
            if status not in new:
                self.findings.add(
                    rules.EVENT_ANSWER_REMOVED,
                    place.child("responses", status, exists=False),
                    f"{place.subject}: a receiver's answer {status} is no longer read as before",
                )
            elif answer.get("description") != new[status].get("description"):
                self.findings.add(
                    rules.DOCUMENTATION_CHANGED,
                    place.child("responses", status, "description"),
                    f"{place.subject}: description of the answer {status} changed",
                )
        for status in new:
            if status not in old:
                self.findings.add(
                    rules.EVENT_ANSWER_ADDED,
                    place.child("responses", status),
                    f"{place.subject}: a receiver may answer {status}",
                )
