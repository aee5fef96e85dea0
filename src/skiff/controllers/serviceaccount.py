"""The service-accounts controller: a ``default`` ServiceAccount in every active namespace.

Kubernetes' ``pkg/controller/serviceaccount`` ``ServiceAccountsController``: a namespace being
added or changed, or its ``default`` account being deleted, enqueues the namespace; ``sync`` creates
the account when the namespace is active and the cache does not have it (``AlreadyExists`` means
another writer was first). Terminating namespaces are left alone. Until the account exists the
ServiceAccount admission plugin refuses pods in that namespace.
"""

from __future__ import annotations

import contextlib

from skiff.client import AlreadyExists, Forbidden, FrozenDict, NotFound, WorkQueue, resolve
from skiff.controllers.base import ControllerContext, meta_of, run_workers

__all__ = ["ServiceAccountsController"]

NAMESPACES = resolve(("v1", "Namespace"))
SERVICE_ACCOUNTS = resolve(("v1", "ServiceAccount"))
ACCOUNTS = ("default",)


class ServiceAccountsController:
    name = "serviceaccount-controller"

    def __init__(self, ctx: ControllerContext) -> None:
        self.client = ctx.client
        self.workers = ctx.options.workers
        self.queue: WorkQueue[str] = WorkQueue(name="serviceaccount", clock=ctx.clock)
        self.namespaces = ctx.factory.informer(NAMESPACES)
        self.accounts = ctx.factory.informer(SERVICE_ACCOUNTS)
        self.namespaces.add_handler(
            on_add=self._namespace_changed, on_update=lambda _o, n: self._namespace_changed(n)
        )
        self.accounts.add_handler(on_delete=self._account_deleted)

    def _namespace_changed(self, ns: FrozenDict) -> None:
        name = meta_of(ns).get("name")
        if name:
            self.queue.add(str(name))

    def _account_deleted(self, sa: FrozenDict) -> None:
        meta = meta_of(sa)
        if meta.get("name") in ACCOUNTS and meta.get("namespace"):
            self.queue.add(str(meta["namespace"]))

    async def run(self) -> None:
        try:
            await run_workers(self.queue, self.sync, self.workers, name="serviceaccount")
        finally:
            self.queue.shut_down()

    async def sync(self, namespace: str) -> None:
        ns = self.namespaces.lister.get(namespace)
        if ns is None or meta_of(ns).get("deletionTimestamp"):
            return
        for name in ACCOUNTS:
            if self.accounts.lister.get(name, namespace=namespace) is not None:
                continue
            body = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}}
            # AlreadyExists: created meanwhile; NotFound/Forbidden: the namespace went or is going
            with contextlib.suppress(AlreadyExists, NotFound, Forbidden):
                await self.client.create(SERVICE_ACCOUNTS, body, namespace=namespace)
