"""What a server serves right now, from discovery: client-go's ``ServerPreferredResources``.

Controllers that follow *every* kind (the garbage collector, the namespace controller) cannot use
the static table of ``skiff.api.resources`` alone: CustomResourceDefinitions add and remove kinds
at run time. `server_preferred_resources` asks the server:

- aggregated discovery first (``/api`` and ``/apis`` with ``Accept:
  application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList``): everything in two
  requests. A group/version reported ``Stale`` (an aggregated server that did not answer) is a
  failed group, as client-go's aggregated discovery reports it;
- legacy discovery when the server does not answer in the aggregated form (``/api``, ``/apis``,
  then one ``APIResourceList`` per group/version); a group/version whose list fails is a failed
  group and the others are still returned, as client-go's ``ErrGroupDiscoveryFailed``.

Per group, the resources of the preferred version come first; a resource served only in another
version is added from the first version serving it (client-go ``ServerPreferredResources``).
Subresources are left out. A resource the static table knows (same group, version and plural) is
returned as that table's `ResourceInfo`, so informers keyed by it are shared with the rest of the
process; any other one (a custom resource) gets a `ResourceInfo` built from what discovery says.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from skiff.api import resources
from skiff.api.resources import ResourceInfo, Subresource
from skiff.client._client import Client
from skiff.client.errors import ApiError, TransportError

__all__ = ["AGGREGATED_ACCEPT", "Discovery", "server_preferred_resources"]

AGGREGATED_ACCEPT = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
    "application/json"
)


@dataclass(frozen=True)
class Discovery:
    """The served resources (preferred version of each) and the group/versions that failed."""

    resources: tuple[ResourceInfo, ...] = ()
    failed: Mapping[str, str] = field(default_factory=dict)
    """``group/version`` (``v1`` for core) -> why it could not be discovered."""

    def deletable(self, *, namespaced: bool | None = None) -> list[ResourceInfo]:
        """Resources that can be listed and deleted (optionally only namespaced or cluster-scoped
        ones): what the garbage collector and the namespace controller follow."""
        return [
            r
            for r in self.resources
            if {"list", "delete"} <= set(r.verbs)
            and (namespaced is None or r.namespaced == namespaced)
        ]


def _info(group: str, version: str, entry: Mapping[str, Any]) -> ResourceInfo | None:
    plural = str(entry.get("resource") or entry.get("name") or "")
    if not plural or "/" in plural:
        return None  # a subresource
    known = resources.by_resource(group, version, plural)
    if known is not None:
        return known
    kind_of = entry.get("responseKind")
    kind = str(kind_of.get("kind") or "") if isinstance(kind_of, Mapping) else ""
    kind = kind or str(entry.get("kind") or "")
    if not kind:
        return None  # client-go drops a resource without a kind too
    if "scope" in entry:
        namespaced = entry.get("scope") == "Namespaced"
    else:
        namespaced = bool(entry.get("namespaced"))
    subs: list[Subresource] = []
    for sub in entry.get("subresources") or ():
        if isinstance(sub, Mapping) and sub.get("subresource"):
            sub_kind = sub.get("responseKind") or {}
            subs.append(
                Subresource(
                    str(sub["subresource"]),
                    str(sub_kind.get("kind") or kind),
                    verbs=tuple(str(v) for v in sub.get("verbs") or ()),
                )
            )
    return ResourceInfo(
        group=group,
        version=version,
        kind=kind,
        plural=plural,
        namespaced=namespaced,
        short_names=tuple(str(s) for s in entry.get("shortNames") or ()),
        categories=tuple(str(c) for c in entry.get("categories") or ()),
        subresources=tuple(subs),
        verbs=tuple(str(v) for v in entry.get("verbs") or ()),
        has_status=any(s.name == "status" for s in subs),
        singular=str(entry.get("singularResource") or entry.get("singularName") or ""),
    )


def _gv(group: str, version: str) -> str:
    return f"{group}/{version}" if group else version


def _preferred(
    group: str, versions: Iterable[tuple[str, Iterable[Mapping[str, Any]]]]
) -> list[ResourceInfo]:
    """The resources of one group: the preferred (first) version's, then those only served in
    later versions."""
    out: list[ResourceInfo] = []
    seen: set[str] = set()
    for version, entries in versions:
        for entry in entries:
            info = _info(group, version, entry)
            if info is not None and info.plural not in seen:
                seen.add(info.plural)
                out.append(info)
    return out


async def _aggregated(client: Client, path: str) -> dict[str, Any] | None:
    resp = await client.request("GET", path, accept=AGGREGATED_ACCEPT)
    if "apidiscovery.k8s.io" not in resp.headers.get("content-type", ""):
        return None
    body = json.loads(resp.content)
    return body if isinstance(body, dict) else None


async def server_preferred_resources(client: Client) -> Discovery:
    """Every resource the server serves now, in its group's preferred version. Raises
    `ApiError`/`TransportError` only when nothing at all could be discovered."""
    core = await _aggregated(client, "/api")
    named = await _aggregated(client, "/apis") if core is not None else None
    if core is None or named is None:
        return await _legacy(client)
    out: list[ResourceInfo] = []
    failed: dict[str, str] = {}
    for doc in (core, named):
        for item in doc.get("items") or ():
            group = str((item.get("metadata") or {}).get("name") or "")
            versions = []
            for v in item.get("versions") or ():
                version = str(v.get("version") or "")
                if v.get("freshness") == "Stale":
                    failed[_gv(group, version)] = "stale discovery information"
                    continue
                versions.append((version, v.get("resources") or ()))
            out += _preferred(group, versions)
    return Discovery(tuple(out), failed)


async def _legacy(client: Client) -> Discovery:
    out: list[ResourceInfo] = []
    failed: dict[str, str] = {}

    async def resource_list(path: str) -> list[Any] | None:
        try:
            body = json.loads(await client.get_raw(path))
        except (ApiError, TransportError, ValueError) as exc:
            failed[path.removeprefix("/api/").removeprefix("/apis/")] = str(exc)
            return None
        return list(body.get("resources") or ()) if isinstance(body, dict) else []

    core = json.loads(await client.get_raw("/api"))
    core_versions = []
    for version in core.get("versions") or ():
        listed = await resource_list(f"/api/{version}")
        if listed is not None:
            core_versions.append((str(version), listed))
    out += _preferred("", core_versions)
    groups = json.loads(await client.get_raw("/apis"))
    for group in groups.get("groups") or ():
        name = str(group.get("name") or "")
        preferred = str((group.get("preferredVersion") or {}).get("version") or "")
        ordered = sorted(
            (str(v.get("version") or "") for v in group.get("versions") or ()),
            key=lambda v: v != preferred,
        )
        versions = []
        for version in ordered:
            listed = await resource_list(f"/apis/{name}/{version}")
            if listed is not None:
                versions.append((version, listed))
        out += _preferred(name, versions)
    return Discovery(tuple(out), failed)
