"""The pipeline through its CLI: spec -> openapi/ -> generated/, --check, committed outputs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import codegen

ROOT = codegen.ROOT
CODEGEN = str(ROOT / "codegen.py")
DERIVED = (codegen.OPENAPI_YAML, codegen.OPENAPI_JSON, codegen.MODELS, codegen.PACKAGE_INIT)
PROBLEM = {"$ref": "#/components/schemas/Problem"}


def run_codegen(
    root: Path, *arguments: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, CODEGEN, "--root", str(root), *arguments],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env=env,
    )


def copy_repository(target: Path, *, with_outputs: bool = True) -> Path:
    """The committed spec (and derived files) under `target`, as a --root."""
    folders = ["specs", "openapi", "generated"] if with_outputs else ["specs"]
    for folder in folders:
        shutil.copytree(
            ROOT / folder, target / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    return target


def schema_section(text: str, name: str) -> tuple[int, int]:
    """Start and end offsets of the `### name` section of the spec."""
    start = text.index(f"\n### {name}\n")
    end = text.index("\n### ", start + 1)
    return start, end


def model_class(source: str, name: str) -> str:
    """The source of one class of generated/models.py."""
    match = re.search(rf"^class {name}\(.*?(?=^class |\Z)", source, re.MULTILINE | re.DOTALL)
    assert match is not None, f"no class {name}"
    return match.group(0)


def committed_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((ROOT / codegen.OPENAPI_JSON).read_text("utf-8"))
    return document


def all_operations(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in codegen.HTTP_METHODS
    ]


# --- (a) an edit of the spec flows through --check and a regeneration -----------------------


def test_a_spec_edit_flows_to_openapi_and_models(tmp_path: Path) -> None:
    root = copy_repository(tmp_path)
    assert run_codegen(root, "--check").returncode == 0

    spec_path = root / codegen.SPEC
    text = spec_path.read_text("utf-8")
    start, end = schema_section(text, "TaskCreate")
    section = text[start:end]
    assert section.count("maxLength: 1000") == 1
    spec_path.write_text(
        text[:start] + section.replace("maxLength: 1000", "maxLength: 900") + text[end:], "utf-8"
    )

    stale = run_codegen(root, "--check")
    assert stale.returncode == 1
    added = [line for line in stale.stdout.splitlines() if line.startswith("+")]
    assert any(re.fullmatch(r"\+\s+maxLength: 900", line) for line in added)  # the YAML
    assert any(re.fullmatch(r'\+\s+"maxLength": 900,?', line) for line in added)  # the JSON
    assert any("max_length=900" in line for line in added)  # the models
    assert "3 derived file(s) are stale" in stale.stderr
    # --check writes nothing.
    assert "maxLength: 900" not in (root / codegen.OPENAPI_YAML).read_text("utf-8")

    generated = run_codegen(root)
    assert generated.returncode == 0, generated.stderr
    from_yaml = yaml.safe_load((root / codegen.OPENAPI_YAML).read_text("utf-8"))
    from_json = json.loads((root / codegen.OPENAPI_JSON).read_text("utf-8"))
    for document in (from_yaml, from_json):
        schemas = document["components"]["schemas"]
        assert schemas["TaskCreate"]["properties"]["description"]["maxLength"] == 900
        # Only the TaskCreate table changed.
        assert schemas["Task"]["properties"]["description"]["maxLength"] == 1000
        assert schemas["TaskUpdate"]["properties"]["description"]["maxLength"] == 1000
    models = (root / codegen.MODELS).read_text("utf-8")
    assert "max_length=900" in model_class(models, "TaskCreate")
    assert "max_length=900" not in model_class(models, "Task")
    assert "max_length=1000" in model_class(models, "TaskUpdate")

    assert run_codegen(root, "--check").returncode == 0


def test_check_reports_a_missing_derived_file(tmp_path: Path) -> None:
    root = copy_repository(tmp_path)
    (root / codegen.OPENAPI_JSON).unlink()
    stale = run_codegen(root, "--check")
    assert stale.returncode == 1
    assert f"+++ b/{codegen.OPENAPI_JSON} (from the spec)" in stale.stdout
    assert not (root / codegen.OPENAPI_JSON).exists()


# --- (b) determinism ------------------------------------------------------------------------


def test_two_runs_write_byte_identical_outputs(tmp_path: Path) -> None:
    roots, outputs = [], []
    for seed in ("1", "2"):  # a different hash seed reorders sets; the outputs must not move
        root = copy_repository(tmp_path / f"run-{seed}", with_outputs=False)
        completed = run_codegen(root, env={**os.environ, "PYTHONHASHSEED": seed})
        assert completed.returncode == 0, completed.stderr
        roots.append(root)
        outputs.append({relative: (root / relative).read_bytes() for relative in DERIVED})
    assert outputs[0] == outputs[1]

    # A run over current outputs rewrites nothing: their modification times stay.
    modified = {relative: (roots[0] / relative).stat().st_mtime_ns for relative in DERIVED}
    assert run_codegen(roots[0]).returncode == 0
    assert {relative: (roots[0] / relative).stat().st_mtime_ns for relative in DERIVED} == modified


# --- (c) the committed repository is current ------------------------------------------------


def test_the_committed_outputs_are_current() -> None:
    completed = run_codegen(ROOT, "--check")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout == ""


# --- (d) the committed OpenAPI document -----------------------------------------------------


def test_the_committed_document_is_valid_openapi_31() -> None:
    from openapi_spec_validator import validate

    document = committed_document()
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_the_committed_yaml_and_json_hold_the_same_document() -> None:
    text = (ROOT / codegen.OPENAPI_YAML).read_text("utf-8")
    assert text.startswith(f"# {codegen.GENERATED_NOTICE}\n")
    assert yaml.safe_load(text) == committed_document()


def test_operation_ids_are_unique() -> None:
    ids = [operation["operationId"] for _, operation in all_operations(committed_document())]
    assert ids
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("name", [name for name, _ in all_operations(committed_document())])
def test_operation_is_documented_and_secured(name: str) -> None:
    document = committed_document()
    operation = dict(all_operations(document))[name]
    assert operation["summary"].strip()
    declared_tags = {tag["name"] for tag in document["tags"]}
    assert operation["tags"]
    assert set(operation["tags"]) <= declared_tags
    assert operation["security"] == [{"bearerAuth": []}]
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    errors = {status: r for status, r in operation["responses"].items() if status[0] == "4"}
    assert {"401", "403"} <= set(errors)
    for status, response in errors.items():
        assert response["description"].strip(), status
        assert list(response["content"]) == ["application/problem+json"], status
        assert response["content"]["application/problem+json"]["schema"] == PROBLEM, status


@pytest.mark.parametrize("name", [name for name, _ in all_operations(committed_document())])
def test_bodies_use_component_schemas(name: str) -> None:
    operation = dict(all_operations(committed_document()))[name]
    contents = [operation.get("requestBody", {}).get("content", {})]
    contents += [response.get("content", {}) for response in operation["responses"].values()]
    for content in contents:
        for media_type in content.values():
            schema = media_type["schema"]
            if schema.get("type") == "array":
                schema = schema["items"]
            assert set(schema) == {"$ref"}, schema
            assert schema["$ref"].startswith("#/components/schemas/")


# --- (e) generated/ imports, lints and type-checks ------------------------------------------


def run_in_repository(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *command],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=300,
    )


def test_generated_models_import() -> None:
    completed = run_in_repository(
        "-c",
        "import generated, generated.models as m; "
        "print(sorted(n for n in vars(m) if n[0].isupper() and n[0] != 'M'))",
    )
    assert completed.returncode == 0, completed.stderr
    schemas = committed_document()["components"]["schemas"]
    for name in schemas:
        assert f"'{name}'" in completed.stdout


def test_generated_passes_ruff() -> None:
    completed = run_in_repository("-m", "ruff", "check", "generated")
    assert completed.returncode == 0, completed.stdout


def test_generated_passes_mypy() -> None:
    completed = run_in_repository("-m", "mypy", "generated")
    assert completed.returncode == 0, completed.stdout
