"""One rule for every skip: locally a test skips with its reason; under CI=true it fails,
unless docs/TESTING.md lists the reason as one CI may skip for."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from tests.support.browser import chromium_binary
from tests.support.skips import CI_SKIPS, skip_or_fail, undocumented_ci_skip
from tests.support.tools import ROOT, node_binary

TOOLS = [
    (node_binary, "node is not installed"),
    (chromium_binary, "chromium is not installed"),
]
TOOL_IDS = ["node", "chromium"]
DOCUMENTED = sorted(CI_SKIPS)[0]


@pytest.mark.parametrize(("find", "named"), TOOLS, ids=TOOL_IDS)
def test_a_missing_tool_skips_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, find: Callable[[], object], named: str
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=named):
        find()


@pytest.mark.parametrize(("find", "named"), TOOLS, ids=TOOL_IDS)
def test_a_missing_tool_fails_under_ci(
    monkeypatch: pytest.MonkeyPatch, find: Callable[[], object], named: str
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=f"CI must run this test.*{named}"):
        find()


def test_under_ci_only_a_documented_reason_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.skip.Exception, match=re.escape(DOCUMENTED)):
        skip_or_fail(DOCUMENTED)
    with pytest.raises(pytest.fail.Exception, match="CI must run this test"):
        skip_or_fail(DOCUMENTED + " (or so it says)")


def skipped_report(reason: str, **extra: object) -> pytest.TestReport:
    report = pytest.TestReport(
        "tests/x.py::test", ("tests/x.py", 1, "test"), {}, "skipped", ("x.py", 1, reason), "call"
    )
    for name, value in extra.items():
        setattr(report, name, value)
    return report


@pytest.mark.parametrize("ci", ["true", "1", "yes"])
def test_a_skip_that_bypasses_the_helper_is_caught_under_ci(
    monkeypatch: pytest.MonkeyPatch, ci: str
) -> None:
    """A `pytest.skip` called directly or a `skipif` mark: the root conftest fails it."""
    monkeypatch.setenv("CI", ci)
    assert undocumented_ci_skip(skipped_report("Skipped: no network")) == "no network"
    assert undocumented_ci_skip(skipped_report(f"Skipped: {DOCUMENTED}")) is None
    # An expected failure is reported as skipped too: it is not a skip.
    assert undocumented_ci_skip(skipped_report("reason", wasxfail="known bug")) is None


def test_without_ci_every_skip_stands(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    assert undocumented_ci_skip(skipped_report("Skipped: no network")) is None
    monkeypatch.setenv("CI", "false")
    assert undocumented_ci_skip(skipped_report("Skipped: no network")) is None


def test_docs_testing_lists_exactly_the_reasons_ci_may_skip_for() -> None:
    text = (ROOT / "docs" / "TESTING.md").read_text(encoding="utf-8")
    section = text.split("## Skips under CI\n", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `([^`]+)` \|", section, flags=re.MULTILINE))
    assert listed == CI_SKIPS
