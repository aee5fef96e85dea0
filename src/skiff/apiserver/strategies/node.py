"""Nodes: registered with their status (the agent writes it on create); the pod CIDR comes
from an injected ``Allocation``.

Kubernetes: pkg/registry/core/node/strategy.go (``PrepareForCreate`` keeps status; the
node-ipam controller allocates ``spec.podCIDR``, which skiff does in the API server) and
node/storage/storage.go (``ReturnDeletedObject: true``).
"""

from __future__ import annotations

from typing import Any

from skiff.api.resources import ResourceInfo
from skiff.apiserver.context import RequestContext
from skiff.apiserver.strategies._base import Allocation, DefaultStrategy, NoAllocation

__all__ = ["NodeStrategy"]


class NodeStrategy(DefaultStrategy):
    def __init__(self, info: ResourceInfo, allocation: Allocation | None = None) -> None:
        super().__init__(info, return_deleted_object=True)
        self.allocation: Allocation = allocation or NoAllocation()

    def prepare_for_create(self, obj: dict[str, Any]) -> None:
        # the agent registers a Node together with its status: keep it (what it lacks reads
        # as Kubernetes' zero NodeStatus)
        obj.setdefault("metadata", {})["generation"] = 1
        self._zero_status(obj)

    async def before_write(
        self, obj: dict[str, Any], old: dict[str, Any] | None, ctx: RequestContext
    ) -> None:
        await self.allocation.before_write(obj, old)

    async def after_delete(self, obj: dict[str, Any]) -> None:
        await self.allocation.after_delete(obj)
