"""skiff.client's public surface: ``__all__`` names exactly the public re-exports, and every
module of the package is importable by its own name."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import skiff.client


def test_all_matches_public_names() -> None:
    public = {
        name
        for name, value in vars(skiff.client).items()
        if not name.startswith("_") and not isinstance(value, type(skiff))
    }
    assert set(skiff.client.__all__) == public
    assert sorted(skiff.client.__all__) == sorted(set(skiff.client.__all__))


@pytest.mark.parametrize(
    "module", [m.name for m in pkgutil.iter_modules(skiff.client.__path__, "skiff.client.")]
)
def test_module_is_importable(module: str) -> None:
    importlib.import_module(module)
