"""The released TypeScript client against the new contract: what no longer compiles is a change.

A front end writes code against a release's generated types. The client committed with the
base (clients/typescript/: the example module and its tests, as a front end uses them) is
compiled under its own strict tsconfig against the types openapi-typescript renders from the
new document, with the tool's default settings and with the documented ones
(clients/typescript/types.mjs). An error the base document's own types do not give is the
change's doing: a `client-breaks-with-...` change naming the generated property it is about.
The Node half is clients.mjs beside this file: one TypeScript program for every tree.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from contractdiff import rules
from contractdiff.changes import Change, Rule
from contractdiff.releases import git_output, release_commit, version_at

CLIENT: Final = Path("clients/typescript")
# The files of the client a front end writes: its compiler settings and all its TypeScript
# (src/, test/, scenario/, ...), without the generated types (rendered from each document).
CLIENT_FILES: Final = re.compile(r"(tsconfig\.json|package\.json|.+\.ts)")
GENERATED_TYPES: Final = "src/schema.d.ts"
GENERATOR: Final = CLIENT / "types.mjs"
SCRIPT: Final = Path(__file__).with_name("clients.mjs")
NODE_TIMEOUT_SECONDS: Final = 300


@dataclass(frozen=True)
class GeneratorSettings:
    rule: Rule
    label: str


SETTINGS: Final = {
    "default": GeneratorSettings(
        rules.CLIENT_BREAKS_WITH_DEFAULT_SETTINGS, "openapi-typescript's default settings"
    ),
    "documented": GeneratorSettings(
        rules.CLIENT_BREAKS_WITH_DOCUMENTED_SETTINGS, f"the documented settings ({GENERATOR})"
    ),
}


class ClientStageFailed(Exception):
    """The client stage must run but cannot (under CI), or its tools failed: the message says."""


@dataclass
class ClientCheck:
    """The changes the client stage found, and what it says about its run."""

    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Diagnostic:
    settings: str
    document: str
    file: str
    line: int
    column: int
    code: int
    message: str
    declaration: tuple[str, ...]

    @property
    def place(self) -> tuple[str, str, int, int, int, tuple[str, ...]]:
        """Where the error is and what it is about: an error the base gives at the same place
        about another declaration (one more missing property) is still the change's doing."""
        return self.settings, self.file, self.line, self.column, self.code, self.declaration


def running_in_ci() -> bool:
    # CI's own variable, as the Makefile and tests/support/skips.py read it.
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing_tool(root: Path) -> str | None:
    """Why the stage cannot run here, or None when node and the npm tools are installed."""
    if shutil.which("node") is None:
        return "node is not installed (Debian: apt-get install nodejs npm)"
    for package in ("typescript", "openapi-typescript"):
        if not (root / "node_modules" / package / "package.json").is_file():
            return "the npm tools are not installed: run `npm ci` at the repository root"
    if not (root / GENERATOR).is_file():
        return f"{GENERATOR} (the generator's settings) is missing"
    return None


def client_files(root: Path, commit: str) -> dict[str, str]:
    """The client's files as committed at `commit`, by path inside clients/typescript/."""
    listed = git_output(root, "ls-tree", "-r", "--name-only", commit, "--", f"{CLIENT}/")
    names = [name.removeprefix(f"{CLIENT}/") for name in listed.split()]
    wanted = [name for name in names if CLIENT_FILES.fullmatch(name) and name != GENERATED_TYPES]
    return {name: git_output(root, "show", f"{commit}:{CLIENT}/{name}") for name in wanted}


def client_commit(root: Path, commit: str) -> str | None:
    """Where the client written against the contract at `commit` is: `commit` itself when it
    holds the client; else the newest commit of the client whose contract was that version
    (a release cut before its client was written, as 1.0.0 was)."""
    if client_files(root, commit):
        return commit
    version = version_at(root, commit)
    touched = git_output(root, "log", "--format=%H", "--", f"{CLIENT}/src").split()
    return next(
        (c for c in touched if version is not None and version_at(root, c) == version), None
    )


def declared_at(path: Sequence[str]) -> tuple[str, str]:
    """The subject and the JSON pointer of a generated declaration, from its property names
    (components.schemas.TaskCreate.priority -> `TaskCreate.priority`)."""
    if len(path) >= 4 and path[:2] == ("components", "schemas"):
        return f"{path[2]}.{path[3]}", f"/components/schemas/{path[2]}/properties/{path[3]}"
    if len(path) >= 3 and path[0] == "components":
        return path[2], f"/components/{path[1]}/{path[2]}"
    return ".".join(path[1:]) or ".".join(path), ""


def shorten(message: str) -> str:
    """The most precise line of a TypeScript message, long type literals elided."""
    last = message.splitlines()[-1].strip().removesuffix(".")
    return re.sub(r"'[^']{48,}'", "'{…}'", last)


def nearest_part(document: dict[str, Any], pointer: str) -> str:
    """`pointer`, or the nearest part enclosing it that the document has."""
    while pointer:
        node: Any = document
        for part in pointer.strip("/").split("/"):
            node = node.get(part) if isinstance(node, dict) else None
        if node is not None:
            return pointer
        pointer = pointer.rpartition("/")[0]
    return ""


def findings(
    diagnostics: Iterable[Diagnostic], document: dict[str, Any], client_label: str
) -> list[Change]:
    """One change per settings and subject for the errors the new types alone give."""
    found = list(diagnostics)
    before = {d.place for d in found if d.document == "base"}
    new = [d for d in found if d.document == "new" and d.place not in before]
    # An error the documented settings give too is theirs alone: one finding, the breaking one.
    documented = {d.place[1:] for d in new if d.settings == "documented"}
    grouped: dict[tuple[str, str], list[Diagnostic]] = {}
    for diagnostic in new:
        if diagnostic.settings == "documented" or diagnostic.place[1:] not in documented:
            subject = (
                declared_at(diagnostic.declaration)[0]
                if diagnostic.declaration
                else f"{CLIENT}/{diagnostic.file}:{diagnostic.line}"
            )
            grouped.setdefault((diagnostic.settings, subject), []).append(diagnostic)
    changes = []
    for (settings, subject), errors in grouped.items():
        first = errors[0]
        pointer = declared_at(first.declaration)[1] if first.declaration else ""
        place = f"{CLIENT}/{first.file}:{first.line}"
        where = "" if subject == place else f"{place}: "
        more = f" ({len(errors)} places)" if len(errors) > 1 else ""
        changes.append(
            Change(
                SETTINGS[settings].rule,
                pointer,
                nearest_part(document, pointer),
                subject,
                f"{subject}: the {client_label} no longer compiles against types generated "
                f"with {SETTINGS[settings].label}: {where}{shorten(first.message)}{more}",
            )
        )
    return changes


def compile_client(
    root: Path, files: dict[str, str], base: dict[str, Any], new: dict[str, Any]
) -> list[Diagnostic]:
    """Run clients.mjs on the client and the two documents; its diagnostics."""
    with tempfile.TemporaryDirectory(prefix="contractdiff-clients-") as scratch:
        workdir = Path(scratch)
        for name, text in files.items():
            (workdir / "client" / name).parent.mkdir(parents=True, exist_ok=True)
            (workdir / "client" / name).write_text(text, encoding="utf-8")
        for name, document in (("base", base), ("new", new)):
            (workdir / f"{name}.json").write_text(json.dumps(document), encoding="utf-8")
        (workdir / "node_modules").symlink_to(root.resolve() / "node_modules")
        completed = subprocess.run(  # noqa: S603 - fixed argv, no shell
            ["node", str(SCRIPT), str(workdir), str(root.resolve())],  # noqa: S607 - node on PATH
            capture_output=True,
            text=True,
            timeout=NODE_TIMEOUT_SECONDS,
            check=False,
        )
    if completed.returncode != 0:
        raise ClientStageFailed(f"{SCRIPT.name} failed: {completed.stderr.strip()}")
    reported = json.loads(completed.stdout)["diagnostics"]
    unplaced = [entry["message"] for entry in reported if entry["tree"] is None]
    if unplaced:
        raise ClientStageFailed(f"the TypeScript program is broken: {'; '.join(unplaced)}")
    return [
        Diagnostic(
            entry["tree"]["settings"],
            entry["tree"]["document"],
            entry["file"],
            entry["line"],
            entry["column"],
            entry["code"],
            entry["message"],
            tuple(entry["declaration"] or ()),
        )
        for entry in reported
    ]


def check_client(
    root: Path,
    base: dict[str, Any],
    new: dict[str, Any],
    *,
    revision: str | None = None,
    version: str | None = None,
) -> ClientCheck:
    """The client committed with the base (at `revision`, or with release `version`) compiled
    against `new`'s types; skipped with a note where it cannot run, unless under CI."""
    check = ClientCheck()
    if revision is None and version is not None:
        revision = release_commit(root, version)
        shallow = git_output(root, "rev-parse", "--is-shallow-repository").strip() == "true"
        if revision is None and shallow and running_in_ci():
            raise ClientStageFailed(
                f"CI must compile the TypeScript client of release {version}, but this shallow "
                "clone lacks the commit that released it (.ci/run fetches the history)"
            )
    commit = client_commit(root, revision) if revision is not None else None
    if commit is None:
        where = revision[:7] if revision else f"release {version}'s commit (not in git)"
        check.notes.append(f"clients: no TypeScript client committed at {where}: none compiled")
        return check
    reason = missing_tool(root)
    if reason is not None:
        if running_in_ci():
            raise ClientStageFailed(
                f"CI must compile the base's TypeScript client, but {reason} (.ci/run installs it)"
            )
        check.notes.append(f"clients: SKIPPED compiling the base's TypeScript client: {reason}")
        return check
    base_version = version_at(root, commit) or "base"
    label = f"{base_version} client ({CLIENT} at {commit[:7]})"
    started = time.perf_counter()
    diagnostics = compile_client(root, client_files(root, commit), base, new)
    check.changes = findings(diagnostics, new, label)
    check.notes.append(
        f"clients: the {label} compiled against the new types with openapi-typescript's "
        f"default and the documented settings in {time.perf_counter() - started:.1f} s"
    )
    return check
