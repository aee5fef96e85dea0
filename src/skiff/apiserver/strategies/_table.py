"""The strategy table: one ``ResourceStrategy`` per served kind, built once per registry.

Kinds not named here get ``DefaultStrategy``; so does a kind served later (a
CustomResourceDefinition's resources) through ``strategy_for``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from skiff.api.resources import RESOURCES, ResourceInfo
from skiff.apiserver.crd import served_infos
from skiff.apiserver.strategies._base import (
    Allocation,
    DefaultStrategy,
    GroupKind,
    ResourceStrategy,
)
from skiff.apiserver.strategies.apiservice import APIServiceStrategy
from skiff.apiserver.strategies.customresource import (
    CustomResourceDefinitionStrategy,
    CustomResourceStrategy,
)
from skiff.apiserver.strategies.job import JobStrategy
from skiff.apiserver.strategies.namespace import NamespaceStrategy
from skiff.apiserver.strategies.node import NodeStrategy
from skiff.apiserver.strategies.pod import PodStrategy
from skiff.apiserver.strategies.secret import SecretStrategy
from skiff.apiserver.strategies.service import ServiceStrategy
from skiff.apiserver.strategies.storage import (
    PersistentVolumeClaimStrategy,
    PersistentVolumeStrategy,
)

__all__ = ["build_strategies", "strategy_for"]

_RBAC = "rbac.authorization.k8s.io"

# Kinds a PUT may create (Kubernetes' AllowCreateOnUpdate: endpoints, leases, events, RBAC and
# priority classes).
_CREATE_ON_UPDATE = frozenset(
    {
        GroupKind("", "Endpoints"),
        GroupKind("", "Event"),
        GroupKind("coordination.k8s.io", "Lease"),
        GroupKind("scheduling.k8s.io", "PriorityClass"),
        GroupKind(_RBAC, "Role"),
        GroupKind(_RBAC, "ClusterRole"),
        GroupKind(_RBAC, "RoleBinding"),
        GroupKind(_RBAC, "ClusterRoleBinding"),
    }
)


def strategy_for(info: ResourceInfo) -> ResourceStrategy:
    """The default strategy of a kind without its own module (a custom resource's when
    ``info.custom`` is set)."""
    if info.custom is not None:
        return CustomResourceStrategy(info)
    return DefaultStrategy(info, allow_create_on_update=GroupKind.of(info) in _CREATE_ON_UPDATE)


def _served_custom(crds: Callable[[], list[dict[str, Any]]]) -> tuple[ResourceInfo, ...]:
    return tuple(info for crd in crds() for info in served_infos(crd))


def build_strategies(
    *,
    service_allocation: Allocation | None = None,
    node_allocation: Allocation | None = None,
    crds: Callable[[], list[dict[str, Any]]] | None = None,
) -> dict[GroupKind, ResourceStrategy]:
    """The strategy of every served kind. The allocations are the API server's range
    allocators (None: allocate nothing, for registries built without a server); ``crds``
    gives the CustomResourceDefinitions the server serves (for name conflicts)."""
    special: dict[GroupKind, Callable[[ResourceInfo], ResourceStrategy]] = {
        GroupKind("", "Pod"): PodStrategy,
        GroupKind("", "Namespace"): NamespaceStrategy,
        GroupKind("", "Secret"): SecretStrategy,
        GroupKind("", "Service"): lambda info: ServiceStrategy(info, service_allocation),
        GroupKind("", "Node"): lambda info: NodeStrategy(info, node_allocation),
        GroupKind("batch", "Job"): JobStrategy,
        GroupKind("", "PersistentVolume"): PersistentVolumeStrategy,
        GroupKind("", "PersistentVolumeClaim"): PersistentVolumeClaimStrategy,
        GroupKind("apiregistration.k8s.io", "APIService"): lambda info: APIServiceStrategy(
            info, None if crds is None else lambda: _served_custom(crds)
        ),
        GroupKind("apiextensions.k8s.io", "CustomResourceDefinition"): lambda info: (
            CustomResourceDefinitionStrategy(info, crds)
        ),
    }
    table: dict[GroupKind, ResourceStrategy] = {}
    for info in RESOURCES:
        if not info.is_storage_version:
            continue  # the storage version's entry describes the kind
        gk = GroupKind.of(info)
        table[gk] = special.get(gk, strategy_for)(info)
    return table
