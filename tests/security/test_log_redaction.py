"""The access log's redaction as plain functions: which values look like a JWT, which query
values are kept, and the filter on uvicorn's access records (backend/http/log_redaction.py)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from backend.http.log_redaction import (
    ACCESS_LOGGER,
    REDACTED,
    QueryRedaction,
    install_query_redaction,
    looks_like_jwt,
    redact_query,
)

HEADER = "eyJhbGciOiJIUzI1NiJ9"  # {"alg":"HS256"}
JWT = f"{HEADER}.eyJzdWIiOiJ1In0.c2lnbmF0dXJlLWJ5dGVz"
KEEP = frozenset({"status", "cursor"})


@pytest.mark.parametrize(
    "value",
    [
        JWT,
        f"{HEADER}%2E",  # the dot percent-encoded, upper case
        f"{HEADER}%2e",  # ... and lower case, as some clients write it
        "ewogICJhbGciOiAiSFMyNTYiCn0.",  # '{' then a line break: "ew", not "ey"
        "eyJ-_kid1234.",  # base64url's own '-' and '_' in the segment
        "eyJhbGci%4FiJ9.",  # a character of the segment percent-encoded
        "EYJHBGCIOIJIUZI1NIJ9.",  # upper case
        "eyJhbGciOi.",  # the shortest: "e", "y" and 8 more before the dot
        f"cursor-{JWT}",  # anywhere in the value
    ],
)
def test_a_value_shaped_like_a_jwt_is_recognised(value: str) -> None:
    assert looks_like_jwt(value)


@pytest.mark.parametrize(
    "value",
    [
        "eyJhbGciO.",  # one character short of the shortest
        HEADER,  # no dot after the first segment
        f"{HEADER}%2F",  # an encoded '/', not a dot
        "abJhbGciOiJIUzI1NiJ9.",  # not the start of a JSON object
        "eyJhbGc iOiJ.",  # a space splits the segment
        "MTIzNDU2Nzg5MA",  # a real cursor
    ],
)
def test_other_values_are_not_taken_for_a_jwt(value: str) -> None:
    assert not looks_like_jwt(value)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (f"/a?cursor={HEADER}%2eeyJzdWIiOiJ1In0", f"/a?cursor={REDACTED}"),
        ("/a?status=all&cursor=MTIz", "/a?status=all&cursor=MTIz"),
        ("/a?status=all&token=abc", f"/a?status=all&token={REDACTED}"),
        ("/a?status", "/a?status"),
        ("/a?secret", f"/a?{REDACTED}"),
        ("/a?status=", "/a?status="),
        ("/a?x=", f"/a?x={REDACTED}"),
        ("/a?status=a=b", "/a?status=a=b"),
        ("/a?st%61tus=all", "/a?st%61tus=all"),
        ("/a?status+=all", f"/a?status+={REDACTED}"),
        ("/a?", f"/a?{REDACTED}"),  # an empty pair is a value without a name
        ("/a", "/a"),
        ("/a?status=all?x=1", "/a?status=all?x=1"),
    ],
)
def test_query_values_are_kept_only_for_kept_names(path: str, expected: str) -> None:
    assert redact_query(path, KEEP) == expected


def test_a_kept_name_is_compared_decoded_as_a_form_field() -> None:
    """`+` is a space in a query's name, as in a form's: `a+b` and `a%20b` both name `a b`."""
    keep = frozenset({"a b"})
    assert redact_query("/a?a+b=1&a%20b=2&ab=3", keep) == f"/a?a+b=1&a%20b=2&ab={REDACTED}"


def access_record(*arguments: object) -> logging.LogRecord:
    return logging.LogRecord(
        ACCESS_LOGGER, logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d', arguments, None
    )


def test_the_filter_rewrites_the_path_of_an_access_record_and_keeps_it() -> None:
    record = access_record("127.0.0.1:5", "GET", f"/a?status=all&token={JWT}", "1.1", 200)
    assert QueryRedaction(["status"]).filter(record) is True
    assert record.args == ("127.0.0.1:5", "GET", f"/a?status=all&token={REDACTED}", "1.1", 200)
    assert record.getMessage() == f'127.0.0.1:5 - "GET /a?status=all&token={REDACTED} HTTP/1.1" 200'


@pytest.mark.parametrize(
    "arguments",
    [
        ("127.0.0.1:5", "GET", "/a", "1.1", 200),  # no query
        ("127.0.0.1:5", "GET"),  # too short to hold a path
        ("127.0.0.1:5", "GET", 7, "1.1", 200),  # not a path
    ],
)
def test_the_filter_leaves_other_records_as_they_are_and_keeps_them(
    arguments: tuple[object, ...],
) -> None:
    record = access_record(*arguments)
    assert QueryRedaction(["status"]).filter(record) is True
    assert record.args == arguments


def test_the_filter_leaves_a_record_whose_arguments_are_a_mapping() -> None:
    record = logging.LogRecord(
        ACCESS_LOGGER, logging.INFO, __file__, 1, "%(path)s", ({"path": "/a?x=1"},), None
    )
    assert QueryRedaction(["status"]).filter(record) is True
    assert record.args == {"path": "/a?x=1"}


@pytest.fixture
def access_logger() -> Iterator[logging.Logger]:
    """uvicorn's access logger without its filters, restored afterwards."""
    logger = logging.getLogger(ACCESS_LOGGER)
    saved = list(logger.filters)
    for existing in saved:
        logger.removeFilter(existing)
    yield logger
    for added in list(logger.filters):
        logger.removeFilter(added)
    for existing in saved:
        logger.addFilter(existing)


def test_installing_twice_keeps_one_filter_with_the_last_names(
    access_logger: logging.Logger,
) -> None:
    install_query_redaction(["status"])
    install_query_redaction(iter(["cursor", "limit"]))
    installed = [kept for kept in access_logger.filters if isinstance(kept, QueryRedaction)]
    assert len(installed) == 1
    assert installed[0].keep == frozenset({"cursor", "limit"})
    record = access_record("127.0.0.1:5", "GET", "/a?status=all&cursor=MTIz", "1.1", 200)
    assert access_logger.filter(record)
    assert record.args == ("127.0.0.1:5", "GET", f"/a?status={REDACTED}&cursor=MTIz", "1.1", 200)


def test_installing_beside_another_filter_adds_its_own(access_logger: logging.Logger) -> None:
    other = logging.Filter()
    access_logger.addFilter(other)
    install_query_redaction(["status"])
    assert access_logger.filters[0] is other
    assert [type(kept) for kept in access_logger.filters] == [logging.Filter, QueryRedaction]
