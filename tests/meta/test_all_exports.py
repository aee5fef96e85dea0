"""``__all__`` matches each module's public surface (house style §3, §6).

For every ``skiff`` module or package that defines ``__all__``:

* every name listed exists in the module, and is listed once;
* every public (non-underscore) class or function *defined* in that module - its ``__module__`` is
  the module itself, so re-exports and imported helpers do not count - is listed.

Modules without ``__all__`` are not checked here (the package ``__init__`` files of layers that are
still empty have none). Constants and type aliases are not required to be listed: only classes and
functions carry a ``__module__`` that says where they were defined. Modelled on httpx
``tests/test_exported_members.py`` and trio ``_tests/test_exports.py``.

Modules known to break the rule are marked ``xfail(strict=True)`` with the offending names in the
reason, so fixing one makes its test XPASS and fail until its entry is removed from
``_KNOWN_VIOLATIONS`` below.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
from pathlib import Path
from types import ModuleType

import pytest


def _defines_all(path: Path) -> bool:
    """Whether the module's top level assigns ``__all__`` (read from source, nothing imported)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in tree.body:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets = [node.target]
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            return True
    return False


def _discover() -> list[str]:
    """Dotted names of the skiff modules and packages that define ``__all__``."""
    spec = importlib.util.find_spec("skiff")
    assert spec is not None and spec.submodule_search_locations is not None
    names: set[str] = set()
    for location in spec.submodule_search_locations:
        base = Path(location)
        for path in base.rglob("*.py"):
            parts = ["skiff", *path.relative_to(base).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            if parts[-1] != "__main__" and _defines_all(path):
                names.add(".".join(parts))
    return sorted(names)


# Module -> public classes/functions defined there but missing from ``__all__`` (measured when this
# test was written; each entry is a request to the module's owner to list the name or rename it
# with a leading underscore).
_KNOWN_VIOLATIONS: dict[str, tuple[str, ...]] = {}

MODULES = _discover()


def _params() -> list[object]:
    params: list[object] = []
    for name in MODULES:
        known = _KNOWN_VIOLATIONS.get(name)
        marks = (
            [pytest.mark.xfail(strict=True, reason=f"not in __all__: {', '.join(known)}")]
            if known
            else []
        )
        params.append(pytest.param(name, marks=marks, id=name))
    return params


def public_definitions(module: ModuleType) -> set[str]:
    """Public classes and functions whose definition lives in ``module`` itself."""
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and getattr(value, "__module__", None) == module.__name__
    }


def export_problems(module: ModuleType) -> list[str]:
    """What is wrong with ``module.__all__``, one line per problem (empty when it is right)."""
    exported = list(module.__all__)
    problems: list[str] = []
    problems += [f"listed but missing: {n}" for n in exported if not hasattr(module, n)]
    problems += [
        f"listed twice: {n}" for n in sorted({n for n in exported if exported.count(n) > 1})
    ]
    problems += [
        f"defined here but not listed: {n}"
        for n in sorted(public_definitions(module) - set(exported))
    ]
    return problems


def test_modules_found() -> None:
    # a discovery bug must not silently turn every check below into a no-op
    assert "skiff.store" in MODULES
    assert "skiff.store.interface" in MODULES
    assert "skiff.client" in MODULES
    assert len(MODULES) > 40


def test_known_violations_are_still_modules() -> None:
    # an entry for a module that was renamed or lost its __all__ would never be checked again
    stale = sorted(set(_KNOWN_VIOLATIONS) - set(MODULES))
    assert not stale, f"_KNOWN_VIOLATIONS names modules without __all__: {stale}"


@pytest.mark.parametrize("name", _params())
def test_all_matches_public_names(name: str) -> None:
    module = importlib.import_module(name)
    problems = export_problems(module)
    assert not problems, f"{name}.__all__:\n  " + "\n  ".join(problems)


def test_checker_catches_each_kind_of_problem() -> None:
    """The checker itself: a fabricated module with one problem of each kind."""
    module = ModuleType("fake_exports")
    # fixed source, run so that its classes and functions get a real __module__
    exec(
        "import json\n"
        "from json import dumps\n"
        "__all__ = ['Listed', 'gone', 'Listed']\n"
        "class Listed: pass\n"
        "class Unlisted: pass\n"
        "def helper(): pass\n"
        "def _private(): pass\n"
        "CONSTANT = 1\n",
        module.__dict__,
    )
    module.__dict__["__name__"] = "fake_exports"
    assert export_problems(module) == [
        "listed but missing: gone",
        "listed twice: Listed",
        "defined here but not listed: Unlisted",
        "defined here but not listed: helper",
    ]
