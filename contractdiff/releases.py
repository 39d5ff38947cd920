"""Released contracts (openapi/releases/X.Y.Z.json), the commits that released them, and the
contract committed at a git revision."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from speclang.changelog import SEMANTIC_VERSION, version_key
from speclang.files import OPENAPI_JSON, render_json

RELEASES = Path("openapi/releases")


class BaseUnreadable(Exception):
    """The contract to compare against cannot be read; the message says which and why."""


def released_versions(root: Path) -> list[str]:
    """Every released version, oldest first."""
    folder = root / RELEASES
    versions = [
        path.stem
        for path in folder.glob("*.json")
        if SEMANTIC_VERSION.fullmatch(path.stem) is not None
    ]
    return sorted(versions, key=version_key)


def read_release(root: Path, version: str) -> dict[str, Any]:
    path = root / RELEASES / f"{version}.json"
    try:
        document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BaseUnreadable(f"{RELEASES / path.name}: cannot read the release ({error})") from None
    return document


def write_release(root: Path, version: str, document: dict[str, Any]) -> Path:
    path = root / RELEASES / f"{version}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_json(document), encoding="utf-8")
    return path.relative_to(root)


def _git(root: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(  # noqa: S603 - fixed argv, no shell
            ["git", "-C", str(root), *arguments],  # noqa: S607 - git from PATH, as a user runs it
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        raise BaseUnreadable("git is not installed: a git revision cannot be read") from None


def git_output(root: Path, *arguments: str) -> str:
    """What a git command prints, or "" when it fails or git is missing."""
    try:
        completed = _git(root, *arguments)
    except BaseUnreadable:
        return ""
    return completed.stdout if completed.returncode == 0 else ""


def resolve_commit(root: Path, revision: str) -> str:
    """The commit `revision` (a commit, branch or tag) names."""
    if revision.startswith("-"):
        raise BaseUnreadable(f"BASE '{revision}' is not a git revision")
    resolved = _git(root, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    if resolved.returncode != 0:
        raise BaseUnreadable(f"BASE '{revision}' is not a git revision of this repository")
    return resolved.stdout.strip()


def document_at(root: Path, revision: str) -> dict[str, Any]:
    """The OpenAPI document committed at `revision` (a commit, branch or tag)."""
    commit = resolve_commit(root, revision)
    shown = _git(root, "show", f"{commit}:{OPENAPI_JSON.as_posix()}")
    if shown.returncode != 0:
        raise BaseUnreadable(f"BASE '{revision}' has no {OPENAPI_JSON} to compare against")
    try:
        document: dict[str, Any] = json.loads(shown.stdout)
    except ValueError as error:
        raise BaseUnreadable(f"BASE '{revision}': {OPENAPI_JSON} is not JSON ({error})") from None
    return document


def version_at(root: Path, commit: str) -> str | None:
    """The version of the OpenAPI document committed at `commit`, if it has a readable one."""
    try:
        document: Any = json.loads(git_output(root, "show", f"{commit}:{OPENAPI_JSON.as_posix()}"))
        version = document["info"]["version"]
    except (ValueError, KeyError, TypeError):
        return None
    return version if isinstance(version, str) else None


def release_commit(root: Path, version: str) -> str | None:
    """The commit that released `version`: the first to add its release file while its
    openapi/openapi.json was that version (None without the git history). A merge that
    added the file counts (`-m`)."""
    added = git_output(
        root, "log", "-m", "--diff-filter=A", "--format=%H", "--", f"{RELEASES}/{version}.json"
    )
    commits = list(dict.fromkeys(added.split()))
    return next((c for c in reversed(commits) if version_at(root, c) == version), None)
