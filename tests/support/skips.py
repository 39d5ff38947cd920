"""Skip or fail: the one rule for a test that cannot run here.

Locally a test skips with its reason printed. Under CI=true it fails instead, unless its
reason is one of CI_SKIPS, which docs/TESTING.md lists with why CI may skip it. The root
conftest holds every other skip (a `pytest.skip` called directly, a `skipif` mark) to the
same rule, so under CI the skipped tests are exactly the documented ones.
"""

from __future__ import annotations

import os
from typing import Final, NoReturn

import pytest

# Each reason CI may skip for, word for word as the test gives it; docs/TESTING.md lists
# each one with why (tests/support/test_skips.py keeps the two lists equal).
CI_SKIPS: Final = frozenset(
    {
        "SQLite is embedded: it cannot be stopped under the server",
    }
)


def running_in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def allowed_in_ci(reason: str) -> bool:
    return reason in CI_SKIPS


def skip_or_fail(reason: str) -> NoReturn:
    """Skip with the reason; under CI=true fail, unless CI_SKIPS names the reason."""
    if running_in_ci() and not allowed_in_ci(reason):
        pytest.fail(f"CI must run this test (.ci/run installs what it needs), but {reason}")
    pytest.skip(reason)


def skip_reason(longrepr: object) -> str:
    """The reason a skipped test report carries (`pytest.skip`, `skipif`, `importorskip`)."""
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def undocumented_ci_skip(report: pytest.TestReport) -> str | None:
    """Under CI=true, the reason of a skip docs/TESTING.md does not list; else None."""
    if not (running_in_ci() and report.skipped) or hasattr(report, "wasxfail"):
        return None
    reason = skip_reason(report.longrepr)
    return None if allowed_in_ci(reason) else reason
