"""The import-linter contracts in ``.importlinter`` hold (house style §2, rule 9; kopf runs the same).

Covers: ``lint-imports`` exits 0 on the repository and reports every contract of the config file as
kept (so a contract that silently stops being checked is noticed too), and - so this test can fail
at all - that ``lint-imports`` does exit non-zero on a package that breaks a layers contract.
Excludes: the content of the contracts themselves (they are reviewed in ``.importlinter``).
"""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / ".importlinter"


def _lint_imports() -> str:
    """The ``lint-imports`` beside the running interpreter (the project venv), else on PATH."""
    beside = Path(sys.executable).parent / "lint-imports"
    if beside.exists():
        return str(beside)
    found = shutil.which("lint-imports")
    if found is None:
        pytest.fail("lint-imports is not installed: install the project's test extras")
    return found


def _run(cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_lint_imports(), "--no-cache", "--no-logo"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


def _contract_names(config: Path) -> list[str]:
    parser = configparser.ConfigParser()
    parser.read(config, encoding="utf-8")
    return [
        parser[section]["name"]
        for section in parser.sections()
        if section.startswith("importlinter:contract:")
    ]


def test_contracts_kept() -> None:
    result = _run(ROOT)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"lint-imports found broken contracts:\n{output}"
    names = _contract_names(CONFIG)
    assert names, f"no contracts in {CONFIG}"
    for name in names:
        assert f"{name} KEPT" in output, f"contract {name!r} not reported as kept:\n{output}"
    assert f"Contracts: {len(names)} kept, 0 broken." in output, output


def test_lint_imports_fails_on_a_broken_layer(tmp_path: Path) -> None:
    """A lower layer importing a higher one is reported, and lint-imports exits non-zero."""
    pkg = tmp_path / "layered"
    (pkg / "high").mkdir(parents=True)
    (pkg / "low").mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "high" / "__init__.py").write_text("")
    (pkg / "low" / "__init__.py").write_text("import layered.high\n")
    (tmp_path / ".importlinter").write_text(
        "[importlinter]\n"
        "root_package = layered\n"
        "\n"
        "[importlinter:contract:layers]\n"
        "name = Layers hold\n"
        "type = layers\n"
        "layers =\n"
        "    layered.high\n"
        "    layered.low\n"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = _run(tmp_path, env)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Layers hold BROKEN" in output, output
    assert "layered.low -> layered.high" in output, output
