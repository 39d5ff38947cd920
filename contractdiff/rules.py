"""The rule table: every kind of change the gate reports, with its class and the bump it needs.

docs/CONTRACT-CHANGES.md explains each rule with an example; a test holds the two together.
"""

from __future__ import annotations

from typing import Final

from contractdiff.changes import Bump, Rule, Severity

B, W, C = Severity.BREAKING, Severity.WARNING, Severity.COMPATIBLE

# Operations
OPERATION_REMOVED: Final = Rule("operation-removed", B, Bump.MAJOR)
OPERATION_ADDED: Final = Rule("operation-added", C, Bump.MINOR)
OPERATION_ID_CHANGED: Final = Rule("operation-id-changed", W, Bump.MINOR)
SECURITY_CHANGED: Final = Rule("security-changed", B, Bump.MAJOR)
SECURITY_REMOVED: Final = Rule("security-removed", W, Bump.MINOR)
SECURITY_SCHEME_CHANGED: Final = Rule("security-scheme-changed", B, Bump.MAJOR)

# Parameters
PARAMETER_REMOVED: Final = Rule("parameter-removed", B, Bump.MAJOR)
PARAMETER_ADDED_REQUIRED: Final = Rule("parameter-added-required", B, Bump.MAJOR)
PARAMETER_ADDED_OPTIONAL: Final = Rule("parameter-added-optional", C, Bump.MINOR)
PARAMETER_MADE_REQUIRED: Final = Rule("parameter-made-required", B, Bump.MAJOR)
PARAMETER_MADE_OPTIONAL: Final = Rule("parameter-made-optional", C, Bump.MINOR)

# Request bodies
REQUEST_BODY_ADDED_REQUIRED: Final = Rule("request-body-added-required", B, Bump.MAJOR)
REQUEST_BODY_ADDED_OPTIONAL: Final = Rule("request-body-added-optional", C, Bump.MINOR)
REQUEST_BODY_REMOVED: Final = Rule("request-body-removed", B, Bump.MAJOR)
REQUEST_BODY_MADE_REQUIRED: Final = Rule("request-body-made-required", B, Bump.MAJOR)
REQUEST_BODY_MADE_OPTIONAL: Final = Rule("request-body-made-optional", C, Bump.MINOR)
REQUEST_MEDIA_TYPE_REMOVED: Final = Rule("request-media-type-removed", B, Bump.MAJOR)
REQUEST_MEDIA_TYPE_ADDED: Final = Rule("request-media-type-added", C, Bump.MINOR)

# What a client sends: parameters and request bodies (a new contract must accept all it did)
REQUEST_FIELD_REMOVED: Final = Rule("request-field-removed", B, Bump.MAJOR)
REQUEST_FIELD_ADDED_REQUIRED: Final = Rule("request-field-added-required", B, Bump.MAJOR)
REQUEST_FIELD_ADDED_OPTIONAL: Final = Rule("request-field-added-optional", C, Bump.MINOR)
REQUEST_FIELD_MADE_REQUIRED: Final = Rule("request-field-made-required", B, Bump.MAJOR)
REQUEST_FIELD_MADE_OPTIONAL: Final = Rule("request-field-made-optional", C, Bump.MINOR)
REQUEST_TYPE_NARROWED: Final = Rule("request-type-narrowed", B, Bump.MAJOR)
REQUEST_TYPE_WIDENED: Final = Rule("request-type-widened", C, Bump.MINOR)
REQUEST_NULL_REMOVED: Final = Rule("request-null-removed", B, Bump.MAJOR)
REQUEST_NULL_ADDED: Final = Rule("request-null-added", C, Bump.MINOR)
REQUEST_CONSTRAINT_TIGHTENED: Final = Rule("request-constraint-tightened", B, Bump.MAJOR)
REQUEST_CONSTRAINT_RELAXED: Final = Rule("request-constraint-relaxed", C, Bump.MINOR)
REQUEST_ENUM_VALUE_REMOVED: Final = Rule("request-enum-value-removed", B, Bump.MAJOR)
REQUEST_ENUM_VALUE_ADDED: Final = Rule("request-enum-value-added", C, Bump.MINOR)
REQUEST_CLOSED: Final = Rule("request-closed", B, Bump.MAJOR)
REQUEST_OPENED: Final = Rule("request-opened", C, Bump.MINOR)

# What a client receives: responses (a client built for the old contract must understand it)
SUCCESS_STATUS_REMOVED: Final = Rule("success-status-removed", B, Bump.MAJOR)
SUCCESS_STATUS_ADDED: Final = Rule("success-status-added", W, Bump.MINOR)
ERROR_STATUS_REMOVED: Final = Rule("error-status-removed", C, Bump.PATCH)
ERROR_STATUS_ADDED: Final = Rule("error-status-added", C, Bump.MINOR)
RESPONSE_MEDIA_TYPE_REMOVED: Final = Rule("response-media-type-removed", B, Bump.MAJOR)
RESPONSE_MEDIA_TYPE_ADDED: Final = Rule("response-media-type-added", C, Bump.MINOR)
RESPONSE_HEADER_REMOVED: Final = Rule("response-header-removed", B, Bump.MAJOR)
RESPONSE_HEADER_ADDED: Final = Rule("response-header-added", C, Bump.MINOR)
RESPONSE_FIELD_REMOVED: Final = Rule("response-field-removed", B, Bump.MAJOR)
RESPONSE_FIELD_MADE_OPTIONAL: Final = Rule("response-field-made-optional", B, Bump.MAJOR)
RESPONSE_FIELD_MADE_REQUIRED: Final = Rule("response-field-made-required", C, Bump.PATCH)
RESPONSE_FIELD_ADDED: Final = Rule("response-field-added", C, Bump.MINOR)
RESPONSE_FIELD_ADDED_TO_CLOSED: Final = Rule("response-field-added-to-closed", W, Bump.MINOR)
RESPONSE_TYPE_CHANGED: Final = Rule("response-type-changed", B, Bump.MAJOR)
RESPONSE_TYPE_NARROWED: Final = Rule("response-type-narrowed", C, Bump.PATCH)
RESPONSE_NULL_ADDED: Final = Rule("response-null-added", B, Bump.MAJOR)
RESPONSE_NULL_REMOVED: Final = Rule("response-null-removed", C, Bump.PATCH)
RESPONSE_CONSTRAINT_RELAXED: Final = Rule("response-constraint-relaxed", W, Bump.MINOR)
RESPONSE_CONSTRAINT_TIGHTENED: Final = Rule("response-constraint-tightened", C, Bump.PATCH)
RESPONSE_ENUM_VALUE_ADDED: Final = Rule("response-enum-value-added", W, Bump.MINOR)
RESPONSE_ENUM_VALUE_REMOVED: Final = Rule("response-enum-value-removed", C, Bump.PATCH)
RESPONSE_OPENED: Final = Rule("response-opened", C, Bump.PATCH)
RESPONSE_CLOSED: Final = Rule("response-closed", C, Bump.PATCH)

# What a receiver gets: events (webhooks). Their payloads are read as responses are, with
# the response rules above; a receiver cannot be told to update first, and one that fails
# on an unknown value refuses every delivery, so a new value is a break, not a warning.
EVENT_REMOVED: Final = Rule("event-removed", B, Bump.MAJOR)
EVENT_ADDED: Final = Rule("event-added", C, Bump.MINOR)
EVENT_ENUM_VALUE_ADDED: Final = Rule("event-enum-value-added", B, Bump.MAJOR)
# What a receiver answers, which the server reads: it must accept every answer it did.
EVENT_ANSWER_REMOVED: Final = Rule("event-answer-removed", B, Bump.MAJOR)
EVENT_ANSWER_ADDED: Final = Rule("event-answer-added", C, Bump.MINOR)

# The previous release's TypeScript client, compiled against types generated from the new
# contract (contractdiff/clients.py): a break no rule on the wire sees, such as a property
# with a default that the generator types as always present in what the client sends.
CLIENT_BREAKS_WITH_DOCUMENTED_SETTINGS: Final = Rule(
    "client-breaks-with-documented-settings", B, Bump.MAJOR
)
CLIENT_BREAKS_WITH_DEFAULT_SETTINGS: Final = Rule(
    "client-breaks-with-default-settings", W, Bump.MINOR
)

# Either direction
DEFAULT_CHANGED: Final = Rule("default-changed", W, Bump.MINOR)
SCHEMA_REMOVED: Final = Rule("schema-removed", W, Bump.MINOR)
SCHEMA_ADDED: Final = Rule("schema-added", C, Bump.MINOR)
DOCUMENTATION_CHANGED: Final = Rule("documentation-changed", C, Bump.PATCH)

ALL_RULES: Final[tuple[Rule, ...]] = tuple(
    value for value in list(globals().values()) if isinstance(value, Rule)
)
