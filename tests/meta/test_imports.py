"""Every ``skiff`` module imports on its own, in an interpreter that has imported no other skiff module.

Covers: circular imports and import-order dependencies (a module that only works when something
else imported a sibling first), import-time errors and import-time warnings (turned into errors, as
pytest's ``filterwarnings = error`` does for the rest of the suite). aiohttp's
``tests/test_circular_imports.py`` is the model.

Excludes: ``skiff.__main__``, which runs the CLI when imported (``skiff.cmd.main`` is checked
instead), and anything that happens after import.

How it stays fast: one helper interpreter imports the heavy *third-party* and standard-library
dependencies once (never a skiff module), then forks one child per skiff module; each child starts
with no ``skiff`` entry in ``sys.modules``, imports exactly one module and reports. Only non-skiff
modules are shared, so an import cycle among skiff modules is still met from the cold side.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

_EXCLUDED = frozenset({"skiff.__main__"})


def _discover() -> list[str]:
    """Dotted names of every module and package under the importable ``skiff`` package."""
    spec = importlib.util.find_spec("skiff")
    assert spec is not None and spec.submodule_search_locations is not None
    names: set[str] = set()
    for location in spec.submodule_search_locations:
        base = Path(location)
        for path in base.rglob("*.py"):
            parts = ["skiff", *path.relative_to(base).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            names.add(".".join(parts))
    return sorted(names - _EXCLUDED)


MODULES = _discover()

# Loaded once in the helper before forking; none of them may import skiff. Only a speed-up: a
# module missing here is simply imported by each child that needs it.
_PRELOAD = (
    "asyncio",
    "sqlite3",
    "ssl",
    "json",
    "pydantic",
    "starlette.applications",
    "starlette.responses",
    "uvicorn",
    "httpx",
    "orjson",
    "yaml",
    "cryptography.x509",
    "cryptography.hazmat.primitives.asymmetric.ec",
)

# The helper: preload, then fork children (two at a time, the machines have two cores). A child
# writes at most a few KB of traceback into its pipe, far below the pipe buffer, so the parent can
# wait for it before reading without deadlocking.
_HELPER = r"""
import importlib, json, os, signal, sys, traceback, warnings

modules = json.loads(sys.argv[1])
for name in json.loads(sys.argv[2]):
    try:
        importlib.import_module(name)
    except Exception:
        pass
leaked = sorted(m for m in sys.modules if m == "skiff" or m.startswith("skiff."))
if leaked:
    print(json.dumps({"__helper__": "preload imported skiff modules: " + ", ".join(leaked)}))
    sys.exit(0)

def child(name, fd):
    signal.alarm(60)  # a hung import kills the child instead of the test run
    warnings.simplefilter("error")
    try:
        importlib.import_module(name)
    except BaseException:
        os.write(fd, traceback.format_exc()[-6000:].encode("utf-8", "replace"))
        os._exit(1)
    os._exit(0)

results = {}
running = {}
pending = list(modules)
while pending or running:
    while pending and len(running) < 2:
        name = pending.pop(0)
        r, w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            child(name, w)
        os.close(w)
        running[pid] = (name, r)
    pid, status = os.wait()
    name, r = running.pop(pid)
    chunks = []
    while chunk := os.read(r, 65536):
        chunks.append(chunk)
    os.close(r)
    text = b"".join(chunks).decode("utf-8", "replace")
    code = os.waitstatus_to_exitcode(status)
    if code != 0 and not text:
        text = f"child exited with {code}"
    results[name] = text if code != 0 else ""
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def import_failures() -> dict[str, str]:
    """Module name -> traceback ("" when the module imported cleanly), for every module."""
    proc = subprocess.run(
        [sys.executable, "-c", _HELPER, json.dumps(MODULES), json.dumps(_PRELOAD)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, f"import helper failed:\n{proc.stderr}"
    results: dict[str, str] = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "__helper__" not in results, results.get("__helper__")
    return results


def test_modules_found() -> None:
    # guards against a discovery bug turning every other test here into a no-op
    assert "skiff.store.interface" in MODULES
    assert "skiff.apiserver.server" in MODULES
    assert "skiff" in MODULES
    assert len(MODULES) > 50


@pytest.mark.parametrize("module", MODULES)
def test_module_imports_alone(module: str, import_failures: dict[str, str]) -> None:
    assert module in import_failures, f"{module} was not attempted"
    error = import_failures[module]
    assert not error, f"importing {module} in a fresh interpreter failed:\n{error}"


def test_helper_detects_a_broken_import(tmp_path: Path) -> None:
    """The helper really reports failures: a package with a circular import is caught."""
    pkg = tmp_path / "cyclepkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from cyclepkg.b import B\n\nA = 1\n")
    (pkg / "b.py").write_text("from cyclepkg.a import A\n\nB = 2\n")
    (pkg / "ok.py").write_text("X = 1\n")
    proc = subprocess.run(
        [sys.executable, "-c", _HELPER, json.dumps(["cyclepkg.a", "cyclepkg.ok"]), "[]"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PYTHONPATH": str(tmp_path), "PATH": ""},
    )
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    assert results["cyclepkg.ok"] == ""
    assert "ImportError" in results["cyclepkg.a"]
    assert "circular import" in results["cyclepkg.a"]
