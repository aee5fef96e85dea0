"""``skiff controller-manager``: the controllers as their own process.

It reads a kubeconfig, builds a `skiff.client.Client` and runs
`skiff.controllers.ControllerManager`: with ``--leader-elect=true`` (the default) it competes for
the Lease ``kube-system/kube-controller-manager`` and runs the controllers only while it holds it,
so several can run and exactly one acts. ``--controllers`` picks controllers by name as
kube-controller-manager does (``*``, ``foo``, ``-foo``); an unknown name stops it at start with
exit code 2.

Readiness: with ``--ready-file F`` it writes its pid to F once it is ready: leading with every
informer synced, or standing by behind another leader. ``skiff server`` waits for that file.
SIGTERM/SIGINT stop it cleanly (a leader releases the Lease); losing the Lease ends it with exit
code 1, as kube-controller-manager exits, and its supervisor starts it again.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from skiff.cmd.component import (
    election_options,
    metrics_endpoint,
    parse_bool,
    run_process,
    run_until_stopped,
)

__all__ = [
    "TIMING_FLAGS",
    "add_controller_manager_flags",
    "run_controller_manager",
    "timing_argv",
]

log = logging.getLogger("skiff.controller-manager")


def add_controller_manager_flags(p: argparse.ArgumentParser, *, standalone: bool) -> None:
    """The controller flags; ``standalone`` adds those ``skiff server`` fills in itself."""
    if standalone:
        p.add_argument(
            "--kubeconfig",
            type=Path,
            default=None,
            help="kubeconfig to reach the API server (default: $KUBECONFIG, else the admin "
            "kubeconfig of $SKIFF_DATA_DIR or the default data directory)",
        )
        p.add_argument(
            "--root-ca-file",
            type=Path,
            default=None,
            help="CA bundle published as the kube-root-ca.crt ConfigMap in every namespace "
            "(default: the kubeconfig's CA)",
        )
        p.add_argument(
            "--leader-elect",
            type=parse_bool,
            nargs="?",
            const=True,
            default=True,
            help="compete for the Lease kube-system/kube-controller-manager and act only while "
            "holding it (default true)",
        )
        p.add_argument(
            "--ready-file",
            type=Path,
            default=None,
            help="write the pid here once ready (leading and synced, or standing by)",
        )
        p.add_argument("-v", "--verbose", action="store_true", help="debug output")
        p.add_argument("--event-ttl", type=float, default=3600.0, help=_EVENT_TTL_HELP)
    p.add_argument(
        "--leader-elect-lease-duration",
        type=float,
        default=15.0,
        help="seconds a leader's Lease is valid without renewal (default 15)",
    )
    p.add_argument(
        "--leader-elect-renew-deadline",
        type=float,
        default=10.0,
        help="seconds a leader keeps trying to renew before it stops leading (default 10)",
    )
    p.add_argument(
        "--leader-elect-retry-period",
        type=float,
        default=2.0,
        help="seconds between acquire/renew attempts (default 2)",
    )
    p.add_argument(
        "--metrics-bind-address",
        default="127.0.0.1:10257",
        help="host:port of the plain-HTTP /metrics endpoint (work queues per controller); "
        "empty: none (default 127.0.0.1:10257)",
    )
    p.add_argument(
        "--controllers",
        default="*",
        help="controllers to run, comma-separated: '*' all on by default, 'foo' on, '-foo' off "
        "(default '*')",
    )
    p.add_argument(
        "--concurrent-syncs", type=int, default=2, help="workers per controller (default 2)"
    )
    p.add_argument(
        "--concurrent-gc-syncs",
        type=int,
        default=8,
        help="garbage collector workers (default 8)",
    )
    _add_timing_flags(p)


_EVENT_TTL_HELP = "seconds an Event is kept after it last happened (default 3600)"

TIMING_FLAGS: tuple[tuple[str, type, str], ...] = (
    ("--node-monitor-period", float, "seconds between looks at node Leases and status"),
    (
        "--node-monitor-grace-period",
        float,
        "seconds without a Lease renewal before a node becomes Unknown",
    ),
    (
        "--node-startup-grace-period",
        float,
        "the same for a node that never posted a Ready condition",
    ),
    (
        "--node-eviction-rate",
        float,
        "nodes per second tainted for eviction in a healthy zone (inf: no limit)",
    ),
    (
        "--secondary-node-eviction-rate",
        float,
        "nodes per second tainted for eviction in a zone with too many not-Ready nodes",
    ),
    (
        "--unhealthy-zone-threshold",
        float,
        "share of not-Ready nodes (at least 3) from which a zone counts as unhealthy",
    ),
    (
        "--large-cluster-size-threshold",
        int,
        "zones of at most this many nodes stop evicting when unhealthy instead of slowing down",
    ),
    (
        "--terminated-pod-gc-threshold",
        int,
        "terminated pods kept before the oldest are deleted (0: keep all)",
    ),
    ("--pod-gc-period", float, "seconds between pod garbage collection passes"),
    (
        "--pod-gc-quarantine",
        float,
        "seconds a node must stay missing before its pods are deleted",
    ),
)
"""Node lifecycle and pod GC flags: (flag, type, help); each sets the `ControllerOptions` field
of the same name (dashes as underscores), whose default is the flag's."""


def _option_name(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def timing_argv(args: argparse.Namespace) -> list[str]:
    """`TIMING_FLAGS` as given to ``skiff server``, to pass on to ``skiff controller-manager``."""
    return [f"{flag}={getattr(args, _option_name(flag))}" for flag, _, _ in TIMING_FLAGS]


def _add_timing_flags(p: argparse.ArgumentParser) -> None:
    from skiff.controllers import ControllerOptions

    defaults = ControllerOptions()
    for flag, kind, text in TIMING_FLAGS:
        default = getattr(defaults, _option_name(flag))
        p.add_argument(flag, type=kind, default=default, help=f"{text} (default {default})")


def _metrics_address(address: str) -> tuple[str, int]:
    """``--metrics-bind-address`` as (host, port); port 0 (none) when empty or unreadable."""
    if not address:
        return "", 0
    host, _, port = address.rpartition(":")
    try:
        return host or "127.0.0.1", int(port)
    except ValueError:
        log.warning("controller-manager: cannot serve /metrics on %s: not host:port", address)
        return "", 0


def run_controller_manager(args: argparse.Namespace) -> int:
    from skiff.client import Client, ClientError, load_kubeconfig
    from skiff.client.workqueue import set_queue_observer_factory
    from skiff.controllers import ControllerManager, ControllerOptions
    from skiff.controllers.manager import enabled_controllers
    from skiff.controllers.metrics import WorkQueueMetrics

    logging.getLogger("httpx").setLevel(logging.WARNING)
    specs = [s for s in str(args.controllers).split(",")]
    try:
        enabled_controllers(specs)
    except ValueError as e:
        log.error("controller-manager: --controllers: %s", e)
        return 2
    try:
        config = load_kubeconfig(args.kubeconfig)
    except (ClientError, OSError, ValueError) as e:
        log.error("controller-manager: cannot load the kubeconfig %s: %s", args.kubeconfig, e)
        return 1
    root_ca = ""
    if args.root_ca_file is not None:
        try:
            root_ca = Path(args.root_ca_file).read_text()
        except OSError as e:
            log.error("controller-manager: cannot read --root-ca-file: %s", e)
            return 1
    elif config.ca_data:
        root_ca = config.ca_data.decode()
    options = ControllerOptions(
        workers=args.concurrent_syncs,
        gc_workers=args.concurrent_gc_syncs,
        root_ca=root_ca,
        event_ttl=args.event_ttl,
        **{_option_name(flag): getattr(args, _option_name(flag)) for flag, _, _ in TIMING_FLAGS},
    )
    ready_file: Path | None = args.ready_file
    # every work queue the controllers make reports to these metrics
    metrics = WorkQueueMetrics()
    set_queue_observer_factory(metrics.observer)
    host, port = _metrics_address(str(args.metrics_bind_address))

    async def run() -> int:
        async with Client(config, user_agent="skiff-controller-manager/0.1") as client:
            manager = ControllerManager(
                client,
                controllers=specs,
                options=options,
                **election_options(args, ready_file),
            )
            async with metrics_endpoint(
                "controller-manager", metrics.render, host, port, healthy=manager.ready.is_set
            ):
                return await run_until_stopped("controller-manager", manager)

    return run_process(run(), ready_file)
