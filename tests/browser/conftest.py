"""A headless Chromium for the whole browser session (one per test session, tabs per test)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.browser import chromium


@pytest.fixture(scope="session")
def devtools_port() -> Iterator[int]:
    with chromium() as port:
        yield port
