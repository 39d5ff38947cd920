"""Fixtures of the gate's tests: a throwaway git repository holding the project's contract."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.contract_repository import Repository, make_repository


@pytest.fixture
def repository(tmp_path: Path) -> Repository:
    return make_repository(tmp_path / "repository")
