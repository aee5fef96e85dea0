"""DefaultBinder (Bind): POST ``pods/<name>/binding`` with a Binding to the chosen node."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from skiff.scheduler.framework import CycleState, Handle, Status
from skiff.scheduler.types import PodInfo

NAME = "DefaultBinder"


class DefaultBinder:
    name = NAME

    def __init__(self, handle: Handle) -> None:
        self.handle = handle

    async def bind(self, state: CycleState, pod: PodInfo, node_name: str) -> Status:
        from skiff.client import ClientError

        body = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": pod.name, "namespace": pod.namespace, "uid": pod.uid},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node_name},
        }
        try:
            await self.handle.client.create_subresource(
                "pods", pod.name, "binding", body, namespace=pod.namespace
            )
        except ClientError as e:
            return Status.error(f"binding rejected: {e}")
        return Status()


def new(args: Mapping[str, Any], handle: Handle) -> DefaultBinder:
    return DefaultBinder(handle)
