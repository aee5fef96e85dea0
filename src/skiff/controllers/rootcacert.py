"""The root CA publisher: a ``kube-root-ca.crt`` ConfigMap (key ``ca.crt``) in every namespace.

Kubernetes' ``pkg/controller/certificates/rootcacertpublisher``: pods mount this ConfigMap (through
the projected service-account volume) to verify the API server. A namespace being added or
changed, or the ConfigMap being changed or deleted, enqueues the namespace; ``sync`` creates the
ConfigMap when it is missing and puts ``data`` back to exactly ``{"ca.crt": <cluster CA>}`` when
someone changed it. Terminating namespaces are left alone. The CA comes from
``--root-ca-file`` (or the kubeconfig's CA); without one the controller does nothing.
"""

from __future__ import annotations

import logging

from skiff.client import AlreadyExists, Forbidden, FrozenDict, NotFound, WorkQueue, resolve, thaw
from skiff.controllers.base import ControllerContext, meta_of, run_workers

__all__ = ["CONFIGMAP", "RootCACertPublisher"]

log = logging.getLogger("skiff.controllers.rootcacert")

NAMESPACES = resolve(("v1", "Namespace"))
CONFIGMAPS = resolve(("v1", "ConfigMap"))
CONFIGMAP = "kube-root-ca.crt"
DESCRIPTION_KEY = "kubernetes.io/description"
DESCRIPTION = (
    "The cluster CA bundle, to verify the API server at kubernetes.default.svc or its "
    "service IP from inside a pod."
)


class RootCACertPublisher:
    name = "root-ca-certificate-publisher-controller"

    def __init__(self, ctx: ControllerContext) -> None:
        self.client = ctx.client
        self.workers = ctx.options.workers
        self.ca = ctx.options.root_ca
        self.queue: WorkQueue[str] = WorkQueue(name="root-ca-cert-publisher", clock=ctx.clock)
        self.namespaces = ctx.factory.informer(NAMESPACES)
        self.configmaps = ctx.factory.informer(
            CONFIGMAPS, field_selector=f"metadata.name={CONFIGMAP}"
        )
        self.namespaces.add_handler(
            on_add=self._namespace_changed, on_update=lambda _o, n: self._namespace_changed(n)
        )
        self.configmaps.add_handler(
            on_add=self._configmap_changed,
            on_update=lambda _o, n: self._configmap_changed(n),
            on_delete=self._configmap_changed,
        )

    def _namespace_changed(self, ns: FrozenDict) -> None:
        name = meta_of(ns).get("name")
        if name:
            self.queue.add(str(name))

    def _configmap_changed(self, cm: FrozenDict) -> None:
        meta = meta_of(cm)
        if meta.get("name") == CONFIGMAP and meta.get("namespace"):
            self.queue.add(str(meta["namespace"]))

    async def run(self) -> None:
        if not self.ca:
            log.warning("no root CA (--root-ca-file); %s ConfigMaps are not published", CONFIGMAP)
        try:
            await run_workers(self.queue, self.sync, self.workers, name="root-ca-cert-publisher")
        finally:
            self.queue.shut_down()

    async def sync(self, namespace: str) -> None:
        if not self.ca:
            return
        ns = self.namespaces.lister.get(namespace)
        if ns is None or meta_of(ns).get("deletionTimestamp"):
            return
        data = {"ca.crt": self.ca}
        cm = self.configmaps.lister.get(CONFIGMAP, namespace=namespace)
        try:
            if cm is None:
                body = {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": CONFIGMAP, "annotations": {DESCRIPTION_KEY: DESCRIPTION}},
                    "data": data,
                }
                await self.client.create(CONFIGMAPS, body, namespace=namespace)
                return
            annotations = meta_of(cm).get("annotations") or {}
            if cm.get("data") == data and annotations.get(DESCRIPTION_KEY) == DESCRIPTION:
                return
            fixed = thaw(cm)
            fixed["data"] = data
            fixed.pop("binaryData", None)
            fixed["metadata"].setdefault("annotations", {})[DESCRIPTION_KEY] = DESCRIPTION
            await self.client.update(CONFIGMAPS, fixed, namespace=namespace)
        except (AlreadyExists, NotFound, Forbidden):
            pass  # created meanwhile (the informer will tell), or the namespace is going
