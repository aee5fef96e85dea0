"""``skiff agent``: the node agent (kubelet's role) for this host, or ``--simulate N`` fake nodes;
``skiff agent cleanup`` removes everything an agent made on the host.

Composition root of the agent: it picks the runtime (runc, process or fake), the pod network
(the ``skiff0`` bridge for runc) and the image store (`_make_runtime`, `_make_network`,
`_make_images`), joins with the token for the node's own credential (`_credentials`, renewed in
`_serve_endpoint`) and serves the agent's HTTPS endpoint (`_serve_endpoint`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import shutil
import signal
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

from skiff.agent import identity
from skiff.agent.agent import Agent, AgentOptions
from skiff.agent.eviction import (
    DEFAULT_EVICTION_HARD,
    EvictionManager,
    PodUsage,
    Threshold,
    parse_thresholds,
)
from skiff.agent.eviction import observe as observe_node
from skiff.agent.node import NodeOptions
from skiff.agent.server import AgentServer
from skiff.agent.simulate import SimulateOptions, Simulator
from skiff.client import Client, Config, load_kubeconfig
from skiff.network.base import PodNetwork
from skiff.network.fake import FakeNetwork
from skiff.runtime.base import Runtime
from skiff.runtime.fake import FakeImages, FakeRuntime
from skiff.runtime.images.base import ImageService
from skiff.runtime.images.policy import PolicyError, RegistryPolicy
from skiff.runtime.images.store import ImageStore
from skiff.util.clock import SystemClock

__all__ = [
    "AgentSetupError",
    "Cleanable",
    "add_agent_flags",
    "run_agent",
    "run_agent_cleanup",
]

log = logging.getLogger("skiff.agent")


@runtime_checkable
class Cleanable(Protocol):
    """A runtime that can remove everything it made (``skiff agent cleanup``)."""

    async def cleanup(self) -> None: ...


class AgentSetupError(Exception):
    """The agent cannot start as asked (message says what to change)."""


def _default_runtime() -> str:
    return "runc" if os.geteuid() == 0 and shutil.which("runc") else "process"


def _pairs(values: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        for item in value.split(","):
            if not item.strip():
                continue
            key, sep, val = item.partition("=")
            if not sep:
                raise argparse.ArgumentTypeError(f"expected key=value, got {item!r}")
            out[key.strip()] = val.strip()
    return out


def _taints(values: list[str]) -> list[dict[str, Any]]:
    """``key=value:Effect`` or ``key:Effect`` (kubelet ``--register-with-taints``)."""
    out = []
    for value in values:
        for item in value.split(","):
            if not item.strip():
                continue
            kv, sep, effect = item.rpartition(":")
            if not sep or effect not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
                raise argparse.ArgumentTypeError(f"expected key=value:Effect, got {item!r}")
            key, _, val = kv.partition("=")
            taint: dict[str, Any] = {"key": key, "effect": effect}
            if val:
                taint["value"] = val
            out.append(taint)
    return out


def add_agent_flags(p: argparse.ArgumentParser, *, standalone: bool) -> None:
    """The agent's flags (``standalone``: for ``skiff agent``; otherwise the subset ``skiff
    server`` passes through to its local agent)."""
    if standalone:
        p.add_argument(
            "action", nargs="?", choices=["run", "cleanup"], default="run", help=argparse.SUPPRESS
        )
        p.add_argument("--server", default="", help="API server URL (https://host:6443)")
        p.add_argument("--token", default="", help="join token (K10<ca hash>::<secret>)")
        p.add_argument(
            "--token-file",
            type=Path,
            default=None,
            help="read the join token from this file (keeps it out of the process list)",
        )
        p.add_argument(
            "--credential-lifetime",
            type=float,
            default=0.0,
            help="seconds the node credential should live (default: the server's, 30 days)",
        )
        p.add_argument(
            "--kubeconfig",
            type=Path,
            default=None,
            help="use this kubeconfig's credentials instead of joining (tests, development)",
        )
        p.add_argument("--data-dir", type=Path, default=None, help="state directory")
        p.add_argument(
            "--ready-file", type=Path, default=None, help="write the pid here once ready"
        )
        p.add_argument(
            "--cluster-cidr", default="10.42.0.0/16", help="pod network (default 10.42.0.0/16)"
        )
        p.add_argument(
            "--service-cidr", default="10.43.0.0/16", help="service range (default 10.43.0.0/16)"
        )
        p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    p.add_argument("--node-name", default="", help="node name (default: the hostname)")
    p.add_argument(
        "--node-ip",
        default="",
        help="this node's InternalIP (default: the address used to reach the server)",
    )
    p.add_argument("--agent-port", type=int, default=10250, help="agent HTTPS port (default 10250)")
    p.add_argument(
        "--runtime",
        choices=["runc", "process", "fake"],
        default=None,
        help="container runtime (default: runc as root when installed, else process)",
    )
    p.add_argument(
        "--offline", action="store_true", help="pull only from loopback/allowlisted registries"
    )
    p.add_argument("--registries", type=Path, default=None, help="registries.yaml")
    if not standalone:
        return
    p.add_argument(
        "--eviction-hard",
        default=DEFAULT_EVICTION_HARD,
        # argparse formats help with %: the default's percentages must be doubled
        help="node-pressure eviction thresholds, kubelet's syntax (default "
        f"{DEFAULT_EVICTION_HARD.replace('%', '%%')!r}; empty: off)",
    )
    p.add_argument(
        "--image-gc-high-threshold",
        type=int,
        default=85,
        help="disk use (%%) above which unused images are removed (default 85; 100: never)",
    )
    p.add_argument(
        "--image-gc-low-threshold",
        type=int,
        default=80,
        help="disk use (%%) image garbage collection brings it down to (default 80)",
    )
    p.add_argument(
        "--simulate", type=int, default=0, help="run N fake nodes <node-name>-<i> in this process"
    )
    p.add_argument(
        "--lease-period", type=float, default=2.0, help="seconds between Lease renewals (2)"
    )
    p.add_argument(
        "--node-status-update-period",
        type=float,
        default=10.0,
        help="seconds between node status checks (10)",
    )
    p.add_argument(
        "--node-status-report-period",
        type=float,
        default=60.0,
        help="node status is written at least this often (60)",
    )
    p.add_argument(
        "--capacity",
        action="append",
        default=[],
        help="override capacity, e.g. cpu=32,memory=256Gi (fake nodes; repeatable)",
    )
    p.add_argument("--max-pods", type=int, default=110, help="pods capacity (110)")
    p.add_argument("--system-reserved", action="append", default=[], help="cpu=100m,memory=256Mi")
    p.add_argument("--kube-reserved", action="append", default=[], help="cpu=100m,memory=256Mi")
    p.add_argument(
        "--node-labels", action="append", default=[], help="extra node labels k=v (repeatable)"
    )
    p.add_argument(
        "--register-with-taints",
        action="append",
        default=[],
        help="taints key=value:Effect (repeatable, comma-separated)",
    )
    p.add_argument(
        "--relist-period", type=float, default=None, help="PLEG relist period (1; simulate 10)"
    )


# --- seams filled in at merge -------------------------------------------------------------


def _make_runtime(name: str, *, state_dir: Path, images: ImageService, node: str) -> Runtime:
    """The container runtime ``name`` over ``state_dir`` (``<node dir>/state/<name>``)."""
    if name == "fake":
        return FakeRuntime(state_dir)
    if name == "process":
        from skiff.runtime.process import ProcessRuntime

        return ProcessRuntime(state_dir)
    from skiff.runtime.runc.runtime import RuncRuntime, unavailable_reason

    reason = unavailable_reason()
    if reason is not None:
        raise AgentSetupError(f"the runc runtime cannot run here: {reason}")
    if not isinstance(images, ImageStore):
        raise AgentSetupError("the runc runtime needs the image store")
    return RuncRuntime(state_dir, images=images, cgroup_parent=f"skiff/{node}")


def _make_network(runtime: str, *, state_dir: Path) -> PodNetwork:
    """The pod network: the bridge for runc, address allocation only for fake, the node's
    address for process (host network)."""
    if runtime == "runc":
        from skiff.network.bridge import BridgeNetwork

        return BridgeNetwork(state_dir)
    return FakeNetwork(state_dir, host=runtime == "process")


def _make_images(
    runtime: str, *, images_dir: Path, offline: bool, registries: Path | None
) -> ImageService:
    """The image store (runc and process: real pulls under the registry policy; fake nodes
    record images and never pull)."""
    if runtime == "fake":
        return FakeImages()
    try:
        policy = RegistryPolicy.load(registries, offline=offline)
    except PolicyError as e:
        raise AgentSetupError(str(e)) from None
    return ImageStore(images_dir, policy=policy)


async def _credentials(
    args: argparse.Namespace, node_name: str, node_ip: str, node_dir: Path
) -> Config:
    """How the agent reaches the API server: joining with ``--server`` and ``--token`` (the
    node's own credential, kept and renewed under ``<node dir>/cred``), or ``--kubeconfig`` as is
    (development; the HTTPS endpoint then does not run, having no serving certificate)."""
    token = args.token
    if not token and args.token_file is not None:
        try:
            token = args.token_file.read_text().strip()
        except OSError as e:
            raise AgentSetupError(f"cannot read --token-file: {e}") from None
    if args.server and token:
        try:
            creds = await identity.join(
                args.server,
                token,
                node_name,
                node_dir / "cred",
                node_ips=[node_ip],
                lifetime_seconds=args.credential_lifetime or None,
            )
        except identity.JoinError as e:
            raise AgentSetupError(str(e)) from None
        args.node_credentials = creds
        return identity.client_config(creds)
    if args.kubeconfig is not None:
        args.node_credentials = None
        return load_kubeconfig(args.kubeconfig)
    raise AgentSetupError("pass --server and --token (or --kubeconfig)")


async def _serve_endpoint(agent: Agent, args: argparse.Namespace) -> None:
    """The agent's HTTPS endpoint (logs, exec, attach, port-forward, stats) and the renewal of
    its credentials, until cancelled."""
    creds: identity.NodeCredentials | None = getattr(args, "node_credentials", None)
    if creds is None:
        log.warning(
            "agent joined with --kubeconfig: no serving certificate, so the HTTPS endpoint "
            "(logs, exec, port-forward) does not run; join with --server and --token"
        )
        await asyncio.Event().wait()
        return
    server = AgentServer(
        agent,
        agent.runtime,
        bind="0.0.0.0",
        port=args.agent_port,
        cert_file=creds.serving_cert_file,
        key_file=creds.serving_key_file,
        client_ca_file=creds.client_ca_file,
    )

    def reload(_creds: identity.NodeCredentials) -> None:
        server.reload_certificate()

    renewer = identity.CredentialRenewer(creds, on_renew=reload)
    async with asyncio.TaskGroup() as tg:
        tg.create_task(server.serve())
        tg.create_task(renewer.run())


def _eviction_manager(agent: Agent, thresholds: list[Threshold], node_dir: Path) -> EvictionManager:
    """Node-pressure eviction: conditions from the host's memory, disk and pids; the pods over
    their requests (then lowest priority) are evicted first (`skiff.agent.eviction`)."""

    async def usage() -> PodUsage:
        summary = await agent.stats_summary()
        out: dict[str, dict[str, dict[str, int]]] = {}
        for pod in summary["pods"]:
            out[pod["podRef"]["uid"]] = {
                c["name"]: {"memory": int(c["memory"]["workingSetBytes"])}
                for c in pod["containers"]
            }
        return out

    async def evict(pod: Mapping[str, Any], message: str) -> None:
        agent.evict(str((pod.get("metadata") or {}).get("uid") or ""), message)

    node_dir.mkdir(parents=True, exist_ok=True)
    return EvictionManager(
        thresholds,
        observe=lambda: observe_node(node_dir),
        pods=agent.pods,
        usage=usage,
        evict=evict,
        clock=SystemClock(),
    )


async def _image_gc(agent: Agent, images: ImageStore, args: argparse.Namespace) -> None:
    """Every 5 minutes: tell the store which images running containers use, then remove unused
    ones while the disk is above ``--image-gc-high-threshold`` percent, down to the low one."""
    while True:
        await asyncio.sleep(300)
        try:
            used = {c.image_id for c in await agent.runtime.list_containers() if c.image_id}
            images.in_use(used)
            removed = await images.garbage_collect(
                args.image_gc_high_threshold, args.image_gc_low_threshold
            )
        except Exception:
            log.exception("image garbage collection failed")
            continue
        if removed:
            log.info("image garbage collection removed %d images", len(removed))


# --- the command --------------------------------------------------------------------------


def _default_data_dir() -> Path:
    if os.geteuid() == 0:
        return Path("/var/lib/skiff")
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "skiff"


def _node_ip_for(server: str) -> str:
    """The local address this host uses to reach ``server`` (no packet is sent)."""
    host = urlsplit(server).hostname or "127.0.0.1"
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect((host, 443))
            return str(s.getsockname()[0])
    except OSError:
        return "127.0.0.1"


def _node_options(args: argparse.Namespace, name: str, node_ip: str) -> NodeOptions:
    reserved: dict[str, str] = {}
    from skiff.api.quantity import parse_quantity

    for source in (_pairs(args.system_reserved), _pairs(args.kube_reserved)):
        for key, value in source.items():
            reserved[key] = (
                str(parse_quantity(reserved[key]) + parse_quantity(value))
                if key in reserved
                else value
            )
    return NodeOptions(
        name=name,
        node_ip=node_ip,
        agent_port=args.agent_port,
        max_pods=args.max_pods,
        capacity=_pairs(args.capacity),
        reserved=reserved,
        labels=_pairs(args.node_labels),
        taints=_taints(args.register_with_taints),
        lease_period=args.lease_period,
        status_update_period=args.node_status_update_period,
        status_report_period=args.node_status_report_period,
    )


async def _run(args: argparse.Namespace) -> None:
    try:
        thresholds = parse_thresholds(args.eviction_hard) if args.eviction_hard else []
    except ValueError as e:
        raise AgentSetupError(f"--eviction-hard: {e}") from None
    data_dir: Path = args.data_dir or _default_data_dir()
    name = args.node_name or socket.gethostname().lower()
    runtime_name = args.runtime or ("fake" if args.simulate else _default_runtime())
    server = args.server
    if args.kubeconfig is not None and not server:
        server = load_kubeconfig(args.kubeconfig).server
    node_ip = args.node_ip or _node_ip_for(server)
    node_dir = data_dir / "agent" / name
    config = await _credentials(args, name, node_ip, node_dir)
    ready_file: Path | None = args.ready_file
    if args.simulate:
        if runtime_name != "fake":
            raise AgentSetupError("--simulate runs fake nodes only (--runtime fake)")
        async with Client(config, max_connections=64) as client:
            sim = Simulator(
                client,
                SimulateOptions(
                    count=args.simulate,
                    prefix=name,
                    node=_node_options(args, name, node_ip),
                    data_dir=None,
                    relist_period=args.relist_period or 10.0,
                    cluster_cidr=args.cluster_cidr,
                    service_cidr=args.service_cidr,
                ),
            )
            await _until_ready(sim.run(), sim.ready, ready_file)
        return
    images = _make_images(
        runtime_name,
        images_dir=node_dir / "images",
        offline=args.offline,
        registries=args.registries,
    )
    runtime = _make_runtime(
        runtime_name, state_dir=node_dir / "state" / runtime_name, images=images, node=name
    )
    network = _make_network(runtime_name, state_dir=node_dir / "state" / "network")
    if runtime_name == "process":
        log.warning("process runtime: containers are plain host processes without isolation")
    opts = _node_options(args, name, node_ip)
    eviction: list[EvictionManager] = []
    async with Client(config) as client:
        agent = Agent(
            client,
            AgentOptions(
                node=opts,
                node_dir=node_dir,
                cluster_cidr=args.cluster_cidr,
                service_cidr=args.service_cidr,
                relist_period=args.relist_period or 1.0,
            ),
            runtime=runtime,
            network=network,
            images=images,
            pressure=lambda: eviction[0].conditions() if eviction else {},
        )
        if thresholds and runtime_name != "fake":
            eviction.append(_eviction_manager(agent, thresholds, node_dir))

        async def both() -> None:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(agent.run())
                await agent.ready.wait()
                tg.create_task(_serve_endpoint(agent, args))
                for manager in eviction:
                    tg.create_task(manager.run())
                if isinstance(images, ImageStore) and args.image_gc_high_threshold < 100:
                    tg.create_task(_image_gc(agent, images, args))

        await _until_ready(both(), agent.ready, ready_file)


async def _until_ready(main: Any, ready: asyncio.Event, ready_file: Path | None) -> None:
    task = asyncio.ensure_future(main)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    try:
        waiter = asyncio.ensure_future(ready.wait())
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if ready.is_set() and ready_file is not None:
            _write_ready(ready_file)
        with contextlib.suppress(asyncio.CancelledError):
            await task
    finally:
        if ready_file is not None:
            _remove_ready(ready_file)


def _write_ready(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{os.getpid()}\n")


def _remove_ready(path: Path) -> None:
    path.unlink(missing_ok=True)


def run_agent(args: argparse.Namespace) -> int:
    if args.action == "cleanup":
        return run_agent_cleanup(args)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        asyncio.run(_run(args))
    except AgentSetupError as e:
        log.error("skiff agent: %s", e)
        return 1
    log.info("agent stopped")
    return 0


def run_agent_cleanup(args: argparse.Namespace) -> int:
    """Stop every container and remove what the agent made on this host (k3s killall's role)."""
    data_dir: Path = args.data_dir or _default_data_dir()
    name = args.node_name or socket.gethostname().lower()
    runtime_name = args.runtime or _default_runtime()
    node_dir = data_dir / "agent" / name
    if not node_dir.is_dir():
        # most likely the wrong --data-dir or --node-name: the host-wide leftovers (bridge,
        # routes, nftables table) are still removed by name, as after a lost state directory,
        # but the containers and mounts of the real one would be left behind unnoticed
        known = sorted(p.name for p in (data_dir / "agent").glob("*") if p.is_dir())
        log.warning(
            "skiff agent cleanup: no agent state for node %r under %s (nodes there: %s): only "
            "host-wide network leftovers are removed; for containers and mounts pass the "
            "--data-dir and --node-name the agent ran with",
            name,
            data_dir,
            ", ".join(known) or "none",
        )

    async def clean() -> None:
        images = _make_images(
            runtime_name, images_dir=node_dir / "images", offline=True, registries=None
        )
        runtime = _make_runtime(
            runtime_name, state_dir=node_dir / "state" / runtime_name, images=images, node=name
        )
        await runtime.start()
        if isinstance(runtime, Cleanable):
            await runtime.cleanup()
        else:
            for sb in await runtime.list_sandboxes():
                await runtime.stop_sandbox(sb.id)
                await runtime.remove_sandbox(sb.id)
        await runtime.close()
        await _make_network(runtime_name, state_dir=node_dir / "state" / "network").cleanup()

    try:
        asyncio.run(clean())
    except AgentSetupError as e:
        log.error("skiff agent cleanup: %s", e)
        return 1
    log.info("agent cleanup: done for node %s", name)
    return 0
