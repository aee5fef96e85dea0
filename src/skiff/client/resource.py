"""Resolving what a caller names (a `ResourceInfo`, ``(apiVersion, kind)``, or a plural) into a
served resource, and building the REST paths for it.

Paths follow the Kubernetes layout: ``/api/v1/namespaces/{ns}/{plural}/{name}/{subresource}`` for
the core group and ``/apis/{group}/{version}/...`` otherwise; cluster-scoped resources and
all-namespace lists drop the ``namespaces/{ns}`` segment. Names come from ``skiff.api.resources``,
the single table of served resources.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from skiff.api import resources
from skiff.api.resources import ResourceInfo
from skiff.client.view import object_meta

__all__ = ["ResourceRef", "object_key", "resolve", "resource_for", "resource_path"]

ResourceRef = ResourceInfo | tuple[str, str] | str
"""A `ResourceInfo`; ``(apiVersion, kind)`` such as ``("apps/v1", "Deployment")``; or a plural
(``"pods"``), ``"plural.group"`` (``"deployments.apps"``), short name (``"deploy"``) or kind."""


def resolve(ref: ResourceRef) -> ResourceInfo:
    """The served resource ``ref`` names; ``LookupError`` if none.

    When a plural is served at several versions (HorizontalPodAutoscaler), the first registry entry
    (the preferred version) wins, as kubectl's discovery-based RESTMapper prefers it.
    """
    if isinstance(ref, ResourceInfo):
        return ref
    if isinstance(ref, tuple):
        api_version, kind = ref
        info = resources.lookup(api_version, kind)
        if info is None:
            raise LookupError(f"no resource served for apiVersion={api_version} kind={kind}")
        return info
    name, _, group = ref.partition(".")
    lowered = name.lower()
    for info in resources.RESOURCES:
        if group and info.group != group:
            continue
        if lowered in (info.plural, info.singular_name, info.kind.lower()) or (
            lowered in info.short_names
        ):
            return info
    raise LookupError(f"no resource named {ref!r}")


def resource_for(obj: Mapping[str, Any]) -> ResourceInfo:
    """The resource of an object, from its ``apiVersion`` and ``kind``."""
    return resolve((str(obj.get("apiVersion", "")), str(obj.get("kind", ""))))


def resource_path(
    info: ResourceInfo,
    *,
    namespace: str | None = None,
    name: str | None = None,
    subresource: str | None = None,
) -> str:
    """The REST path for a collection (``name=None``), an object, or an object's subresource.

    For a namespaced resource ``namespace=None`` addresses all namespaces (lists and watches only).
    """
    parts = [info.gv.path_prefix]
    if info.namespaced and namespace:
        parts += ["namespaces", quote(namespace, safe="")]
    parts.append(info.plural)
    if name is not None:
        if not name:
            raise ValueError("resource name may not be empty")
        parts.append(quote(name, safe=""))
        if subresource:
            parts.append(subresource)
    elif subresource:
        raise ValueError("a subresource needs an object name")
    return "/".join(parts)


def object_key(obj: Mapping[str, Any] | Any) -> str:
    """The cache key of an object (a mapping or a view): ``"namespace/name"``, or ``"name"`` when
    it has no namespace.

    This is the only function producing keys (client-go ``MetaNamespaceKeyFunc``).
    """
    meta = object_meta(obj)
    name = str(meta.get("name") or "")
    if not name:
        raise ValueError("object has no metadata.name")
    namespace = meta.get("namespace")
    return f"{namespace}/{name}" if namespace else name
