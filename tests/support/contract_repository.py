"""A throwaway git repository holding the project's contract, for the gate to compare against."""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

import codegen
from contractdiff import cli
from tests.support.skips import skip_or_fail

ROOT = codegen.ROOT


def git(root: Path, *arguments: str) -> str:
    completed = subprocess.run(
        ["git", "-C", str(root), *arguments],
        capture_output=True,
        text=True,
        check=True,
        env={
            "GIT_AUTHOR_NAME": "Spec Author",
            "GIT_AUTHOR_EMAIL": "author@example.com",
            "GIT_COMMITTER_NAME": "Spec Author",
            "GIT_COMMITTER_EMAIL": "author@example.com",
            "PATH": "/usr/bin:/bin:/usr/local/bin",
        },
    )
    return completed.stdout


@dataclass
class Repository:
    """A copy of the contract's files under git; edit the spec, then ask the gate."""

    root: Path

    @property
    def spec(self) -> Path:
        return self.root / codegen.SPEC

    def edit(self, *replacements: tuple[str, str]) -> str:
        """Apply each (old, new) replacement to the spec; each `old` must occur exactly once."""
        text = self.spec.read_text(encoding="utf-8")
        for old, new in replacements:
            assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in the spec"
            text = text.replace(old, new)
        self.spec.write_text(text, encoding="utf-8")
        return text

    def cut(self, start: str, end: str) -> None:
        """Remove the spec's text from `start` up to (not including) `end`."""
        text = self.spec.read_text(encoding="utf-8")
        begin = text.index(start)
        self.spec.write_text(text[:begin] + text[text.index(end, begin) :], encoding="utf-8")

    def diff(self, *arguments: str) -> tuple[int, str]:
        """`codegen.py diff ARGUMENTS` on this repository, in process: (exit code, stdout)."""
        out = io.StringIO()
        status = cli.main(["diff", *arguments, "--root", str(self.root)], out=out)
        return status, out.getvalue()

    def line_of(self, text: str) -> int:
        """The 1-based line of the spec that is `text`, or else the one starting with it."""
        lines = self.spec.read_text(encoding="utf-8").splitlines()
        found = [n for n, line in enumerate(lines, 1) if line == text] or [
            n for n, line in enumerate(lines, 1) if line.startswith(text)
        ]
        assert len(found) == 1, f"{text!r} starts {len(found)} lines"
        return found[0]

    def commit(self, message: str) -> None:
        git(self.root, "add", "-A")
        git(self.root, "commit", "-q", "-m", message)


# The corpus edits the contract as released at this version, so that it keeps its meaning
# while the spec moves on: the spec and openapi/ of the commit that added the release's file.
CORPUS_VERSION = "1.0.0"


def release_commit(version: str) -> str:
    """The commit that released VERSION: it added openapi/releases/VERSION.json and its
    openapi/openapi.json is that version (needs the git history)."""
    try:
        commits = git(
            ROOT, "log", "--diff-filter=A", "--format=%H", "--", f"openapi/releases/{version}.json"
        ).split()
    except (subprocess.CalledProcessError, FileNotFoundError):
        commits = []
    for commit in reversed(commits):  # oldest first
        document = json.loads(git(ROOT, "show", f"{commit}:openapi/openapi.json"))
        if document["info"]["version"] == version:
            return commit
    skip_or_fail(f"the git history holding release {version} is not here (a shallow clone?)")


def make_repository(root: Path, version: str = CORPUS_VERSION) -> Repository:
    """specs/ and openapi/ as released at `version`, committed to a new git repository."""
    archive = subprocess.run(
        [
            "git",
            "-C",
            str(ROOT),
            "archive",
            "--format=tar",
            release_commit(version),
            "specs",
            "openapi",
        ],
        capture_output=True,
        check=True,
    ).stdout
    root.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(root, filter="data")
    git(root, "init", "-q", "-b", "main")
    repository = Repository(root)
    repository.commit(f"the contract as released at {version}")
    return repository
