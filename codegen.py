"""Derive openapi/ and generated/ from the Markdown contract in specs/api/rest-endpoints.md.

    python codegen.py              parse the spec, write openapi/ and generated/
    python codegen.py --check      exit 1 with a unified diff when a committed output is stale
    python codegen.py diff [BASE]  the breaking-change gate (contractdiff/): what changed
                                   since BASE or the last release, and is the version right
    python codegen.py release      record the spec's version in openapi/releases/

Exit codes: 0 done or current, 1 stale outputs (--check), 2 broken spec
(`specs/api/rest-endpoints.md:LINE: what is wrong` on stderr, never a traceback).
The grammar of the spec is documented in specs/README.md.
"""

from __future__ import annotations

import argparse
import difflib
import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from contractdiff import cli as contract_gate
from speclang.builder import HTTP_METHODS, Contract, build_contract, build_openapi
from speclang.errors import SpecError
from speclang.files import (
    GENERATED_NOTICE,
    OPENAPI_JSON,
    OPENAPI_YAML,
    ROOT,
    SPEC,
    read_spec,
    render_json,
    render_yaml,
)
from speclang.markdown import read_sections

# What tests and tools reach through this module, the command users type: the stages, and the
# paths of the spec and the documents (which live in speclang.files, below codegen and the gate).
__all__ = [
    "GENERATED_NOTICE",
    "HTTP_METHODS",
    "OPENAPI_JSON",
    "OPENAPI_YAML",
    "ROOT",
    "SPEC",
    "Contract",
    "SpecError",
    "build_contract",
    "build_openapi",
    "main",
    "read_sections",
    "render_all",
]

MODELS = Path("generated/models.py")
PACKAGE_INIT = Path("generated/__init__.py")
PYTHON_NOTICE = textwrap.fill(GENERATED_NOTICE, width=88)  # within the line-length limit


# --- Outputs --------------------------------------------------------------------------------


def render_models(document: dict[str, Any]) -> str:
    from datamodel_code_generator import PythonVersion, generate
    from datamodel_code_generator.enums import DataModelType, InputFileType

    header = (
        "# ruff: noqa: E501 - docstrings hold the spec's prose, one line per paragraph\n"
        f'"""Pydantic models of the Todo API contract.\n\n{PYTHON_NOTICE}\n"""'
    )
    output = generate(
        json.dumps(document),
        input_file_type=InputFileType.OpenAPI,
        output_model_type=DataModelType.PydanticV2BaseModel,
        target_python_version=PythonVersion.PY_311,
        use_standard_collections=True,
        use_union_operator=True,
        use_annotated=True,
        field_constraints=True,
        use_schema_description=True,
        use_field_description=True,
        use_double_quotes=True,
        use_subclass_enum=True,
        strict_nullable=True,
        use_missing_sentinel=True,
        # Pydantic 2.14 moved MISSING out of pydantic.experimental.
        import_overrides={"MISSING": "pydantic"},
        capitalise_enum_members=True,
        # An enum default is the member (TaskPriority.MEDIUM), not its string.
        set_default_enum_member=True,
        disable_timestamp=True,
        enable_version_header=False,
        custom_file_header=header,
        formatters=[],
    )
    if not isinstance(output, str):
        raise TypeError("datamodel-code-generator returned several modules; expected one")
    return format_python(output)


def format_python(source: str) -> str:
    """Fix and format generated code with the project's pinned ruff, so `ruff check generated`
    passes and the code reads like the rest (import order, `X | None` last, layout)."""
    stdin = ("--quiet", "--stdin-filename", str(MODELS), "-")
    for command in (("check", "--fix", "--exit-zero"), ("format",)):
        completed = subprocess.run(  # noqa: S603 - fixed argv, no shell
            [sys.executable, "-m", "ruff", *command, *stdin],
            input=source,
            capture_output=True,
            text=True,
            check=False,
            cwd=ROOT,
        )
        if completed.returncode != 0:
            raise RuntimeError(
                f"ruff {command[0]} failed on the generated models: {completed.stderr}"
            )
        source = completed.stdout
    return source


def render_all(root: Path) -> dict[Path, str]:
    """Every derived file, path -> content, from the spec under `root`."""
    document = build_openapi(read_spec(root))
    return {
        OPENAPI_YAML: render_yaml(document),
        OPENAPI_JSON: render_json(document),
        MODELS: render_models(document),
        PACKAGE_INIT: f'"""Models derived from the API contract.\n\n{PYTHON_NOTICE}\n"""\n',
    }


def stale(root: Path, outputs: dict[Path, str]) -> Iterator[str]:
    """Unified diffs between the committed files and what the spec derives."""
    for relative, wanted in outputs.items():
        path = root / relative
        current = path.read_text(encoding="utf-8") if path.is_file() else ""
        if current != wanted:
            yield "".join(
                difflib.unified_diff(
                    current.splitlines(keepends=True),
                    wanted.splitlines(keepends=True),
                    fromfile=f"a/{relative} (committed)",
                    tofile=f"b/{relative} (from the spec)",
                )
            )


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments and arguments[0] in ("diff", "release"):
        return contract_gate.main(arguments)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 with a diff when a derived file is stale; write nothing",
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=ROOT,
        help="repository root holding specs/ (default: this file's folder)",
    )
    args = parser.parse_args(arguments)
    root: Path = args.root
    try:
        outputs = render_all(root)
    except SpecError as error:
        print(f"{SPEC}:{error.line}: {error.message}", file=sys.stderr)  # noqa: T201
        return 2
    if args.check:
        diffs = list(stale(root, outputs))
        for diff in diffs:
            sys.stdout.write(diff)
        if diffs:
            sys.stderr.write(
                f"{len(diffs)} derived file(s) are stale: run `python codegen.py` and commit "
                "the result\n"
            )
            return 1
        return 0
    for relative, content in outputs.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text(encoding="utf-8") != content:
            path.write_text(content, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
