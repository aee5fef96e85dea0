"""``skiff apply -f``: server-side apply of YAML manifests through ``skiff.client``.

What the quick start uses to load the sample app on machines without kubectl. Each document is
applied with field manager ``skiff-cli`` (conflicts with other managers are reported unless
``force``); a directory applies its ``*.yaml``/``*.yml``/``*.json`` files in name order.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from skiff.client import ApiError, Client, resolve

__all__ = ["ApplyError", "apply_paths", "load_documents"]

FIELD_MANAGER = "skiff-cli"


class ApplyError(Exception):
    """Applying one document failed; the message names the file, the kind and the object."""


def load_documents(paths: list[Path]) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every non-empty YAML/JSON document of ``paths`` (files, or directories of them)."""
    for path in paths:
        files = (
            sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml", ".json"))
            if path.is_dir()
            else [path]
        )
        for file in files:
            with file.open() as f:
                for doc in yaml.safe_load_all(f):
                    if doc is None:
                        continue
                    if not isinstance(doc, dict):
                        raise ValueError(f"{file}: a document is not an object")
                    if doc.get("kind") == "List":
                        for item in doc.get("items") or []:
                            yield file, item
                    else:
                        yield file, doc


async def apply_paths(
    client: Client, paths: list[Path], *, namespace: str = "default", force: bool = False
) -> list[str]:
    """Apply every document; return kubectl-style lines (``deployment.apps/web serverside-applied``).

    Raises ``ApplyError`` (naming the file and object) on the first failure.
    """
    lines: list[str] = []
    for file, doc in load_documents(paths):
        api_version, kind = doc.get("apiVersion"), doc.get("kind")
        name = (doc.get("metadata") or {}).get("name")
        if not (api_version and kind and name):
            raise ValueError(f"{file}: every document needs apiVersion, kind and metadata.name")
        info = resolve((str(api_version), str(kind)))
        ns = (doc.get("metadata") or {}).get("namespace") or namespace
        try:
            await client.patch(
                info,
                str(name),
                doc,
                namespace=ns if info.namespaced else None,
                patch_type="apply",
                field_manager=FIELD_MANAGER,
                force=force,
            )
        except ApiError as e:
            raise ApplyError(f"{file}: {kind} {name}: {e.message}") from e
        what = f"{info.singular_name}.{info.group}" if info.group else info.singular_name
        lines.append(f"{what}/{name} serverside-applied")
    return lines
