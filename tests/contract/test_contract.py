"""The server against the committed contract: every check, in-process and over HTTP.

Each generated case carries a token whose `sub` is the case's `{user_id}`, so fuzzing reaches
the handlers (test_in_process, test_over_http). The same operations are then sent with no
token, a forged token and another user's token, which the contract answers 401 with a
Bearer challenge, 401 with `error="invalid_token"`, and 403 (test_rejects_*).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from zoneinfo import available_timezones

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import CheckFunction
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import positive_data_acceptance

from backend.auth.tokens import mint_token
from tests.conftest import SECRET
from tests.contract.conftest import (
    CONTRACT,
    FIGURES,
    LiveServer,
    database_of,
    in_process,
    load_contract,
    stateful_settings,
)

if TYPE_CHECKING:
    from schemathesis.specs.openapi.schemas import OpenApiCase

FORGED_SECRET = b"not-the-server-secret-0123456789abcdef"
STRANGER = "someone-else"

# The fixtures hold a shared app, server and figures, never per-example state.
SHARED_FIXTURES = hypothesis_settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


def subject_of(case: OpenApiCase) -> str:
    """The case's `{user_id}` as a token subject (a negative case may not hold a usable one)."""
    user_id = (case.path_parameters or {}).get("user_id")
    text = "" if user_id is None else str(user_id)
    return text if text.strip() else "blank-user-id"


def bearer(secret: bytes, subject: Callable[[OpenApiCase], str]) -> type:
    """An auth provider minting, for each case, a token for `subject(case)` signed by `secret`."""

    class Bearer:
        def get(self, case: OpenApiCase, context: schemathesis.AuthContext) -> str:
            return mint_token(subject(case), secret)

        def set(self, case: OpenApiCase, token: str, context: schemathesis.AuthContext) -> None:
            headers: dict[str, Any] = dict(case.headers or {})
            headers["Authorization"] = f"Bearer {token}"
            # A plain dict, as schemathesis's own auth examples set it; it annotates the
            # attribute as a CaseInsensitiveDict.
            case.headers = headers  # type: ignore[assignment]

    return Bearer


def with_owner_token(schema: Any) -> Any:
    # No caching: each case gets the token of its own `{user_id}`.
    schema.auth(refresh_interval=None)(bearer(SECRET.encode(), subject_of))
    return schema


CONDITIONAL_HEADERS = ("If-Match", "If-None-Match")
ENTITY_TAGS = re.compile(
    next(
        parameter["schema"]["pattern"]
        for parameter in json.loads(CONTRACT.read_text(encoding="utf-8"))["paths"][
            "/api/{user_id}/tasks/{task_id}"
        ]["put"]["parameters"]
        if parameter["name"] == "If-Match"
    )
)


def is_documented_rejection(case: OpenApiCase, response: Any) -> bool:
    """A schema-valid request the contract's prose refuses: 422 naming only such parameters.

    positive_data_acceptance sees the parameters' schemas, not the rules between values or
    inside opaque ones: a well-formed cursor this server did not issue (or issued for other
    filters) is 422 on `query.cursor`, and a `due_from` after `due_to` is 422 on
    `query.due_to`. An `Idempotency-Key` already used with another body is 422 on
    `header.Idempotency-Key`. A well-formed If-Match naming another state of the task is
    412. The schedule (1.4.0): a `time_zone` that is no IANA name, a `recurrence` outside
    the rule grammar, or a field lacking the one it needs (a rule or due time without a due
    day, a reminder without a due time; on an update, the stored task decides) is 422 on
    that field; `remind_from`/`remind_to` need `sort=remind_at`, and `remind_to` is not
    before `remind_from`. Every other check still runs on such a case.
    """
    headers: dict[str, Any] = dict(case.headers or {})
    if response.status_code == 412:
        # A well-formed If-Match naming a state the task does not have (1.3.0).
        return "If-Match" in headers
    if response.status_code != 422:
        return False
    query = case.query or {}
    refusable = set()
    for name in CONDITIONAL_HEADERS:
        # The coverage phase sends conditional headers that break their own pattern (`0`)
        # as positive data; such a value is no valid entity tag, and the 422 names it.
        if name in headers and not ENTITY_TAGS.fullmatch(str(headers[name])):
            refusable.add(f"header.{name}")
    if "cursor" in query:
        refusable.add("query.cursor")
    if "Idempotency-Key" in (case.headers or {}):
        # The fuzzer draws few distinct keys, and a key first sent with another body is 422.
        refusable.add("header.Idempotency-Key")
    due_from, due_to = query.get("due_from"), query.get("due_to")
    if isinstance(due_from, str) and isinstance(due_to, str) and due_from > due_to:
        refusable.add("query.due_to")
    refusable |= schedule_rejections(case.body, query)
    issues = response.json().get("errors", [])
    locations = {issue["location"] for issue in issues}
    return bool(locations) and locations <= refusable


def schedule_rejections(body: object, query: dict[str, Any]) -> set[str]:
    """The locations a 422 may name for the schedule's rules between values (1.4.0)."""
    refusable = set()
    if isinstance(body, dict):
        zone = body.get("time_zone")
        if isinstance(zone, str) and zone != "UTC" and zone not in available_timezones():
            refusable.add("body.time_zone")
        for name in ("due_time", "recurrence", "remind_before_minutes"):
            if body.get(name) is not None:
                refusable.add(f"body.{name}")
    if query.get("sort") != "remind_at":
        refusable |= {f"query.{name}" for name in ("remind_from", "remind_to") if name in query}
    remind_from, remind_to = query.get("remind_from"), query.get("remind_to")
    if isinstance(remind_from, str) and isinstance(remind_to, str):
        refusable.add("query.remind_to")
    return refusable


def send_and_validate(
    case: OpenApiCase, request: pytest.FixtureRequest, run: str, base_url: str | None = None
) -> Any:
    """Send the case, run every check, and count it in the session's figures."""
    key = (run, database_of(request), case.operation.label)
    FIGURES.examples[key] += 1
    target: dict[str, Any] = {} if base_url is None else {"base_url": base_url}
    try:
        response = case.call(**target)
        excluded: list[CheckFunction] = (
            [positive_data_acceptance] if is_documented_rejection(case, response) else []
        )
        case.validate_response(response, excluded_checks=excluded, transport_kwargs=target)
    except FailureGroup:
        FIGURES.failures[key] += 1
        raise
    return response


in_process_contract = in_process(with_owner_token(load_contract()))
over_http_contract = with_owner_token(load_contract())


@in_process_contract.parametrize()  # type: ignore[untyped-decorator]  # schemathesis: a bare Callable
@SHARED_FIXTURES
def test_in_process(
    case: OpenApiCase, in_process_app: FastAPI, request: pytest.FixtureRequest
) -> None:
    send_and_validate(case, request, "in-process")


def frames_the_body(case: OpenApiCase) -> bool:
    """The fuzzer generated an HTTP framing header (RFC 9112 section 6) of its own.

    A wrong Content-Length or Transfer-Encoding makes the request invalid HTTP/1.1: the
    HTTP server answers a plain-text 400 before the API sees it, or reads a body other than
    the one sent. Such a request is not a call of the contract's operation.
    """
    return bool({name.lower() for name in case.headers or {}} & FRAMING_HEADERS)


FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding"})


@over_http_contract.parametrize()  # type: ignore[untyped-decorator]  # schemathesis: a bare Callable
@SHARED_FIXTURES
def test_over_http(
    case: OpenApiCase, live_server: LiveServer, request: pytest.FixtureRequest
) -> None:
    if frames_the_body(case):
        FIGURES.set_aside[("uvicorn", database_of(request), case.operation.label)] += 1
        return
    send_and_validate(case, request, "uvicorn", base_url=live_server.url)


# --- rejected credentials ----------------------------------------------------------------


def stranger_of(case: OpenApiCase) -> str:
    """A valid user id that is not the case's `{user_id}`."""
    return STRANGER if subject_of(case) != STRANGER else f"{STRANGER}-2"


def rejected(schema: Any, provider: type | None) -> Any:
    if provider is not None:
        schema.auth(refresh_interval=None)(provider)
    return in_process(schema)


no_token_contract = rejected(load_contract(), None)
forged_token_contract = rejected(load_contract(), bearer(FORGED_SECRET, subject_of))
stranger_token_contract = rejected(load_contract(), bearer(SECRET.encode(), stranger_of))


# Answered before credentials are looked at, as the contract orders it: a method the path
# does not have (405), a body refused on admission (413, 415) or that is not JSON (422).
NOT_THE_OPERATION = frozenset({405, 413, 415})
NOT_JSON = frozenset({"JSON decode error", "the body is not UTF-8 encoded JSON"})
BEARER_JWS = re.compile(r"Bearer [A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")
CHALLENGE = 'Bearer realm="todo"'


def header(response: Any, name: str) -> str:
    values = {key.lower(): value for key, value in response.headers.items()}.get(name.lower())
    return values[0] if values else ""


def problem_messages(response: Any, location_prefix: str = "") -> set[str]:
    if response.status_code != 422:
        return set()
    issues = response.json().get("errors", [])
    return {issue["message"] for issue in issues if issue["location"].startswith(location_prefix)}


def assert_rejected(response: Any, status: int, challenge: str) -> None:
    """`status` with `challenge` for the run's token; a request without a token gets 401.

    The fuzzer also mutates or drops the Authorization header the provider set: without a
    `Bearer <JWS>` the answer is the plain challenge, whatever the run's token was.
    """
    if response.status_code in NOT_THE_OPERATION or problem_messages(response) & NOT_JSON:
        return
    sent = {key.lower(): value for key, value in response.request.headers.items()}
    if not BEARER_JWS.fullmatch(sent.get("authorization", "")):
        status, challenge = 401, CHALLENGE
    # With a valid token, a `{user_id}` that is no user id at all is invalid, not foreign.
    if status == 403 and problem_messages(response, "path.user_id"):
        return
    assert response.status_code == status, response.text
    if status == 401:
        assert header(response, "WWW-Authenticate").startswith(challenge), response.headers


@no_token_contract.parametrize()  # type: ignore[untyped-decorator]  # schemathesis: a bare Callable
@SHARED_FIXTURES
def test_rejects_no_token(
    case: OpenApiCase, in_process_app: FastAPI, request: pytest.FixtureRequest
) -> None:
    response = send_and_validate(case, request, "no-token")
    assert_rejected(response, 401, CHALLENGE)


@forged_token_contract.parametrize()  # type: ignore[untyped-decorator]  # schemathesis: a bare Callable
@SHARED_FIXTURES
def test_rejects_forged_token(
    case: OpenApiCase, in_process_app: FastAPI, request: pytest.FixtureRequest
) -> None:
    response = send_and_validate(case, request, "forged-token")
    assert_rejected(response, 401, f'{CHALLENGE}, error="invalid_token"')


@stranger_token_contract.parametrize()  # type: ignore[untyped-decorator]  # schemathesis: a bare Callable
@SHARED_FIXTURES
def test_rejects_another_users_token(
    case: OpenApiCase, in_process_app: FastAPI, request: pytest.FixtureRequest
) -> None:
    response = send_and_validate(case, request, "stranger-token")
    assert_rejected(response, 403, "")


# --- stateful: through the contract's links ------------------------------------------------

stateful_in_process = in_process(with_owner_token(load_contract(stateful=True)))
stateful_over_http = with_owner_token(load_contract(stateful=True))


def run_links(schema: Any, request: pytest.FixtureRequest, run: str, **target: Any) -> None:
    """Create, then get, update, toggle and delete by the new id (delete, then get is 404).

    Every step runs every check; use_after_free and ensure_resource_availability judge the
    sequences.
    """
    database = database_of(request)

    class Links(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: OpenApiCase) -> dict[str, Any]:
            FIGURES.examples[(run, database, f"links: {case.operation.label}")] += 1
            if case.headers and "Idempotency-Key" in case.headers:
                # A client draws one key per task. The fuzzer draws few keys, and an earlier
                # sequence's key would replay its create, of a task deleted since (as the
                # contract says a replay does), so the links would lead to a 404.
                case.headers["Idempotency-Key"] = str(uuid.uuid4())
            return dict(target)

        def validate_response(
            self, response: Any, case: OpenApiCase, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            if not is_documented_rejection(case, response):
                super().validate_response(response, case, additional_checks, **kwargs)
                return
            case.validate_response(
                response,
                additional_checks=additional_checks,
                excluded_checks=[positive_data_acceptance],
                transport_kwargs=kwargs or None,
                recorder=self.recorder,
            )

    Links.run(settings=stateful_settings())


@pytest.mark.parametrize("transport", ["in-process", "uvicorn"])
def test_links(transport: str, database_url: str, request: pytest.FixtureRequest) -> None:
    if transport == "in-process":
        request.getfixturevalue("in_process_app")
        run_links(stateful_in_process, request, "stateful")
    else:
        server: LiveServer = request.getfixturevalue("live_server")
        run_links(stateful_over_http, request, "stateful-http", base_url=server.url)
