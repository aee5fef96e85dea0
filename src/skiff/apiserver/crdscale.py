"""The ``scale`` subresource of custom resources: an ``autoscaling/v1`` Scale over the paths the
CRD names (``specReplicasPath``, ``statusReplicasPath``, ``labelSelectorPath``), as
apiextensions-apiserver's ``pkg/registry/customresource`` ``ScaleREST`` does. ``kubectl scale``
and the HPA use it like a Deployment's."""

from __future__ import annotations

from typing import Any

from skiff.api import patch as patching
from skiff.api.field import FieldError
from skiff.api.resources import ResourceInfo
from skiff.apiserver.crd import CustomKind
from skiff.apiserver.errors import STALE, ConflictError, api_error, bad_request, conflict, invalid
from skiff.apiserver.registry import PatchType, Registry, RequestContext, UpdateSpec
from skiff.apiserver.routes import Target

__all__ = [
    "CustomScaleStorage",
    "custom_storages",
    "to_scale",
]


def custom_storages(info: ResourceInfo) -> dict[str, object]:
    """Subresource storages of a custom resource that differ from the built-in ones."""
    if isinstance(info.custom, CustomKind) and info.subresource("scale") is not None:
        return {"scale": CustomScaleStorage()}
    return {}


def _paths(info: ResourceInfo) -> dict[str, Any]:
    assert isinstance(info.custom, CustomKind)
    return info.custom.version(info.version).scale or {}


def _parts(path: str) -> list[str]:
    return [p for p in str(path).split(".") if p]


def _get(obj: Any, path: str) -> Any:
    for p in _parts(path):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(p)
    return obj


def _set(obj: dict[str, Any], path: str, value: Any) -> None:
    parts = _parts(path)
    for p in parts[:-1]:
        nxt = obj.get(p)
        if not isinstance(nxt, dict):
            nxt = obj[p] = {}
        obj = nxt
    obj[parts[-1]] = value


def to_scale(info: ResourceInfo, obj: dict[str, Any]) -> dict[str, Any]:
    paths = _paths(info)
    meta = obj.get("metadata") or {}
    spec_replicas = _get(obj, paths.get("specReplicasPath", ".spec.replicas"))
    status_replicas = _get(obj, paths.get("statusReplicasPath", ".status.replicas"))
    status: dict[str, Any] = {
        "replicas": status_replicas if isinstance(status_replicas, int) else 0
    }
    if paths.get("labelSelectorPath"):
        selector = _get(obj, paths["labelSelectorPath"])
        if isinstance(selector, str) and selector:
            status["selector"] = selector
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta.get("name"),
            "namespace": meta.get("namespace"),
            "uid": meta.get("uid"),
            "resourceVersion": meta.get("resourceVersion"),
            "creationTimestamp": meta.get("creationTimestamp"),
        },
        "spec": {"replicas": spec_replicas if isinstance(spec_replicas, int) else 0},
        "status": status,
    }


def _replicas(scale: Any) -> int:
    if not isinstance(scale, dict) or scale.get("kind") not in (None, "Scale"):
        raise bad_request("the body must be an autoscaling/v1 Scale object")
    replicas = (scale.get("spec") or {}).get("replicas")
    replicas = 0 if replicas is None else replicas
    if not isinstance(replicas, int) or isinstance(replicas, bool):
        raise bad_request(
            'Scale in version "v1" cannot be handled as a Scale: json: cannot unmarshal '
            "value into Go struct field ScaleSpec.spec.replicas of type int32"
        )
    if replicas < 0:
        name = str((scale.get("metadata") or {}).get("name") or "")
        raise invalid(
            None,
            "Scale",
            name,
            [FieldError.invalid("spec.replicas", replicas, "must be greater than or equal to 0")],
        )
    return replicas


class CustomScaleStorage:
    """``<custom resource>/scale``."""

    patch_types = frozenset({"json", "merge"})

    async def get(self, registry: Registry, target: Target) -> dict[str, Any]:
        obj = await registry.get(target.info, target.namespace, target.name)
        return to_scale(target.info, obj)

    async def _write(
        self, registry: Registry, target: Target, replicas: int, ctx: RequestContext, rv: str
    ) -> dict[str, Any]:
        info = target.info
        path = _paths(info).get("specReplicasPath", ".spec.replicas")

        def mutate(current: dict[str, Any]) -> dict[str, Any]:
            _set(current, path, replicas)
            return current

        obj, _ = await registry.guaranteed_update(
            info,
            target.namespace,
            target.name,
            mutate,
            ctx,
            UpdateSpec(precondition_rv=rv, fields_subresource="scale"),
        )
        return to_scale(info, obj)

    async def update(
        self, registry: Registry, target: Target, body: Any, ctx: RequestContext
    ) -> dict[str, Any]:
        replicas = _replicas(body)
        rv = str(((body or {}).get("metadata") or {}).get("resourceVersion") or "")
        return await self._write(registry, target, replicas, ctx, rv)

    async def patch(
        self,
        registry: Registry,
        target: Target,
        patch_type: PatchType,
        body: Any,
        ctx: RequestContext,
        *,
        force: bool,
    ) -> dict[str, Any]:
        for _ in range(8):
            current = await self.get(registry, target)
            try:
                if patch_type == "json":
                    new = patching.json_patch(current, body)
                else:
                    if not isinstance(body, dict):
                        raise bad_request("a merge patch must be a JSON object")
                    new = patching.merge_patch(current, body)
            except patching.PatchError as e:
                raise api_error(e.code, e.reason, e.message) from None
            replicas = _replicas(new)
            pinned = str(
                ((body if isinstance(body, dict) else {}).get("metadata") or {}).get(
                    "resourceVersion"
                )
                or ""
            )
            try:
                return await self._write(
                    registry,
                    target,
                    replicas,
                    ctx,
                    pinned or str(current["metadata"]["resourceVersion"]),
                )
            except ConflictError:
                if not pinned:
                    continue
                raise
        raise conflict(target.info, target.name, STALE)
