"""The admission chain: mutating plugins, then validating plugins, for every write.

Plugins see the object as a dict together with the request's attributes and may change it
(mutating) or reject it with an ``ApiError`` (validating). Lookups of other objects go through a
small ``Lookup`` seam that the registry implements, so plugins never touch the store.

Plugins shipped now, in Kubernetes' order:
- NamespaceLifecycle: refuses objects in missing or terminating namespaces and the deletion of
  the immortal namespaces.
- ServiceAccount: gives pods ``serviceAccountName: default`` and checks the account exists. As in
  Kubernetes 1.32 (``plugin/pkg/admission/serviceaccount``), a missing account is a 403 Forbidden
  ``error looking up service account <ns>/<name>: serviceaccount "<name>" not found``; the
  ``default`` account, which the controller-manager creates shortly after its namespace, is looked
  up again for a moment (10 tries, 100-200 ms apart) before the pod is refused.
- Priority: resolves ``priorityClassName`` (default: the global default class or 0).
- DefaultTolerationSeconds: pods tolerate ``not-ready``/``unreachable`` NoExecute taints for
  skiff's 5 s (Kubernetes: 300 s), which is what makes healing fast.
Room is left for LimitRanger, ResourceQuota and VPA (later issues).
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Any, Protocol

from skiff.api.resources import ResourceInfo
from skiff.apiserver.auth import UserInfo
from skiff.apiserver.errors import ForbiddenError, NotFoundError, forbidden

__all__ = [
    "AdmissionChain",
    "AdmissionRequest",
    "DefaultTolerationSeconds",
    "Lookup",
    "NamespaceLifecycle",
    "Plugin",
    "PriorityAdmission",
    "ServiceAccountAdmission",
    "default_chain",
]

IMMORTAL_NAMESPACES = ("default", "kube-system", "kube-public")
DEFAULT_TOLERATION_SECONDS = 5
SYSTEM_PRIORITY_CLASSES = {
    "system-node-critical": 2000001000,
    "system-cluster-critical": 2000000000,
}


class Lookup(Protocol):
    """Read access the plugins need (implemented by the registry, served from the watch cache)."""

    async def get_object(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None: ...

    async def list_objects(self, kind: str, namespace: str) -> list[dict[str, Any]]: ...


@dataclass
class AdmissionRequest:
    info: ResourceInfo
    operation: str  # CREATE, UPDATE, DELETE, CONNECT
    namespace: str
    name: str
    obj: dict[str, Any] | None
    old: dict[str, Any] | None
    user: UserInfo
    subresource: str = ""
    dry_run: bool = False


class Plugin(Protocol):
    async def admit(self, req: AdmissionRequest, lookup: Lookup) -> None:
        """Mutate ``req.obj`` in place or raise ApiError. Called only by the chain."""
        ...


class NamespaceLifecycle:
    async def admit(self, req: AdmissionRequest, lookup: Lookup) -> None:
        if req.info.kind == "Namespace":
            if req.operation == "DELETE" and req.name in IMMORTAL_NAMESPACES:
                raise forbidden(
                    f'namespaces "{req.name}" is forbidden: this namespace may not be deleted',
                    req.info,
                    req.name,
                )
            return
        if not req.info.namespaced or req.operation != "CREATE":
            return
        ns = await lookup.get_object("Namespace", "", req.namespace)
        if ns is None:
            raise _ns_not_found(req.namespace)
        if req.info.kind == "Event" or req.subresource:
            # Events may be written while a namespace drains (Kubernetes exempts them too)
            return
        if (
            ns.get("metadata", {}).get("deletionTimestamp")
            or (ns.get("status") or {}).get("phase") == "Terminating"
        ):
            raise ForbiddenError(
                f'{req.info.group_resource} "{req.name}" is forbidden: unable to create new '
                f"content in namespace {req.namespace} because it is being terminated",
                details={
                    "name": req.name,
                    "kind": req.info.plural,
                    "causes": [
                        {
                            "reason": "NamespaceTerminating",
                            "message": f"namespace {req.namespace} is being terminated",
                            "field": "metadata.namespace",
                        }
                    ],
                },
            )


def _ns_not_found(namespace: str) -> NotFoundError:
    return NotFoundError(
        f'namespaces "{namespace}" not found',
        details={"name": namespace, "kind": "namespaces"},
    )


class ServiceAccountAdmission:
    def __init__(self, *, default_lookups: int = 10, retry_interval: float = 0.1) -> None:
        # Kubernetes: 10 lookups of the default account, rand(100..200) ms apart
        self.default_lookups = default_lookups
        self.retry_interval = retry_interval

    async def _exists(self, lookup: Lookup, namespace: str, name: str) -> bool:
        attempts = self.default_lookups if name == "default" else 1
        for attempt in range(max(1, attempts)):
            if attempt:
                await asyncio.sleep(self.retry_interval * (1 + random.random()))
            if await lookup.get_object("ServiceAccount", namespace, name) is not None:
                return True
        return False

    async def admit(self, req: AdmissionRequest, lookup: Lookup) -> None:
        if (
            req.info.kind != "Pod"
            or req.operation != "CREATE"
            or req.subresource
            or req.obj is None
        ):
            return
        spec = req.obj.setdefault("spec", {})
        name = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
        spec["serviceAccountName"] = name
        spec["serviceAccount"] = name
        if not await self._exists(lookup, req.namespace, name):
            raise forbidden(
                f'pods "{req.name}" is forbidden: error looking up service account '
                f'{req.namespace}/{name}: serviceaccount "{name}" not found',
                req.info,
                req.name,
            )


class PriorityAdmission:
    async def admit(self, req: AdmissionRequest, lookup: Lookup) -> None:
        if (
            req.info.kind != "Pod"
            or req.operation != "CREATE"
            or req.subresource
            or req.obj is None
        ):
            return
        spec = req.obj.setdefault("spec", {})
        class_name = spec.get("priorityClassName")
        if class_name:
            pc = await lookup.get_object("PriorityClass", "", class_name)
            if pc is None:
                raise forbidden(
                    f'pods "{req.name}" is forbidden: no PriorityClass with name {class_name} '
                    "was found",
                    req.info,
                    req.name,
                )
            value = int(pc.get("value", 0))
            policy = pc.get("preemptionPolicy", "PreemptLowerPriority")
        else:
            value, policy = 0, "PreemptLowerPriority"
            for pc in await lookup.list_objects("PriorityClass", ""):
                if pc.get("globalDefault"):
                    class_name = pc["metadata"]["name"]
                    value = int(pc.get("value", 0))
                    policy = pc.get("preemptionPolicy", policy)
                    spec["priorityClassName"] = class_name
                    break
        if "priority" in spec and spec["priority"] != value:
            raise forbidden(
                f'pods "{req.name}" is forbidden: the integer value of priority ({spec["priority"]})'
                f" must not be provided in pod spec; priority admission controller computed "
                f"{value} from the given PriorityClass name",
                req.info,
                req.name,
            )
        spec["priority"] = value
        spec.setdefault("preemptionPolicy", policy)


class DefaultTolerationSeconds:
    def __init__(self, seconds: int = DEFAULT_TOLERATION_SECONDS) -> None:
        self.seconds = seconds

    async def admit(self, req: AdmissionRequest, lookup: Lookup) -> None:
        if (
            req.info.kind != "Pod"
            or req.operation != "CREATE"
            or req.subresource
            or req.obj is None
        ):
            return
        spec = req.obj.setdefault("spec", {})
        tolerations: list[dict[str, Any]] = list(spec.get("tolerations") or [])
        for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
            if any(
                (t.get("key") == key or (not t.get("key") and t.get("operator") == "Exists"))
                and t.get("effect") in (None, "", "NoExecute")
                for t in tolerations
            ):
                continue
            tolerations.append(
                {
                    "key": key,
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": self.seconds,
                }
            )
        spec["tolerations"] = tolerations


class AdmissionChain:
    def __init__(self, mutating: list[Plugin], validating: list[Plugin]) -> None:
        self.mutating = mutating
        self.validating = validating

    async def mutate(self, req: AdmissionRequest, lookup: Lookup) -> None:
        for plugin in self.mutating:
            await plugin.admit(req, lookup)

    async def validate(self, req: AdmissionRequest, lookup: Lookup) -> None:
        for plugin in self.validating:
            await plugin.admit(req, lookup)


def default_chain(*, toleration_seconds: int = DEFAULT_TOLERATION_SECONDS) -> AdmissionChain:
    return AdmissionChain(
        # NamespaceLifecycle runs first so a missing namespace is reported as such rather than
        # as a missing service account; it does not mutate.
        mutating=[
            NamespaceLifecycle(),
            ServiceAccountAdmission(),
            PriorityAdmission(),
            DefaultTolerationSeconds(toleration_seconds),
        ],
        validating=[],
    )
