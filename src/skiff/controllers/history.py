"""ControllerRevisions for DaemonSets and StatefulSets (``pkg/controller/history``).

A revision stores what `kubectl rollout undo` applies back: the owner's pod template as a strategic
merge patch ``{"spec": {"template": {..., "$patch": "replace"}}}``. Its name is
``<owner>-<hash>`` (the hash of that data, plus the collision count), it carries the label
``controller-revision-hash`` with that hash, a controller reference to the owner and a
``revision`` number one above the highest the owner had. Pods created from it carry the same
label, which is how controllers tell current pods from outdated ones.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from skiff.client import AlreadyExists, Client, NotFound, resolve, thaw
from skiff.controllers.podutil import controller_ref, owner_reference

__all__ = [
    "REVISION_HASH_LABEL",
    "RevisionHistory",
    "hash_of",
    "revision_data",
    "revision_hash",
]

REVISIONS = resolve(("apps/v1", "ControllerRevision"))
REVISION_HASH_LABEL = "controller-revision-hash"
_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def revision_data(owner: Mapping[str, Any]) -> dict[str, Any]:
    """The patch a revision stores: the template, replacing the current one on undo."""
    template = thaw((owner.get("spec") or {}).get("template") or {})
    template["$patch"] = "replace"
    return {"spec": {"template": template}}


def revision_hash(data: Mapping[str, Any], collision_count: int = 0) -> str:
    raw = json.dumps(thaw(data), sort_keys=True, separators=(",", ":")).encode()
    if collision_count:
        raw += str(collision_count).encode()
    h = 0x811C9DC5
    for byte in raw:
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return "".join(_ALPHABET[int(d) % len(_ALPHABET)] for d in str(h))


def _revision_number(rev: Mapping[str, Any]) -> int:
    value = rev.get("revision")
    return int(value) if isinstance(value, int) else 0


def _data_of(rev: Mapping[str, Any]) -> Any:
    return thaw(rev.get("data") or {})


class RevisionHistory:
    """Reads and writes one owner kind's ControllerRevisions through the client."""

    def __init__(self, client: Client, *, api_version: str, kind: str) -> None:
        self.client = client
        self.api_version = api_version
        self.kind = kind

    def owned(
        self, owner: Mapping[str, Any], revisions: Sequence[Mapping[str, Any]]
    ) -> list[dict[str, Any]]:
        """The owner's revisions among ``revisions`` (a namespace's, from an informer), oldest
        revision number first."""
        uid = (owner.get("metadata") or {}).get("uid")
        out = [thaw(r) for r in revisions if (controller_ref(r) or {}).get("uid") == uid]
        out.sort(key=_revision_number)
        return out

    async def ensure_current(
        self,
        owner: Mapping[str, Any],
        owned: list[dict[str, Any]],
        *,
        collision_count: int = 0,
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The revision matching the owner's template (created, or renumbered to the newest if an
        older one matches: an undo), and the owner's revisions afterwards."""
        data = revision_data(owner)
        meta = owner.get("metadata") or {}
        namespace = str(meta.get("namespace") or "")
        newest = max((_revision_number(r) for r in owned), default=0)
        for rev in reversed(owned):
            if _data_of(rev) == data:
                if _revision_number(rev) != newest:
                    rev["revision"] = newest + 1
                    rev = await self.client.update(REVISIONS, rev, namespace=namespace)
                    owned = [r for r in owned if r["metadata"]["uid"] != rev["metadata"]["uid"]]
                    owned.append(rev)
                return rev, owned
        digest = revision_hash(data, collision_count)
        rev_name = f"{meta.get('name')}-{digest}"
        body: dict[str, Any] = {
            "apiVersion": "apps/v1",
            "kind": "ControllerRevision",
            "metadata": {
                "name": rev_name,
                "namespace": namespace,
                "labels": {
                    **dict(
                        (
                            ((owner.get("spec") or {}).get("template") or {}).get("metadata") or {}
                        ).get("labels")
                        or {}
                    ),
                    REVISION_HASH_LABEL: digest,
                },
                "ownerReferences": [
                    owner_reference(owner, api_version=self.api_version, kind=self.kind)
                ],
            },
            "data": data,
            "revision": newest + 1,
        }
        try:
            created = await self.client.create(REVISIONS, body, namespace=namespace)
        except AlreadyExists:
            existing = await self.client.get(REVISIONS, rev_name, namespace=namespace)
            if _data_of(existing) != data:
                raise
            created = existing
        owned = [*owned, created]
        return created, owned

    async def truncate(
        self, owner: Mapping[str, Any], owned: list[dict[str, Any]], keep: set[str], limit: int
    ) -> None:
        """Delete the oldest revisions beyond ``limit`` that no live pod uses (``keep``: the
        names of revisions in use, current and update ones included)."""
        idle = [r for r in owned if r["metadata"]["name"] not in keep]
        excess = len(idle) - max(0, limit)
        namespace = str((owner.get("metadata") or {}).get("namespace") or "")
        for rev in idle[: max(0, excess)]:
            try:
                await self.client.delete(REVISIONS, rev["metadata"]["name"], namespace=namespace)
            except NotFound:
                continue


def hash_of(rev: Mapping[str, Any]) -> str:
    """The ``controller-revision-hash`` a revision's pods carry."""
    labels = (rev.get("metadata") or {}).get("labels") or {}
    name = str((rev.get("metadata") or {}).get("name") or "")
    return str(labels.get(REVISION_HASH_LABEL) or name.rsplit("-", 1)[-1])
