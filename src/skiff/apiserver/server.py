"""The API server process: store -> watch cache -> registry -> HTTP, plus bootstrap and housekeeping.

``ApiServer`` is wiring: it owns everything it starts (structured concurrency): the watch cache
feed, uvicorn, and storage housekeeping only (compaction, allocation repair, serving-certificate
renewal). It takes an opened ``Store``; which backend that is, is the composition root's decision
(``skiff.cmd``). Control loops (garbage collection, namespace deletion, default ServiceAccounts,
``kube-root-ca.crt``, PodDisruptionBudget status, Event expiry) run in the controller-manager
(``skiff.controllers``), which reaches this server over HTTP like any client.

Bootstrap (idempotent, every start): namespaces default, kube-system, kube-public and
kube-node-lease; the PriorityClasses system-node-critical and system-cluster-critical; the
``default/kubernetes`` Service and its Endpoints; with a join token, the node-token signing key
(``skiff.apiserver.nodejoin``).

Allocation (``skiff.apiserver.allocation``): Node pod CIDRs (``cluster_cidr`` in
``node_cidr_mask_size`` blocks), Service ClusterIPs and NodePorts come from bitmap records in the
store changed by compare-and-swap, so several API servers never hand out the same value; they are
released when their object is deleted, and a repair loop reclaims what leaks.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from skiff.api import resources as kinds
from skiff.apiserver.admission import SYSTEM_PRIORITY_CLASSES, default_chain
from skiff.apiserver.allocation import PodCIDRAllocation, ServiceAllocation, run_repairs
from skiff.apiserver.allocator import RangeAllocator, cidr_blocks, ip_range, port_range
from skiff.apiserver.app import ApiServerApp, build_app
from skiff.apiserver.audit import AuditLog
from skiff.apiserver.auth import NodeTokenAuthenticator, TokenAuthenticator, UserInfo
from skiff.apiserver.crd import CustomResources
from skiff.apiserver.crdapiservice import reconcile_api_services
from skiff.apiserver.crdcleanup import cleanup_terminating, reconcile_names
from skiff.apiserver.errors import AlreadyExistsError, NotFoundError
from skiff.apiserver.health import server_checks
from skiff.apiserver.metrics import ApiMetrics
from skiff.apiserver.nodejoin import NodeJoin
from skiff.apiserver.objects import ValueTransformer
from skiff.apiserver.registry import Registry, RequestContext
from skiff.apiserver.strategies import build_strategies
from skiff.apiserver.strategies.apiservice import local_api_services
from skiff.apiserver.watch import cache_codec, strategy_fields
from skiff.apiserver.watchcache import WatchCache
from skiff.store import Compactor, Revision, Store
from skiff.util.websocket import KubernetesWebSocketProtocol

__all__ = ["ApiServer", "ApiServerConfig"]

log = logging.getLogger("skiff.apiserver")

SYSTEM_USER = UserInfo("system:apiserver", ("system:masters",))
BOOTSTRAP_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
# read (never written) by the store and watch-cache health checks, as kube-apiserver's etcd
# check reads one key
_HEALTH_KEY = "/registry/health"


@dataclass
class ApiServerConfig:
    bind_address: str = "127.0.0.1"
    port: int = 6443
    cert_file: str | None = None
    key_file: str | None = None
    tokens: dict[str, UserInfo] = field(default_factory=dict)
    anonymous: bool = False
    cluster_cidr: str = "10.42.0.0/16"
    service_cidr: str = "10.43.0.0/16"
    node_port_range: tuple[int, int] = (30000, 32767)
    node_cidr_mask_size: int = 24
    advertise_address: str = "127.0.0.1"
    watch_window: int = 10_000
    bookmark_interval: float = 5.0
    toleration_seconds: int = 5
    access_log: bool = False
    compact_keep: int = 10_000
    compact_interval: float = 60.0
    transformer: ValueTransformer | None = None
    # called every cert_check_interval seconds (in a thread); returns True when it wrote a new
    # serving certificate, which is then loaded for new connections without a restart
    cert_renewer: Callable[[], bool] | None = None
    cert_check_interval: float = 3600.0
    max_requests_inflight: int = 400
    max_mutating_requests_inflight: int = 200
    audit_log_path: str | None = None
    audit_log_max_bytes: int = 100 * 1024 * 1024
    # how node agents are reached for logs/exec/attach/port-forward/nodes proxy (kube-apiserver's
    # --kubelet-certificate-authority, --kubelet-client-certificate, --kubelet-client-key):
    # the CA agents' serving certificates are verified against (None: not verified) and the
    # client certificate presented to them (None: none); see ApiServerApp
    kubelet_certificate_authority: str | None = None
    kubelet_client_certificate: str | None = None
    kubelet_client_key: str | None = None
    # node agents joining (skiff.apiserver.nodejoin): with a join token and the cluster CA's
    # certificate and key (which signs agents' serving certificates) the server answers
    # /cacerts and /v1-skiff/node-credentials(/renew) and accepts node tokens;
    # kubelet_client_ca_file is the CA agents' endpoints require of clients (handed to them)
    join_token: str | None = None
    cluster_signing_cert_file: str | None = None
    cluster_signing_key_file: str | None = None
    kubelet_client_ca_file: str | None = None
    # the longest a node credential (token and serving certificate) lives
    # (--node-credential-lifetime); agents renew at two thirds of it
    node_credential_lifetime: float = 30 * 24 * 3600.0


class ApiServer:
    def __init__(self, store: Store, config: ApiServerConfig) -> None:
        self.store = store
        self.config = config
        # history is kept for a while so watches can resume and paged lists stay consistent
        self.compactor = Compactor(
            store, keep=config.compact_keep, interval=config.compact_interval
        )
        self.service_network = ipaddress.ip_network(config.service_cidr)
        # the first service address belongs to the "kubernetes" Service (the API itself)
        self.kubernetes_service_ip = str(next(self.service_network.hosts()))
        self.pod_cidrs = RangeAllocator(
            store,
            "podcidrs",
            cidr_blocks(config.cluster_cidr, config.node_cidr_mask_size),
            what="pod CIDR",
        )
        self.service_ips = RangeAllocator(
            store,
            "serviceips",
            ip_range(config.service_cidr, reserved=[self.kubernetes_service_ip]),
            what="ClusterIP",
        )
        self.node_ports = RangeAllocator(
            store, "nodeports", port_range(*config.node_port_range), what="NodePort"
        )
        self.service_allocation = ServiceAllocation(
            cluster_ips=self.service_ips,
            node_ports=self.node_ports,
            list_services=self._live_services,
            get_service=self._service,
        )
        self.pod_cidr_allocation = PodCIDRAllocation(
            pod_cidrs=self.pod_cidrs, list_nodes=self._live_nodes, get_node=self._node
        )
        # the custom resources CRDs define, served without a restart (skiff.apiserver.crd)
        self.custom = CustomResources()
        strategies = build_strategies(
            service_allocation=self.service_allocation,
            node_allocation=self.pod_cidr_allocation,
            crds=self.custom.crds,
        )
        # the watch cache computes each object's selectable fields once, through its strategy
        self.cache = WatchCache(
            store,
            window=config.watch_window,
            codec=cache_codec(config.transformer, fields=self._fields(strategy_fields(strategies))),
        )
        self.registry = Registry(
            self.cache,
            admission=default_chain(toleration_seconds=config.toleration_seconds),
            store=store,
            wait_fresh=self._wait_fresh,
            transformer=config.transformer,
            strategies=strategies,
        )
        self._ready = False
        self.node_tokens = NodeTokenAuthenticator()
        self.node_join: NodeJoin | None = None
        if (
            config.join_token
            and config.cluster_signing_cert_file
            and config.cluster_signing_key_file
            and config.kubelet_client_ca_file
        ):
            self.node_join = NodeJoin(
                self.registry,
                self.node_tokens,
                join_token=config.join_token,
                ca_cert_file=config.cluster_signing_cert_file,
                ca_key_file=config.cluster_signing_key_file,
                client_ca_file=config.kubelet_client_ca_file,
                lifetime=config.node_credential_lifetime,
            )
        authn = None
        if not config.anonymous:
            authn = TokenAuthenticator(dict(config.tokens), nodes=self.node_tokens)
        self.api = ApiServerApp(
            self.registry,
            authenticator=authn,
            server_address=f"{config.advertise_address}:{config.port}",
            bookmark_interval=config.bookmark_interval,
            ready=server_checks(
                store_read=lambda: store.get(_HEALTH_KEY),
                cache_read=lambda: self.cache.get(_HEALTH_KEY),
                bootstrapped=lambda: self._ready,
                stopping=lambda: self.uvicorn is not None and self.uvicorn.should_exit,
            ),
            metrics=ApiMetrics(self._storage_stats),
            max_readonly_inflight=config.max_requests_inflight,
            max_mutating_inflight=config.max_mutating_requests_inflight,
            kubelet_certificate_authority=config.kubelet_certificate_authority,
            kubelet_client_certificate=config.kubelet_client_certificate,
            kubelet_client_key=config.kubelet_client_key,
            node_join=self.node_join,
            custom=self.custom,
            audit=(
                AuditLog(Path(config.audit_log_path), max_bytes=config.audit_log_max_bytes)
                if config.audit_log_path
                else None
            ),
        )
        self.app = build_app(self.api)
        self.uvicorn: uvicorn.Server | None = None

    def _storage_stats(self) -> dict[str, float]:
        stats = self.cache.statistics()
        return {
            "skiff_store_revision": float(self.store.current_revision()),
            "skiff_watch_cache_revision": float(stats.revision),
            "skiff_watch_cache_oldest_revision": float(stats.oldest_revision),
            "skiff_watch_cache_objects": float(stats.objects),
            "skiff_watch_cache_watchers": float(stats.watch.subscribers),
            "skiff_watch_cache_dropped_watchers": float(stats.watch.dropped_subscribers),
            "skiff_watch_cache_relists": float(stats.relists),
        }

    async def _wait_fresh(self, revision: int) -> None:
        await self.cache.wait_for_revision(Revision(revision), timeout=10)

    # ------------------------------------------------------------------ lifecycle

    async def run(self, *, started: asyncio.Event | None = None) -> None:
        """Serve until cancelled (or uvicorn is told to exit); release everything on the way out."""
        await self.cache.start()
        try:
            await self.bootstrap()
            self._ready = True
            async with asyncio.TaskGroup() as tg:
                tg.create_task(self.compactor.run(), name="skiff-compactor")
                tg.create_task(
                    run_repairs((self.service_allocation, self.pod_cidr_allocation)),
                    name="skiff-allocation-repair",
                )
                tg.create_task(
                    self.custom.run(self.cache, self.registry.decode, on_crds=self._cleanup_crds),
                    name="skiff-crds",
                )
                if self.config.cert_renewer is not None:
                    tg.create_task(self._cert_loop(self.config.cert_renewer), name="skiff-certs")
                serve = tg.create_task(self._serve(started), name="skiff-uvicorn")
                await serve
                raise _Stop
        except* _Stop:
            pass
        finally:
            self._ready = False
            if self.api.audit is not None:
                self.api.audit.close()
            await self.cache.close()

    async def _serve(self, started: asyncio.Event | None) -> None:
        cfg = self.config
        kwargs: dict[str, Any] = {}
        if cfg.cert_file and cfg.key_file:
            kwargs.update(
                ssl_certfile=cfg.cert_file,
                ssl_keyfile=cfg.key_file,
                ssl_version=ssl.PROTOCOL_TLS_SERVER,
            )
        uconfig = uvicorn.Config(
            self.app,
            host=cfg.bind_address,
            port=cfg.port,
            log_level="warning",
            access_log=cfg.access_log,
            lifespan="off",
            # httptools parses HTTP/1.1 in C; h11 costs several times more per request
            http="httptools",
            # WebSocket upgrades (exec, attach, port-forward) with kubectl's subprotocols
            ws=KubernetesWebSocketProtocol,
            timeout_keep_alive=120,
            # watches are long-lived: give them a moment to end, then close them on shutdown
            timeout_graceful_shutdown=3,
            backlog=4096,
            **kwargs,
        )
        server = uvicorn.Server(uconfig)
        self.uvicorn = server
        waiter = asyncio.create_task(self._signal_started(server, started))
        try:
            await server.serve()
        finally:
            waiter.cancel()
            await asyncio.gather(waiter, return_exceptions=True)

    async def _signal_started(self, server: uvicorn.Server, started: asyncio.Event | None) -> None:
        # uvicorn exposes readiness only as a flag
        while not server.started:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        if started is not None:
            started.set()

    async def _cert_loop(self, renew: Callable[[], bool]) -> None:
        """Renew the serving certificate before it expires, without dropping a connection."""
        cfg = self.config
        while True:
            await asyncio.sleep(cfg.cert_check_interval)
            try:
                changed = await asyncio.to_thread(renew)
            except Exception:
                log.exception("serving certificate renewal failed; retrying later")
                continue
            ssl_context = self.uvicorn.config.ssl if self.uvicorn is not None else None
            if changed and ssl_context is not None and cfg.cert_file and cfg.key_file:
                # new handshakes use the new certificate; open connections keep theirs
                ssl_context.load_cert_chain(cfg.cert_file, cfg.key_file)
                log.info("serving certificate renewed")

    def _fields(
        self, builtin: Callable[[str, Any], Mapping[str, str]]
    ) -> Callable[[str, Any], Mapping[str, str]]:
        """Selectable fields for the watch cache: a custom object's through its strategy
        (``selectableFields``), a built-in one's as before."""

        def fields(key: str, obj: Any) -> Mapping[str, str]:
            info = self.custom.storage_info_for_key(key)
            if info is not None:
                return self.registry.strategy(info).selectable_fields(obj)
            return builtin(key, obj)

        return fields

    async def _cleanup_crds(self, crds: list[dict[str, Any]]) -> bool:
        """Names freed for CRDs that were refused them, and the customresourcecleanup
        finalizer of CRDs being deleted; the APIServices of the CRDs' group/versions."""
        await reconcile_names(self.registry, crds)
        try:
            await reconcile_api_services(self.registry, crds)
        except Exception:
            log.exception("keeping the CRD groups' APIServices failed")
        return await cleanup_terminating(self.registry, crds)

    @property
    def bound_port(self) -> int:
        """The port uvicorn listens on (useful with port 0)."""
        assert self.uvicorn is not None
        for srv in self.uvicorn.servers:
            for sock in srv.sockets:
                return int(sock.getsockname()[1])
        raise RuntimeError("server not listening")

    def stop(self) -> None:
        if self.uvicorn is not None:
            self.uvicorn.should_exit = True

    # ------------------------------------------------------------------ bootstrap

    async def bootstrap(self) -> None:
        ctx = RequestContext(user=SYSTEM_USER, field_manager="skiff-apiserver")
        ns_info = kinds.by_resource("", "v1", "namespaces")
        pc_info = kinds.by_resource("scheduling.k8s.io", "v1", "priorityclasses")
        assert ns_info is not None and pc_info is not None
        for name in BOOTSTRAP_NAMESPACES:
            await self._ensure(
                ns_info,
                "",
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
                ctx,
            )
        for name, value in SYSTEM_PRIORITY_CLASSES.items():
            await self._ensure(
                pc_info,
                "",
                {
                    "apiVersion": "scheduling.k8s.io/v1",
                    "kind": "PriorityClass",
                    "metadata": {"name": name},
                    "value": value,
                    "description": "Used for system critical pods that must run in the cluster, "
                    "but can be moved to another node if necessary."
                    if name == "system-cluster-critical"
                    else "Used for system critical pods that must not be moved from their current node.",
                },
                ctx,
            )
        await self._ensure_kubernetes_service(ctx)
        api_services = kinds.by_resource("apiregistration.k8s.io", "v1", "apiservices")
        assert api_services is not None
        for api_service in local_api_services():  # as kube-apiserver's autoregister controller
            await self._ensure(api_services, "", api_service, ctx)
        if self.node_join is not None:
            await self.node_join.load_key()

    async def _ensure_kubernetes_service(self, ctx: RequestContext) -> None:
        """The ``default/kubernetes`` Service and its Endpoints: how pods reach the API."""
        svc_info = kinds.by_resource("", "v1", "services")
        ep_info = kinds.by_resource("", "v1", "endpoints")
        assert svc_info is not None and ep_info is not None
        labels = {"component": "apiserver", "provider": "kubernetes"}
        await self._ensure(
            svc_info,
            "default",
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "kubernetes", "labels": labels},
                "spec": {
                    "clusterIP": self.kubernetes_service_ip,
                    "ports": [
                        {
                            "name": "https",
                            "port": 443,
                            "protocol": "TCP",
                            "targetPort": self.config.port or 6443,
                        }
                    ],
                    "sessionAffinity": "None",
                    "type": "ClusterIP",
                },
            },
            ctx,
        )
        endpoints = {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {
                "name": "kubernetes",
                "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"},
            },
            "subsets": [
                {
                    "addresses": [{"ip": self.config.advertise_address}],
                    "ports": [
                        {"name": "https", "port": self.config.port or 6443, "protocol": "TCP"}
                    ],
                }
            ],
        }
        with contextlib.suppress(NotFoundError):
            await self.registry.update(ep_info, "default", "kubernetes", endpoints, ctx)

    async def _ensure(
        self, info: kinds.ResourceInfo, namespace: str, obj: dict[str, Any], ctx: RequestContext
    ) -> None:
        with contextlib.suppress(AlreadyExistsError):
            await self.registry.create(info, namespace, obj, ctx)

    # ------------------------------------------------------------------ allocation

    async def _live(self, kind: str) -> list[dict[str, Any]]:
        # fresh: the repair pass read the range records first, so the list must be at least
        # as new as they were (a value released after a delete must not look held)
        await self.registry.fresh()
        return await self.registry.list_objects(kind, "")

    async def _live_nodes(self) -> list[dict[str, Any]]:
        return await self._live("Node")

    async def _live_services(self) -> list[dict[str, Any]]:
        return await self._live("Service")

    async def _node(self, _namespace: str, name: str) -> dict[str, Any] | None:
        return await self.registry.get_object("Node", "", name)

    async def _service(self, namespace: str, name: str) -> dict[str, Any] | None:
        return await self.registry.get_object("Service", namespace, name)


class _Stop(Exception):
    pass
