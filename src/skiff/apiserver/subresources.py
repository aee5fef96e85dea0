"""Subresource storages, and what they do: status, scale, pods/binding, pods/eviction and
namespaces/finalize (the connect subresources, log, exec, attach, portforward and proxy, are in
``skiff.apiserver.nodeproxy``).

As kube-apiserver's installer (``endpoints/installer.go``) does, a subresource's routes follow the
interfaces its storage implements: ``Getter`` answers GET, ``Updater`` PUT, ``Patcher`` PATCH,
``Creater`` POST and ``Connecter`` the methods it names. ``STORAGE`` maps a subresource name to its
storage; the HTTP layer compiles its route table from it once.

- ``/scale`` reads and writes ``spec.replicas`` of Deployments, ReplicaSets, StatefulSets and
  ReplicationControllers through an ``autoscaling/v1`` Scale; a write bumps the parent's
  resourceVersion and generation like any spec change, and a Scale carrying a stale
  resourceVersion gets 409.
- ``pods/binding`` sets ``spec.nodeName`` once (the scheduler's write); a bound pod cannot be
  re-bound (409).
- ``pods/eviction`` deletes a pod unless its PodDisruptionBudget's status forbids it (429); the
  disruption controller in the controller-manager keeps that status.
- ``namespaces/finalize`` sets the namespace's ``spec.finalizers`` (what the namespace
  finalizer removes when the namespace is empty).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from skiff.api import patch as patching
from skiff.api import resources as kinds
from skiff.api.field import FieldError
from skiff.api.resources import ResourceInfo
from skiff.api.selector import format_label_selector, format_labels, label_selector_from_object
from skiff.apiserver import decode as decoding
from skiff.apiserver import objects
from skiff.apiserver.errors import (
    STALE,
    ApiError,
    ConflictError,
    NotFoundError,
    api_error,
    bad_request,
    conflict,
    invalid,
    not_found,
)
from skiff.apiserver.registry import PatchType, Registry, RequestContext, UpdateSpec
from skiff.apiserver.routes import Target

__all__ = [
    "COLLECTION_STORAGE",
    "PATCH_MEDIA_TYPES",
    "STORAGE",
    "BindingStorage",
    "BindingsStorage",
    "Creater",
    "EphemeralContainersStorage",
    "EvictionStorage",
    "FinalizeStorage",
    "Getter",
    "Patcher",
    "ScaleStorage",
    "StatusStorage",
    "Updater",
    "bind",
    "evict",
    "finalize_namespace",
    "get_scale",
    "patch_scale",
    "to_scale",
    "update_scale",
]

# the patch types a Patcher may accept, by request Content-Type
PATCH_MEDIA_TYPES: Mapping[str, PatchType] = {
    decoding.JSON_PATCH: "json",
    decoding.MERGE_PATCH: "merge",
    decoding.STRATEGIC_PATCH: "strategic",
    decoding.APPLY_PATCH: "apply",
}


@runtime_checkable
class Getter(Protocol):
    """GET on the subresource (kube ``rest.Getter``): the object the subresource shows."""

    async def get(self, registry: Registry, target: Target) -> dict[str, Any]: ...


@runtime_checkable
class Updater(Protocol):
    """PUT (kube ``rest.Updater``): replace what the subresource owns; returns the result."""

    async def update(
        self, registry: Registry, target: Target, body: Any, ctx: RequestContext
    ) -> dict[str, Any]: ...


@runtime_checkable
class Patcher(Protocol):
    """PATCH (kube ``rest.Patcher``). ``patch_types`` are the accepted patch types (``json``,
    ``merge``, ``strategic``, ``apply``); the HTTP layer answers 415 for any other."""

    patch_types: frozenset[PatchType]

    async def patch(
        self,
        registry: Registry,
        target: Target,
        patch_type: PatchType,
        body: Any,
        ctx: RequestContext,
        *,
        force: bool,
    ) -> dict[str, Any]: ...


@runtime_checkable
class Creater(Protocol):
    """POST (kube ``rest.Creater``): an action on the parent (bind, evict). Returns the object
    to answer with, or None for a ``Success`` Status (both 201)."""

    async def create(
        self, registry: Registry, target: Target, body: Any, ctx: RequestContext
    ) -> dict[str, Any] | None: ...


def _selector_string(info: ResourceInfo, obj: dict[str, Any]) -> str:
    spec = obj.get("spec") or {}
    sel = spec.get("selector")
    if info.kind == "ReplicationController":
        return format_labels(sel or {})
    return format_label_selector(sel)


def to_scale(info: ResourceInfo, obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata") or {}
    status = obj.get("status") or {}
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
        "spec": {"replicas": int((obj.get("spec") or {}).get("replicas") or 0)},
        "status": {
            "replicas": int(status.get("replicas") or 0),
            "selector": _selector_string(info, obj),
        },
    }


async def get_scale(
    registry: Registry, info: ResourceInfo, namespace: str, name: str
) -> dict[str, Any]:
    return to_scale(info, await registry.get(info, namespace, name))


def _replicas(scale: Any) -> int:
    if not isinstance(scale, dict):
        raise bad_request("the body must be an autoscaling/v1 Scale object")
    if scale.get("kind") not in (None, "Scale"):
        raise bad_request(
            f"the kind in the data ({scale.get('kind')}) does not match the expected kind (Scale)"
        )
    # JSON null decodes to Go's zero value
    replicas = (scale.get("spec") or {}).get("replicas")
    replicas = 0 if replicas is None else replicas
    if not isinstance(replicas, int) or isinstance(replicas, bool):
        kind = "bool" if isinstance(replicas, bool) else "string"
        if isinstance(replicas, float):
            kind = f"number {replicas:g}"
        elif isinstance(replicas, list | dict):
            kind = "array" if isinstance(replicas, list) else "object"
        raise bad_request(
            'Scale in version "v1" cannot be handled as a Scale: json: cannot unmarshal '
            f"{kind} into Go struct field ScaleSpec.spec.replicas of type int32"
        )
    if replicas < 0:
        raise invalid(
            None,
            "Scale",
            str((scale.get("metadata") or {}).get("name") or ""),
            [FieldError.invalid("spec.replicas", replicas, "must be greater than or equal to 0")],
        )
    return replicas


async def _set_replicas(
    registry: Registry,
    info: ResourceInfo,
    namespace: str,
    name: str,
    replicas: int,
    ctx: RequestContext,
    precondition_rv: str,
) -> dict[str, Any]:
    def mutate(current: dict[str, Any]) -> dict[str, Any]:
        current.setdefault("spec", {})["replicas"] = replicas
        return current

    obj, _ = await registry.guaranteed_update(
        info,
        namespace,
        name,
        mutate,
        ctx,
        UpdateSpec(precondition_rv=precondition_rv, fields_subresource="scale"),
    )
    return to_scale(info, obj)


async def update_scale(
    registry: Registry,
    info: ResourceInfo,
    namespace: str,
    name: str,
    body: Any,
    ctx: RequestContext,
) -> dict[str, Any]:
    replicas = _replicas(body)
    rv = str(((body or {}).get("metadata") or {}).get("resourceVersion") or "")
    return await _set_replicas(registry, info, namespace, name, replicas, ctx, rv)


async def patch_scale(
    registry: Registry,
    info: ResourceInfo,
    namespace: str,
    name: str,
    patch_type: PatchType,
    patch: Any,
    ctx: RequestContext,
) -> dict[str, Any]:
    for _ in range(8):
        current = await get_scale(registry, info, namespace, name)
        try:
            if patch_type == "json":
                new = patching.json_patch(current, patch)
            else:
                if not isinstance(patch, dict):
                    raise bad_request("a merge patch must be a JSON object")
                new = patching.merge_patch(current, patch)
        except patching.PatchError as e:
            raise api_error(e.code, e.reason, e.message) from None
        replicas = _replicas(new)
        pinned = str(
            ((patch if isinstance(patch, dict) else {}).get("metadata") or {}).get(
                "resourceVersion"
            )
            or ""
        )
        try:
            return await _set_replicas(
                registry,
                info,
                namespace,
                name,
                replicas,
                ctx,
                pinned or str(current["metadata"]["resourceVersion"]),
            )
        except ConflictError:
            if not pinned:
                continue
            raise
    raise conflict(info, name, STALE)


async def bind(
    registry: Registry, namespace: str, name: str, body: Any, ctx: RequestContext
) -> None:
    pods = kinds.by_resource("", "v1", "pods")
    assert pods is not None
    if not isinstance(body, dict) or body.get("kind") not in (None, "Binding"):
        raise bad_request("the body must be a v1 Binding object")
    target = body.get("target") or {}
    node = target.get("name")
    if not node:
        raise invalid(None, "Binding", name, [FieldError.required("target.name")])
    if target.get("kind") not in (None, "", "Node"):
        raise invalid(
            None,
            "Binding",
            name,
            [FieldError.invalid("target.kind", target.get("kind"), "must be empty or Node")],
        )

    def mutate(current: dict[str, Any]) -> dict[str, Any]:
        spec = current.setdefault("spec", {})
        meta = current.get("metadata") or {}
        if meta.get("deletionTimestamp"):
            raise conflict(pods, name, "pod is being deleted, cannot be assigned to a host")
        if spec.get("nodeName"):
            raise conflict(
                pods, name, f'pod {name} is already assigned to node "{spec["nodeName"]}"'
            )
        spec["nodeName"] = node
        status = current.setdefault("status", {})
        conditions = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
        conditions.append(
            {
                "type": "PodScheduled",
                "status": "True",
                "lastTransitionTime": objects.now_rfc3339(),
                "lastProbeTime": None,
            }
        )
        status["conditions"] = conditions
        for k in ("annotations",):
            extra = (body.get("metadata") or {}).get(k)
            if extra:
                current["metadata"].setdefault(k, {}).update(extra)
        return current

    # binding writes both spec.nodeName and the PodScheduled condition: a raw update
    await _raw_update(registry, pods, namespace, name, mutate, ctx)


async def _raw_update(
    registry: Registry,
    info: ResourceInfo,
    namespace: str,
    name: str,
    mutate: Any,
    ctx: RequestContext,
) -> dict[str, Any]:
    key = objects.object_key(info, namespace, name)
    for _ in range(16):
        kv = await registry.cache.get(key)
        if kv is None:
            raise not_found(info, name)
        current = registry.decode(kv)
        # a second decode is the copy to mutate: several times cheaper than deepcopy (a
        # binding's main cost otherwise)
        new: dict[str, Any] = mutate(registry.decode(kv))
        if ctx.dry_run or new == current:
            return new
        new["metadata"].pop("resourceVersion", None)
        data = registry.transformer.to_storage(key, objects.encode(new))
        res = await registry.cache.update(key, data, expected_revision=kv.mod_revision)
        if res.succeeded:
            new["metadata"]["resourceVersion"] = str(res.revision)
            return new
    raise conflict(info, name, STALE)


def _pod_ready(pod: dict[str, Any]) -> bool:
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return bool(c.get("status") == "True")
    return False


_EVICTION_REFUSED = "Cannot evict pod as it would violate the pod's disruption budget."
_MAX_DISRUPTED_PODS = 2000  # Kubernetes' MaxDisruptedPodSize


def _too_many_requests(cause: str, retry_after: int = 0) -> ApiError:
    """429 with a ``DisruptionBudget`` cause (``errors.NewTooManyRequests``: a Retry-After only
    when there is a sensible wait)."""
    details: dict[str, Any] = {"causes": [{"reason": "DisruptionBudget", "message": cause}]}
    if retry_after:
        details["retryAfterSeconds"] = retry_after
    return ApiError(
        429,
        "TooManyRequests",
        _EVICTION_REFUSED,
        details=details,
        headers={"Retry-After": str(retry_after)} if retry_after else None,
    )


def _budgets_for(pod: dict[str, Any], budgets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The budgets whose selector matches the pod (a missing selector matches nothing, an empty
    one everything; an invalid one nothing)."""
    labels = (pod.get("metadata") or {}).get("labels") or {}
    out = []
    for pdb in budgets:
        try:
            selector = label_selector_from_object((pdb.get("spec") or {}).get("selector"))
        except ValueError:
            continue
        if selector.matches(labels):
            out.append(pdb)
    return out


async def evict(
    registry: Registry, namespace: str, name: str, body: Any, ctx: RequestContext
) -> None:
    """Delete a pod unless its PodDisruptionBudget's status forbids it (429 TooManyRequests).

    As Kubernetes 1.32's ``EvictionREST`` does, the budget's *status* decides (the disruption
    controller in the controller-manager computes it): a pod that is terminal, Pending or already
    being deleted is deleted regardless; a budget whose ``status.observedGeneration`` is behind its
    generation answers 429 (Retry-After 10); an unready pod may go while the budget is otherwise
    met (``unhealthyPodEvictionPolicy``); else ``status.disruptionsAllowed`` must be positive and
    is decremented, with the pod recorded in ``status.disruptedPods``, by a compare-and-swap on the
    budget that re-checks on every retry - two evictions never spend the same disruption.
    """
    pods = kinds.by_resource("", "v1", "pods")
    pdbs = kinds.by_resource("policy", "v1", "poddisruptionbudgets")
    assert pods is not None and pdbs is not None
    if not isinstance(body, dict) or body.get("kind") not in (None, "Eviction"):
        raise bad_request("the body must be a policy/v1 Eviction object")
    ename = (body.get("metadata") or {}).get("name")
    if ename and ename != name:
        raise bad_request(f"name in URL does not match name in Eviction object ({ename} != {name})")
    pod = await registry.get(pods, namespace, name)
    phase = (pod.get("status") or {}).get("phase")
    options = body.get("deleteOptions") or {}
    if phase not in ("Succeeded", "Failed", "Pending") and not (pod.get("metadata") or {}).get(
        "deletionTimestamp"
    ):
        budgets = _budgets_for(pod, await registry.list_objects("PodDisruptionBudget", namespace))
        if len(budgets) > 1:
            raise ApiError(
                500,
                "InternalError",
                "This pod has more than one PodDisruptionBudget, which the eviction "
                "subresource does not support.",
            )
        if budgets:
            await _check_and_decrement(registry, pdbs, namespace, budgets[0], pod, ctx)
    grace = options.get("gracePeriodSeconds")
    pre = options.get("preconditions")
    await registry.delete(
        pods,
        namespace,
        name,
        ctx,
        grace_period=int(grace) if grace is not None else None,
        preconditions=pre,
    )


async def _check_and_decrement(
    registry: Registry,
    pdbs: ResourceInfo,
    namespace: str,
    pdb: dict[str, Any],
    pod: dict[str, Any],
    ctx: RequestContext,
) -> None:
    """Spend one of the budget's disruptions on ``pod`` (Kubernetes ``checkAndDecrement``), or
    raise 429. Runs inside the compare-and-swap, so it sees the budget as it is when written."""
    pod_name = str(pod["metadata"]["name"])
    pdb_name = str(pdb["metadata"]["name"])

    def mutate(current: dict[str, Any]) -> dict[str, Any]:
        meta = current.get("metadata") or {}
        status = dict(current.get("status") or {})
        desired = int(status.get("desiredHealthy") or 0)
        healthy = int(status.get("currentHealthy") or 0)
        policy = (current.get("spec") or {}).get("unhealthyPodEvictionPolicy") or "IfHealthyBudget"
        if not _pod_ready(pod) and (
            policy == "AlwaysAllow" or (healthy >= desired and desired > 0)
        ):
            return current  # an unready pod does not count as healthy: nothing to spend
        if int(status.get("observedGeneration") or 0) < int(meta.get("generation") or 0):
            raise _too_many_requests(
                f"The disruption budget {pdb_name} is still being processed by the server.", 10
            )
        allowed = int(status.get("disruptionsAllowed") or 0)
        if allowed < 0:
            raise _forbidden_budget(pdbs, pdb_name, "pdb disruptions allowed is negative")
        disrupted = dict(status.get("disruptedPods") or {})
        if len(disrupted) > _MAX_DISRUPTED_PODS:
            raise _forbidden_budget(
                pdbs,
                pdb_name,
                "DisruptedPods map too big - too many evictions not confirmed by PDB controller",
            )
        if allowed == 0:
            raise _too_many_requests(
                f"The disruption budget {pdb_name} needs {desired} healthy pods "
                f"and has {healthy} currently"
            )
        status["disruptionsAllowed"] = allowed - 1
        if allowed - 1 == 0:
            conditions = [
                c for c in status.get("conditions") or [] if c.get("type") != "DisruptionAllowed"
            ]
            old: dict[str, Any] = next(
                (c for c in status.get("conditions") or [] if c.get("type") == "DisruptionAllowed"),
                {},
            )
            conditions.append(
                {
                    "type": "DisruptionAllowed",
                    "status": "False",
                    "reason": "InsufficientPods",
                    "message": "",
                    "lastTransitionTime": old.get("lastTransitionTime")
                    if old.get("status") == "False"
                    else objects.now_rfc3339(),
                }
            )
            status["conditions"] = conditions
        disrupted[pod_name] = objects.now_rfc3339()
        status["disruptedPods"] = disrupted
        current["status"] = status
        return current

    await _raw_update(registry, pdbs, namespace, pdb_name, mutate, ctx)


def _forbidden_budget(pdbs: ResourceInfo, name: str, why: str) -> ApiError:
    return ApiError(
        403,
        "Forbidden",
        f'{pdbs.group_resource} "{name}" is forbidden: {why}',
        details={"name": name, "group": pdbs.group, "kind": pdbs.plural},
    )


async def finalize_namespace(
    registry: Registry, name: str, body: Any, ctx: RequestContext
) -> dict[str, Any]:
    ns_info = kinds.by_resource("", "v1", "namespaces")
    assert ns_info is not None
    if not isinstance(body, dict):
        raise bad_request("the body must be a v1 Namespace object")
    finalizers = list((body.get("spec") or {}).get("finalizers") or [])

    def mutate(current: dict[str, Any]) -> dict[str, Any]:
        current.setdefault("spec", {})["finalizers"] = finalizers
        return current

    obj = await _raw_update(registry, ns_info, "", name, mutate, ctx)
    meta = obj.get("metadata") or {}
    if meta.get("deletionTimestamp") and not finalizers and not meta.get("finalizers"):
        with contextlib.suppress(NotFoundError):
            obj, _ = await registry.delete(ns_info, "", name, ctx)
    return obj


# ------------------------------------------------------------------------------------ storages


class StatusStorage:
    """``<resource>/status``: the whole object, written with the status strategy."""

    patch_types = frozenset(PATCH_MEDIA_TYPES.values())
    subresource = "status"

    async def get(self, registry: Registry, target: Target) -> dict[str, Any]:
        return await registry.get(target.info, target.namespace, target.name)

    async def update(
        self, registry: Registry, target: Target, body: Any, ctx: RequestContext
    ) -> dict[str, Any]:
        obj, _ = await registry.update(
            target.info, target.namespace, target.name, body, ctx, subresource=self.subresource
        )
        return obj

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
        obj, _ = await registry.patch(
            target.info,
            target.namespace,
            target.name,
            patch_type,
            body,
            ctx,
            subresource=self.subresource,
            force=force,
        )
        return obj


class EphemeralContainersStorage(StatusStorage):
    """``pods/ephemeralcontainers``: the whole pod, of which a write changes only
    ``spec.ephemeralContainers`` (how ``kubectl debug`` adds a container to a running pod)."""

    subresource = "ephemeralcontainers"


class ScaleStorage:
    """``<resource>/scale``: an ``autoscaling/v1`` Scale over ``spec.replicas``."""

    patch_types = frozenset({"json", "merge", "strategic"})

    async def get(self, registry: Registry, target: Target) -> dict[str, Any]:
        return await get_scale(registry, target.info, target.namespace, target.name)

    async def update(
        self, registry: Registry, target: Target, body: Any, ctx: RequestContext
    ) -> dict[str, Any]:
        return await update_scale(registry, target.info, target.namespace, target.name, body, ctx)

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
        return await patch_scale(
            registry, target.info, target.namespace, target.name, patch_type, body, ctx
        )


class BindingStorage:
    """``pods/binding``: the scheduler's write of ``spec.nodeName``."""

    async def create(
        self, registry: Registry, target: Target, body: Any, ctx: RequestContext
    ) -> dict[str, Any] | None:
        await bind(registry, target.namespace, target.name, body, ctx)
        return None


class BindingsStorage:
    """``bindings``, the older form of ``pods/binding``: the pod is the Binding's own name
    (Kubernetes' ``LegacyBindingREST``); the route is the namespace's collection."""

    async def create(
        self, registry: Registry, target: Target, body: Any, ctx: RequestContext
    ) -> dict[str, Any] | None:
        meta = (body.get("metadata") if isinstance(body, dict) else None) or {}
        namespace = meta.get("namespace") if isinstance(meta, dict) else None
        if namespace and namespace != target.namespace:
            raise bad_request(
                "the namespace of the provided object does not match the namespace sent on "
                "the request"
            )
        name = meta.get("name") if isinstance(meta, dict) else None
        if not isinstance(name, str) or not name:
            raise bad_request("Name parameter required.")
        await bind(registry, target.namespace, name, body, ctx)
        return None


class EvictionStorage:
    """``pods/eviction``: a delete that respects PodDisruptionBudgets."""

    async def create(
        self, registry: Registry, target: Target, body: Any, ctx: RequestContext
    ) -> dict[str, Any] | None:
        await evict(registry, target.namespace, target.name, body, ctx)
        return None


class FinalizeStorage:
    """``namespaces/finalize``: the namespace's ``spec.finalizers`` (PUT only, as upstream)."""

    async def update(
        self, registry: Registry, target: Target, body: Any, ctx: RequestContext
    ) -> dict[str, Any]:
        return await finalize_namespace(registry, target.name, body, ctx)


# storage by subresource name (the connect subresources are added by skiff.apiserver.nodeproxy)
STORAGE: Mapping[str, object] = {
    "status": StatusStorage(),
    "ephemeralcontainers": EphemeralContainersStorage(),
    "scale": ScaleStorage(),
    "binding": BindingStorage(),
    "eviction": EvictionStorage(),
    "finalize": FinalizeStorage(),
}

# create-only resources answered by a storage rather than stored: by (group, plural)
COLLECTION_STORAGE: Mapping[tuple[str, str], Creater] = {("", "bindings"): BindingsStorage()}
