"""``skiff scheduler``: the scheduler as its own process.

It reads a kubeconfig and, with ``--scheduler-config``, a KubeSchedulerConfiguration
(``kubescheduler.config.k8s.io/v1``; a file that cannot be used stops it at start with exit code 2
and a message naming the field), then runs `skiff.scheduler.SchedulerRunner`: with
``--leader-elect=true`` (the default) it competes for the Lease ``kube-system/kube-scheduler`` and
schedules only while it holds it. Metrics are served on ``http://<--bind-address>:<--port>/metrics``
(default 127.0.0.1:10259, ``--port 0`` off).

Readiness: with ``--ready-file F`` it writes its pid to F once it is ready (leading with synced
informers, or standing by behind another leader); ``skiff server`` waits for that file.
SIGTERM/SIGINT stop it cleanly (a leader releases the Lease); losing the Lease ends it with exit
code 1.
"""

from __future__ import annotations

import argparse
import logging
import re
from pathlib import Path

from skiff.cmd.component import (
    election_options,
    metrics_endpoint,
    parse_bool,
    run_process,
    run_until_stopped,
)

__all__ = ["add_scheduler_flags", "run_scheduler"]

log = logging.getLogger("skiff.scheduler")


_LEADER_FLAGS = (
    ("--leader-elect-lease-duration", "leaseDuration", 15.0),
    ("--leader-elect-renew-deadline", "renewDeadline", 10.0),
    ("--leader-elect-retry-period", "retryPeriod", 2.0),
)


def _seconds(value: object, default: float) -> float:
    """A metav1.Duration from the file ("15s", "1m30s", "500ms") or a number, in seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        parts = re.findall(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)", value)
        if parts and "".join(n + u for n, u in parts) == value:
            return sum(float(n) * _UNITS[u] for n, u in parts)
    return default


_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def add_scheduler_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--kubeconfig",
        type=Path,
        default=None,
        help="kubeconfig to reach the API server (default: $KUBECONFIG, else the admin "
        "kubeconfig of $SKIFF_DATA_DIR or the default data directory)",
    )
    p.add_argument(
        "--scheduler-config",
        "--config",
        dest="scheduler_config",
        type=Path,
        default=None,
        help="a KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1) file",
    )
    p.add_argument(
        "--leader-elect",
        type=parse_bool,
        nargs="?",
        const=True,
        default=None,
        help="compete for the Lease kube-system/kube-scheduler (default: the file's "
        "leaderElection.leaderElect, else true)",
    )
    for flag, field, default in _LEADER_FLAGS:
        p.add_argument(
            flag,
            type=float,
            default=None,
            help=f"seconds (default: the file's leaderElection.{field}, else {default:g})",
        )
    p.add_argument(
        "--bind-address", default="127.0.0.1", help="address of /metrics (default 127.0.0.1)"
    )
    p.add_argument("--port", type=int, default=10259, help="port of /metrics and /healthz (0: off)")
    p.add_argument(
        "--ready-file",
        type=Path,
        default=None,
        help="write the pid here once ready (leading and synced, or standing by)",
    )
    p.add_argument(
        "--bind-concurrency",
        type=int,
        default=512,
        help="bindings in flight at once (default 512)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="debug output")


def run_scheduler(args: argparse.Namespace) -> int:
    import uvloop

    from skiff.client import Client, ClientError, load_kubeconfig
    from skiff.scheduler.config import ConfigError, default_config, load_config
    from skiff.scheduler.metrics import SchedulerMetrics
    from skiff.scheduler.runner import SchedulerRunner

    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        config = load_config(args.scheduler_config) if args.scheduler_config else default_config()
        # build the profiles once now so a bad plugin set is refused before anything runs
        from skiff.scheduler.cache import SchedulerCache
        from skiff.scheduler.framework import Handle
        from skiff.scheduler.profile import build_framework

        for profile in config.profiles:
            build_framework(profile, Handle(cache=SchedulerCache()))
    except ConfigError as e:
        log.error("scheduler: invalid configuration %s: %s", args.scheduler_config, e)
        return 2
    try:
        kubeconfig = load_kubeconfig(args.kubeconfig)
    except (ClientError, OSError, ValueError) as e:
        log.error("scheduler: cannot load the kubeconfig %s: %s", args.kubeconfig, e)
        return 1
    ready_file: Path | None = args.ready_file
    # flags win over the file's leaderElection section, which wins over the defaults
    election = config.leader_election
    if args.leader_elect is None:
        args.leader_elect = bool(election.get("leaderElect", True))
    for flag, field, default in _LEADER_FLAGS:
        attr = flag.lstrip("-").replace("-", "_")
        if getattr(args, attr) is None:
            setattr(args, attr, _seconds(election.get(field), default))

    async def run() -> int:
        metrics = SchedulerMetrics()
        async with Client(
            kubeconfig,
            user_agent="skiff-scheduler/0.1",
            max_connections=args.bind_concurrency + 16,
        ) as client:
            runner = SchedulerRunner(
                client,
                config=config,
                metrics=metrics,
                bind_concurrency=args.bind_concurrency,
                **election_options(args, ready_file),
            )
            async with metrics_endpoint(
                "scheduler",
                metrics.render,
                args.bind_address,
                args.port,
                healthy=runner.ready.is_set,
            ):
                return await run_until_stopped("scheduler", runner)

    return run_process(run(), ready_file, runner=uvloop.run)
