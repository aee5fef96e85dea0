"""Services: ClusterIP and NodePorts come from an injected ``Allocation``; an update that leaves
them empty keeps the allocated ones.

Kubernetes: pkg/registry/core/service/strategy.go (``patchAllocatedValues`` in
``PrepareForUpdate``), service/storage/storage.go (allocation in ``beginCreate``/``beginUpdate``,
release in ``afterDelete``, ``ReturnDeletedObject: true``).
"""

from __future__ import annotations

from typing import Any

from skiff.api.resources import ResourceInfo
from skiff.apiserver.context import RequestContext
from skiff.apiserver.strategies._base import Allocation, DefaultStrategy, NoAllocation

__all__ = ["ServiceStrategy", "keep_allocated_values"]


_NODE_PORT_TYPES = ("NodePort", "LoadBalancer")


def _needs_cluster_ip(spec: dict[str, Any]) -> bool:
    return spec.get("type") != "ExternalName"


def keep_allocated_values(new: dict[str, Any], old: dict[str, Any]) -> None:
    """An update that leaves a Service's ClusterIP or NodePorts empty keeps the allocated ones
    (Kubernetes' patchAllocatedValues), so ``kubectl apply``/``replace`` of a manifest without
    them does not try to change immutable fields. Only values both the old and the new type use
    are kept: a Service turning into an ExternalName gives its ClusterIP up."""
    spec, old_spec = new.get("spec"), old.get("spec") or {}
    if not isinstance(spec, dict):
        return
    if (
        _needs_cluster_ip(old_spec)
        and _needs_cluster_ip(spec)
        and not spec.get("clusterIP")
        and old_spec.get("clusterIP")
    ):
        spec["clusterIP"] = old_spec["clusterIP"]
        if old_spec.get("clusterIPs"):
            spec["clusterIPs"] = list(old_spec["clusterIPs"])
    if spec.get("type") in _NODE_PORT_TYPES and old_spec.get("type") in _NODE_PORT_TYPES:
        old_ports = {
            (p.get("port"), p.get("protocol", "TCP")): p.get("nodePort")
            for p in old_spec.get("ports") or []
            if isinstance(p, dict) and p.get("nodePort")
        }
        for port in spec.get("ports") or []:
            if isinstance(port, dict) and not port.get("nodePort"):
                held = old_ports.get((port.get("port"), port.get("protocol", "TCP")))
                if held:
                    port["nodePort"] = held


class ServiceStrategy(DefaultStrategy):
    def __init__(self, info: ResourceInfo, allocation: Allocation | None = None) -> None:
        super().__init__(info, return_deleted_object=True)
        self.allocation: Allocation = allocation or NoAllocation()

    def prepare_for_update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        keep_allocated_values(new, old)
        super().prepare_for_update(new, old)

    async def before_write(
        self, obj: dict[str, Any], old: dict[str, Any] | None, ctx: RequestContext
    ) -> None:
        await self.allocation.before_write(obj, old)

    async def after_delete(self, obj: dict[str, Any]) -> None:
        await self.allocation.after_delete(obj)
