"""Discovery documents: what ``/api``, ``/apis``, ``/api/v1`` and ``/apis/<g>/<v>`` return.

Two shapes are served (kubectl-wire.md §2):

- legacy discovery: ``APIVersions`` at ``/api``, ``APIGroupList`` at ``/apis`` and one
  ``APIResourceList`` per group/version. The Python client only understands these, so they are
  mandatory.
- aggregated discovery (``apidiscovery.k8s.io`` ``APIGroupDiscoveryList``): everything in two
  requests. Sent only when the ``Accept`` header asks for it in exactly that version
  (``negotiate_discovery``) and with the matching ``Content-Type`` (``discovery_content_type``),
  because kubectl picks the parser by the reply's content type and an old kubectl reading a v2
  body as v2beta1 fails (kubectl-wire.md §9.6).

Everything is derived from ``skiff.api.resources.RESOURCES`` and is computed once per set of extra
resources (``extra``), so handlers may call these functions on every request. The returned dicts
are shared: callers must not mutate them.

Extra, read-only groups that are not in the registry yet (the metrics API, ``METRICS_RESOURCES``)
are passed as ``extra``; they are never listed unless a caller passes them.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from typing import Any, Literal

from skiff.api.resources import RESOURCES, GroupVersion, ResourceInfo, Subresource
from skiff.apiserver.negotiation import negotiate_as

__all__ = [
    "DISCOVERY_GROUP",
    "DISCOVERY_KIND",
    "METRICS_RESOURCES",
    "DiscoveryVersion",
    "aggregated_discovery",
    "api_group_list",
    "api_resource_list",
    "api_versions",
    "discovery_content_type",
    "negotiate_discovery",
    "served_group_versions",
    "served_resources",
    "subresource_gvk",
]

DiscoveryVersion = Literal["v2", "v2beta1"]

DISCOVERY_GROUP = "apidiscovery.k8s.io"
DISCOVERY_KIND = "APIGroupDiscoveryList"
# In the client's preference order; kubectl 1.32 asks for v2 first, 1.29 for v2beta1 first.
_DISCOVERY_VERSIONS: tuple[DiscoveryVersion, ...] = ("v2", "v2beta1")

_READ_ONLY = ("get", "list")

METRICS_RESOURCES: tuple[ResourceInfo, ...] = (
    ResourceInfo(
        group="metrics.k8s.io",
        version="v1beta1",
        kind="NodeMetrics",
        plural="nodes",
        namespaced=False,
        verbs=_READ_ONLY,
    ),
    ResourceInfo(
        group="metrics.k8s.io",
        version="v1beta1",
        kind="PodMetrics",
        plural="pods",
        namespaced=True,
        verbs=_READ_ONLY,
    ),
)
"""The metrics API (``kubectl top``), served read-only by the metrics work; pass as ``extra``."""


def served_resources(extra: tuple[ResourceInfo, ...] = ()) -> tuple[ResourceInfo, ...]:
    """The registry's resources followed by ``extra`` (resources of groups served elsewhere)."""
    return RESOURCES + extra


def served_group_versions(extra: tuple[ResourceInfo, ...] = ()) -> list[GroupVersion]:
    """Served group/versions in preference order: the first version listed for a group wins."""
    seen: dict[GroupVersion, None] = {}
    for r in served_resources(extra):
        seen.setdefault(r.gv, None)
    return list(seen)


def subresource_gvk(parent: ResourceInfo, sub: Subresource) -> tuple[str, str, str]:
    """Group, version and kind a subresource answers with (empty group/version: the parent's)."""
    if sub.group or sub.version:
        return sub.group, sub.version or parent.version, sub.kind
    return parent.group, parent.version, sub.kind


def _storage_version_hash(r: ResourceInfo) -> str:
    # Upstream hashes "group/version/kind" of the storage version with SHA-256 and keeps the
    # first 8 bytes base64-encoded (apiserver/pkg/endpoints/discovery StorageVersionHash). Clients
    # only compare it for equality, so the recipe just needs to be stable.
    digest = hashlib.sha256(f"{r.group}/{r.storage_version}/{r.kind}".encode()).digest()
    return base64.b64encode(digest[:8]).decode()


# ---------------------------------------------------------------------------------------------
# legacy discovery


def api_versions(server_address: str) -> dict[str, Any]:
    """``GET /api``: the core group's versions (legacy ``APIVersions``).

    ``server_address`` is ``host:port`` as clients should reach this server; it is reported for
    every client CIDR.
    """
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address},
        ],
    }


@lru_cache(maxsize=8)
def api_group_list(*, extra: tuple[ResourceInfo, ...] = ()) -> dict[str, Any]:
    """``GET /apis``: every named group with its versions (legacy ``APIGroupList``).

    The first version listed for a group is its preferred version (``autoscaling``: v2, then v1).
    """
    groups: dict[str, list[str]] = {}
    for gv in served_group_versions(extra):
        if gv.group:
            groups.setdefault(gv.group, []).append(gv.version)
    items = []
    for name, versions in groups.items():
        entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
        items.append({"name": name, "versions": entries, "preferredVersion": entries[0]})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": items}


def _legacy_resource(r: ResourceInfo) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": r.plural,
        "singularName": r.singular_name,
        "namespaced": r.namespaced,
        "kind": r.kind,
        "verbs": list(r.verbs),
    }
    if r.short_names:
        entry["shortNames"] = list(r.short_names)
    if r.categories:
        entry["categories"] = list(r.categories)
    if "create" in r.verbs or "update" in r.verbs:
        entry["storageVersionHash"] = _storage_version_hash(r)
    return entry


def _legacy_subresource(r: ResourceInfo, sub: Subresource) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": f"{r.plural}/{sub.name}",
        "singularName": "",
        "namespaced": r.namespaced,
    }
    group, version, kind = subresource_gvk(r, sub)
    if (group, version) != (r.group, r.version):
        # Only given when it differs from the list's group/version (metav1.APIResource).
        entry["group"] = group
        entry["version"] = version
    entry["kind"] = kind
    entry["verbs"] = list(sub.verbs)
    return entry


@lru_cache(maxsize=64)
def api_resource_list(
    group: str, version: str, *, extra: tuple[ResourceInfo, ...] = ()
) -> dict[str, Any] | None:
    """``GET /api/v1`` (``group == ""``) or ``GET /apis/<group>/<version>``: ``APIResourceList``.

    Each resource is followed by its subresources (``deployments/scale``, ``pods/eviction``...).
    Returns None for a group/version that is not served (the handler answers 404).
    """
    resources = [r for r in served_resources(extra) if r.group == group and r.version == version]
    if not resources:
        return None
    items: list[dict[str, Any]] = []
    for r in resources:
        items.append(_legacy_resource(r))
        items.extend(_legacy_subresource(r, sub) for sub in r.subresources)
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": GroupVersion(group, version).api_version,
        "resources": items,
    }


# ---------------------------------------------------------------------------------------------
# aggregated discovery


def _aggregated_resource(r: ResourceInfo) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "resource": r.plural,
        # A resource without responseKind is dropped by client-go (aggregated_discovery.go).
        "responseKind": {"group": r.group, "version": r.version, "kind": r.kind},
        "scope": "Namespaced" if r.namespaced else "Cluster",
        "singularResource": r.singular_name,
        "verbs": list(r.verbs),
    }
    if r.short_names:
        entry["shortNames"] = list(r.short_names)
    if r.categories:
        entry["categories"] = list(r.categories)
    if r.subresources:
        subs = []
        for sub in r.subresources:
            group, version, kind = subresource_gvk(r, sub)
            subs.append(
                {
                    "subresource": sub.name,
                    "responseKind": {"group": group, "version": version, "kind": kind},
                    "verbs": list(sub.verbs),
                }
            )
        entry["subresources"] = subs
    return entry


@lru_cache(maxsize=16)
def aggregated_discovery(
    core: bool, version: DiscoveryVersion, *, extra: tuple[ResourceInfo, ...] = ()
) -> dict[str, Any]:
    """Aggregated discovery (``APIGroupDiscoveryList``) for ``/api`` (``core``) or ``/apis``.

    ``/api`` holds one item, the core group, whose ``metadata.name`` is ``""``; ``/apis`` holds
    the named groups with their versions in preference order. Every version is ``Current``.
    ``version`` is the ``apidiscovery.k8s.io`` version the client negotiated; v2 and v2beta1
    bodies have the same fields.
    """
    groups: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for r in served_resources(extra):
        if bool(r.group) == core:
            continue
        versions = groups.setdefault(r.group, {})
        versions.setdefault(r.version, []).append(_aggregated_resource(r))
    items = [
        {
            "metadata": {"name": name},
            "versions": [
                {"version": v, "resources": resources, "freshness": "Current"}
                for v, resources in versions.items()
            ],
        }
        for name, versions in groups.items()
    ]
    return {
        "kind": DISCOVERY_KIND,
        "apiVersion": f"{DISCOVERY_GROUP}/{version}",
        "metadata": {},
        "items": items,
    }


def negotiate_discovery(accept: str | None) -> DiscoveryVersion | None:
    """Which aggregated discovery version the ``Accept`` header asks for, or None for legacy.

    ``application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList`` gives ``"v2"``
    (parameters in any order); the first acceptable entry in the client's preference order wins,
    and plain ``application/json`` or ``*/*`` ranked first gives None.
    """
    chosen = negotiate_as(
        accept, group=DISCOVERY_GROUP, kind=DISCOVERY_KIND, versions=_DISCOVERY_VERSIONS
    )
    for v in _DISCOVERY_VERSIONS:
        if chosen == v:
            return v
    return None


def discovery_content_type(version: DiscoveryVersion) -> str:
    """The ``Content-Type`` of an aggregated discovery reply; clients parse by it."""
    return f"application/json;g={DISCOVERY_GROUP};v={version};as={DISCOVERY_KIND}"
