"""Time `codegen.py` and `codegen.py --check` in a scratch copy, so the tree is never rewritten."""

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.report import CodegenTiming

RUNS = 5
# What codegen reads and writes, and the stages it imports; copied so timing never touches
# files others are editing.
INPUTS = (
    "codegen.py",
    "speclang",
    "contractdiff",
    "specs",
    "openapi",
    "generated",
    "pyproject.toml",
)


def time_codegen(repo_root: Path) -> list[CodegenTiming]:
    if not (repo_root / "codegen.py").is_file():
        return [CodegenTiming("python codegen.py", None, "codegen.py does not exist yet")]
    timings: list[CodegenTiming] = []
    with tempfile.TemporaryDirectory(prefix="bench-codegen-") as scratch:
        workdir = Path(scratch)
        for name in INPUTS:
            source = repo_root / name
            if source.is_dir():
                shutil.copytree(source, workdir / name)
            elif source.is_file():
                shutil.copy2(source, workdir / name)
        for arguments in ([], ["--check"]):
            command = " ".join(["python codegen.py", *arguments])
            seconds: list[float] = []
            note = ""
            for _ in range(RUNS):
                started = time.perf_counter()
                result = subprocess.run(
                    [sys.executable, "codegen.py", *arguments],
                    cwd=workdir,
                    capture_output=True,
                    text=True,
                    timeout=300,
                    check=False,
                )
                seconds.append(time.perf_counter() - started)
                if result.returncode != 0:
                    output = (result.stdout + result.stderr).strip().splitlines()
                    note = f"**exit {result.returncode}**: {output[-1] if output else ''}"
                    break
            median = statistics.median(seconds) if not note else None
            print(f"-- {command}: " + (f"median {median:.2f} s" if median else note))
            timings.append(CodegenTiming(command, median, note))
    return timings
