"""The TypeScript example module compiles under `tsc --strict` and works against a live
server on each database (node's own test runner runs clients/typescript/test)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.auth.tokens import mint_token
from tests.client.conftest import CLIENT
from tests.conftest import SECRET, new_owner
from tests.support.live_server import LiveServer, live_server
from tests.support.tools import ROOT, node_binary

NODE_TEST_TIMEOUT_SECONDS = 120


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    with live_server(database_url, SECRET, tmp_path / "server.log", migrate=False) as running:
        yield running


def test_the_client_types_mark_the_cursor_header_optional() -> None:
    # openapi-typescript would type a referenced header as always present; the generator
    # inlines the headers, so the contract's "absent on the last page" reaches the types.
    types = (CLIENT / "src" / "schema.d.ts").read_text(encoding="utf-8")
    assert '"X-Next-Cursor"?: string;' in types
    assert '"X-Next-Cursor": string;' not in types.split("export interface operations", 1)[1]


def test_the_example_module_against_a_live_server(
    compiled_client: Path, server: LiveServer
) -> None:
    users = [new_owner() for _ in range(4)]
    tokens = [{"user": user, "token": mint_token(user, SECRET.encode())} for user in users]
    result = subprocess.run(
        [
            node_binary(),
            "--test",
            "--test-reporter=tap",
            str(compiled_client / "test" / "tasks.test.js"),
        ],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "TODO_API_URL": server.base_url,
            "TODO_API_USERS": json.dumps(tokens),
        },
        capture_output=True,
        text=True,
        timeout=NODE_TEST_TIMEOUT_SECONDS,
        check=False,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    assert "# pass 6" in report, report
    assert "# fail 0" in report, report


def copy_of_the_client(root: Path) -> Path:
    """The generator, its settings, its committed output and the contract, in a checkout of
    their own."""
    (root / "clients" / "typescript" / "src").mkdir(parents=True)
    (root / "openapi").mkdir()
    for part in (
        "clients/typescript/generate.mjs",
        "clients/typescript/types.mjs",
        "clients/typescript/src/schema.d.ts",
    ):
        shutil.copyfile(ROOT / part, root / part)
    shutil.copyfile(ROOT / "openapi" / "openapi.json", root / "openapi" / "openapi.json")
    (root / "node_modules").symlink_to(ROOT / "node_modules")
    return root / "clients" / "typescript" / "generate.mjs"


def test_the_types_check_fails_when_the_contract_changed(tmp_path: Path) -> None:
    node = node_binary()
    generator = copy_of_the_client(tmp_path)
    fresh = subprocess.run(
        [node, str(generator), "--check"], capture_output=True, text=True, timeout=60, check=False
    )
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr

    contract = tmp_path / "openapi" / "openapi.json"
    contract.write_text(
        contract.read_text(encoding="utf-8").replace("Absent on the last page.", "Absent."),
        encoding="utf-8",
    )
    stale = subprocess.run(
        [node, str(generator), "--check"], capture_output=True, text=True, timeout=60, check=False
    )
    assert stale.returncode == 1
    assert "schema.d.ts is stale" in stale.stdout
    assert "Absent." in stale.stdout
    # --check writes nothing: the committed types are left as they were.
    committed = (ROOT / "clients" / "typescript" / "src" / "schema.d.ts").read_text()
    assert (generator.parent / "src" / "schema.d.ts").read_text() == committed
