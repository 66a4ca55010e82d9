"""The house's shape: stage packages that import downward only (docs/architecture.md)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import harness

PACKAGE = Path(harness.__file__).resolve().parent


def test_the_layers_contract_holds() -> None:
    """import-linter's layers contract in pyproject.toml, as CI runs it."""
    proc = subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command as c; c()"],
        capture_output=True,
        text=True,
        cwd=PACKAGE.parent,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 kept, 0 broken" in proc.stdout


def test_only_the_entry_points_stand_directly_in_the_package() -> None:
    loose = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert loose == ["__init__.py", "__main__.py"]


def test_every_stage_package_is_in_the_contract() -> None:
    """A new package must take its place in the layers, or it escapes the contract."""
    config = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())
    (contract,) = config["tool"]["importlinter"]["contracts"]
    named = {m.strip() for layer in contract["layers"] for m in layer.split("|")}
    stages = {f"harness.{p.name}" for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert stages == named
