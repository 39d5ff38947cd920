"""`python codegen.py diff [BASE]` and `python codegen.py release`: the gate users type.

diff     compare the contract at BASE (a released version X.Y.Z or a git revision; default: the
         last release) with the one the working tree's spec produces, print every change (the
         base's TypeScript client compiled against the new types included: clients.py), judge
         the version policy
release  write openapi/releases/X.Y.Z.json for the spec's version, once the policy holds

Exit codes: 0 nothing breaking, or every break released as a new major version with its
changelog entry; 1 the policy does not hold (what is missing is printed); 2 the spec or BASE
cannot be read.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from contractdiff.changes import Change, Severity
from contractdiff.clients import ClientStageFailed, check_client
from contractdiff.operations import compare_documents
from contractdiff.policy import Verdict, judge
from contractdiff.releases import (
    RELEASES,
    BaseUnreadable,
    document_at,
    read_release,
    released_versions,
    resolve_commit,
    write_release,
)
from speclang.builder import Contract, build_contract
from speclang.changelog import SEMANTIC_VERSION
from speclang.errors import SpecError
from speclang.files import ROOT, SPEC, read_spec


def spec_line(contract: Contract, anchor: str) -> int | None:
    """The spec line of the part at `anchor`, or of the nearest part that encloses it."""
    pointer = anchor
    while pointer:
        if pointer in contract.locations:
            return contract.locations[pointer]
        pointer = pointer.rpartition("/")[0]
    return None


def format_change(contract: Contract, change: Change) -> str:
    line = spec_line(contract, change.anchor)
    where = f"{SPEC}:{line}" if line is not None else "-"
    return (
        f"{change.severity.value:<10} {where:<34} #{change.pointer}  {change.message} "
        f"[{change.rule.code}]"
    )


def report(
    out: TextIO, contract: Contract, changes: list[Change], verdict: Verdict, base_label: str
) -> None:
    version = contract.document["info"]["version"]
    if not changes:
        out.write(f"No changes from {base_label} to {SPEC} ({version}).\n")
    else:
        out.write(f"Changes from {base_label} to {SPEC} ({version}):\n")
        for change in changes:
            out.write(format_change(contract, change) + "\n")
        counts = {
            severity: sum(1 for c in changes if c.severity is severity) for severity in Severity
        }
        out.write(
            f"{len(changes)} change(s): {counts[Severity.BREAKING]} breaking, "
            f"{counts[Severity.WARNING]} warning, {counts[Severity.COMPATIBLE]} compatible\n"
        )
    for note in verdict.notes:
        out.write(f"note: {note}\n")
    for problem in verdict.problems:
        out.write(f"error: {problem}\n")


def load_contract(root: Path) -> Contract:
    return build_contract(read_spec(root))


def check_release_history(root: Path, contract: Contract, out: TextIO) -> int:
    """Every release must follow from the one before it under the policy."""
    versions = released_versions(root)
    failures = 0
    for older, newer in itertools.pairwise(versions):
        changes = compare_documents(read_release(root, older), read_release(root, newer))
        verdict = judge(changes, older, newer, contract.changelog)
        for problem in verdict.problems:
            out.write(f"error: release {older} -> {newer}: {problem}\n")
            failures += 1
    return 1 if failures else 0


def diff(root: Path, base: str | None, out: TextIO) -> int:
    contract = load_contract(root)
    version = contract.document["info"]["version"]
    versions = released_versions(root)
    released, revision = None, None
    if base is None and not versions:
        raise BaseUnreadable(
            f"no released contract in {RELEASES}/: cut the first with "
            "`python codegen.py release`, or name a BASE revision"
        )
    if base is None or base in versions:
        released = base or versions[-1]
        base_document = read_release(root, released)
        base_label = f"release {released} ({RELEASES / (released + '.json')})"
    else:
        revision = resolve_commit(root, base)
        base_document = document_at(root, base)
        base_label = f"{base} ({base_document.get('info', {}).get('version', '?')})"
    base_version = str(base_document.get("info", {}).get("version", ""))
    if SEMANTIC_VERSION.fullmatch(base_version) is None:
        raise BaseUnreadable(
            f"{base_label}: info.version '{base_version}' is not MAJOR.MINOR.PATCH"
        )
    changes = compare_documents(base_document, contract.document)
    client = check_client(
        root, base_document, contract.document, revision=revision, version=released
    )
    verdict = judge(changes + client.changes, base_version, version, contract.changelog)
    verdict.notes[:0] = client.notes
    report(out, contract, changes + client.changes, verdict, base_label)
    status = verdict.exit_code
    if base is None:
        status = max(status, check_release_history(root, contract, out))
    return status


def release(root: Path, out: TextIO) -> int:
    contract = load_contract(root)
    document: dict[str, Any] = contract.document
    version = document["info"]["version"]
    versions = released_versions(root)
    if version in versions:
        if read_release(root, version) == document:
            out.write(f"{version} is already released as {RELEASES / (version + '.json')}\n")
            return 0
        out.write(
            f"error: {version} is already released ({RELEASES / (version + '.json')}) and the "
            "spec now differs from it: set a new Info Version (see `python codegen.py diff`)\n"
        )
        return 1
    if versions:
        base_version = versions[-1]
        base_document = read_release(root, base_version)
        changes = compare_documents(base_document, document)
        changes += check_client(root, base_document, document, version=base_version).changes
        verdict = judge(changes, base_version, version, contract.changelog)
        report(out, contract, changes, verdict, f"release {base_version}")
        if verdict.exit_code:
            return verdict.exit_code
    elif not any(entry.version == version for entry in contract.changelog):
        out.write(f"error: the Changelog has no entry '### {version}'\n")
        return 1
    path = write_release(root, version, document)
    out.write(f"released {version}: wrote {path}; commit it with the spec\n")
    return 0


def main(argv: Sequence[str], out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(
        prog="codegen.py", description=__doc__.splitlines()[0] if __doc__ else None
    )
    commands = parser.add_subparsers(dest="command", required=True)
    diff_parser = commands.add_parser("diff", help="compare the spec's contract with BASE")
    diff_parser.add_argument(
        "base",
        nargs="?",
        help="a released version X.Y.Z or a git revision (default: the last release in "
        "openapi/releases/)",
    )
    release_parser = commands.add_parser("release", help="record the spec's version as released")
    for command in (diff_parser, release_parser):
        command.add_argument("--root", type=Path, default=ROOT, help="repository root")
    args = parser.parse_args(argv)
    try:
        if args.command == "diff":
            return diff(args.root, args.base, out)
        return release(args.root, out)
    except SpecError as error:
        print(f"{SPEC}:{error.line}: {error.message}", file=sys.stderr)  # noqa: T201
        return 2
    except (BaseUnreadable, ClientStageFailed) as error:
        print(f"error: {error}", file=sys.stderr)  # noqa: T201
        return 2
