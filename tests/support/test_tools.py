"""A missing node or chromium skips its tests with the reason, and fails them under CI=true."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support.browser import chromium_binary
from tests.support.tools import node_binary


@pytest.mark.parametrize(
    ("find", "named"), [(node_binary, "node is not installed"), (chromium_binary, "chromium")]
)
def test_a_missing_tool_skips_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, find: Callable[[], str], named: str
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=named):
        find()


@pytest.mark.parametrize(
    ("find", "named"), [(node_binary, "node is not installed"), (chromium_binary, "chromium")]
)
def test_a_missing_tool_fails_under_ci(
    monkeypatch: pytest.MonkeyPatch, find: Callable[[], str], named: str
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=f"CI must run this test.*{named}"):
        find()
