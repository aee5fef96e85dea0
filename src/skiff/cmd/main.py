"""The ``skiff`` command line: ``server``, ``apiserver``, ``controller-manager``, ``scheduler``,
``agent``, ``image``, ``apply``, ``kubectl``.

``skiff server`` is the supervisor k3s users know: it prepares the data directory (CA, serving
certificate, admin and join tokens, admin kubeconfig), then runs the API server, the
controller-manager, the scheduler (unless ``--disable-scheduler``) and a node agent for this host
(unless ``--no-agent``) as child processes, in that order, each once the previous is ready, and
restarts a dead one with back-off (`skiff.cmd.supervisor`). ``skiff agent`` runs a node agent
alone (`skiff.cmd.agent`), ``skiff scheduler`` the scheduler (`skiff.cmd.scheduler`),
``skiff apiserver`` the API server alone in this process, ``skiff controller-manager`` the
controllers (`skiff.cmd.controllermanager`). ``skiff kubectl``
runs the real kubectl against the admin kubeconfig (``$KUBECONFIG`` if set, else the one under
``$SKIFF_DATA_DIR`` or the default data directory).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import signal
import socket
import ssl
import sys
import urllib.request
from pathlib import Path
from typing import Any

from skiff.cmd.agent import add_agent_flags, run_agent
from skiff.cmd.controllermanager import (
    TIMING_FLAGS,
    add_controller_manager_flags,
    run_controller_manager,
    timing_argv,
)
from skiff.cmd.image import add_image_parser, run_image
from skiff.cmd.netflags import NetworkFlagError, check_network_flags, kubernetes_service_ip
from skiff.cmd.scheduler import add_scheduler_flags, run_scheduler

__all__ = [
    "default_data_dir",
    "main",
]

log = logging.getLogger("skiff")


def default_data_dir() -> Path:
    if os.geteuid() == 0:
        return Path("/var/lib/skiff")
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "skiff"


def _add_server_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="state directory (default /var/lib/skiff as root, ~/.local/share/skiff otherwise)",
    )
    p.add_argument("--https-port", type=int, default=6443, help="HTTPS port (default 6443)")
    p.add_argument(
        "--bind-address", default="0.0.0.0", help="address to listen on (default 0.0.0.0)"
    )
    p.add_argument(
        "--advertise-address",
        default="",
        help="address clients use to reach the server (default: 127.0.0.1 when bound "
        "to 0.0.0.0, else the bind address)",
    )
    p.add_argument(
        "--datastore-endpoint",
        default="",
        help="store URL: sqlite:///path/state.db (default, under the data dir) or memory://",
    )
    p.add_argument(
        "--cluster-cidr", default="10.42.0.0/16", help="pod network (default 10.42.0.0/16)"
    )
    p.add_argument(
        "--service-cidr",
        default="10.43.0.0/16",
        help="Service ClusterIP range; must not overlap --cluster-cidr (default 10.43.0.0/16)",
    )
    p.add_argument(
        "--node-cidr-mask-size",
        type=int,
        default=24,
        help="size of each node's pod CIDR block (default 24)",
    )
    p.add_argument(
        "--default-toleration-seconds",
        type=int,
        default=5,
        help="how long pods tolerate not-ready/unreachable nodes (default 5)",
    )
    p.add_argument(
        "--watch-cache-window",
        type=int,
        default=10_000,
        help="events kept for watches to resume from (default 10000)",
    )
    p.add_argument(
        "--max-requests-inflight",
        type=int,
        default=400,
        help="read requests served at once before answering 429 (0: no limit; default 400)",
    )
    p.add_argument(
        "--max-mutating-requests-inflight",
        type=int,
        default=200,
        help="write requests served at once before answering 429 (0: no limit; default 200)",
    )
    p.add_argument(
        "--audit-log-path",
        default="",
        help="write an audit log (JSON lines, audit.k8s.io/v1 Events at level Metadata) here",
    )
    p.add_argument(
        "--watch-bookmark-interval",
        type=float,
        default=5.0,
        help="seconds between BOOKMARK events on watches that ask for them (default 5)",
    )
    p.add_argument(
        "--tls-san",
        action="append",
        default=[],
        help="extra IP or DNS name for the serving certificate (repeatable; the host's "
        "interface addresses, its hostname and localhost are always in it)",
    )
    p.add_argument(
        "--node-credential-lifetime",
        type=_duration,
        default=30 * 24 * 3600.0,
        help="how long a node agent's token and serving certificate live, in seconds or with a "
        "unit (90s, 15m, 12h, 30d); agents renew at two thirds of it (default 30d)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log requests and debug output")


_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_API_SERVER_SWITCH_INTERVAL = 0.0005
"""The API server process's ``sys.setswitchinterval`` (see ``_apiserver``)."""


def _duration(text: str) -> float:
    """Seconds from ``90``, ``90s``, ``15m``, ``12h`` or ``30d`` (argparse type)."""
    unit = _UNITS.get(text[-1:], 0.0)
    try:
        value = float(text[:-1] if unit else text) * (unit or 1.0)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a duration (seconds, or a number with s, m, h or d)"
        ) from None
    if not 0 < value < 100 * 365 * 86400.0:
        raise argparse.ArgumentTypeError(f"{text!r}: a duration must be positive and finite")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="skiff", description="A container orchestrator that speaks the Kubernetes API."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    server = sub.add_parser("server", help="run a whole control plane (supervisor)")
    _add_server_flags(server)
    server.add_argument(
        "--no-agent", action="store_true", help="do not run a node agent on this machine"
    )
    server.add_argument(
        "-l",
        "--log",
        type=Path,
        default=None,
        help="append the server's and its children's output to this file (as k3s' --log)",
    )
    server.add_argument(
        "--event-ttl",
        type=float,
        default=3600.0,
        help="seconds an Event is kept after it last happened (default 3600)",
    )
    add_controller_manager_flags(server, standalone=False)
    add_agent_flags(server, standalone=False)
    apiserver = sub.add_parser("apiserver", help="run the API server alone")
    _add_server_flags(apiserver)
    cm = sub.add_parser(
        "controller-manager", help="run the controllers (leader-elected) against an API server"
    )
    add_controller_manager_flags(cm, standalone=True)
    agent = sub.add_parser(
        "agent",
        help="run the node agent for this host (or --simulate N fake nodes); "
        "`skiff agent cleanup` removes what it made",
    )
    add_agent_flags(agent, standalone=True)
    add_scheduler_flags(sub.add_parser("scheduler", help="run the scheduler (leader-elected)"))
    server.add_argument(
        "--scheduler-config",
        type=Path,
        default=None,
        help="KubeSchedulerConfiguration file for the scheduler child",
    )
    server.add_argument(
        "--disable-scheduler", action="store_true", help="do not run the scheduler child"
    )
    apply = sub.add_parser("apply", help="server-side apply YAML manifests (no kubectl needed)")
    apply.add_argument(
        "-f",
        "--filename",
        action="append",
        type=Path,
        required=True,
        help="a manifest file or a directory of them (repeatable)",
    )
    apply.add_argument(
        "-n",
        "--namespace",
        default="default",
        help="namespace for namespaced objects without one (default: default)",
    )
    apply.add_argument(
        "--force-conflicts", action="store_true", help="take over fields other managers own"
    )
    apply.add_argument(
        "--kubeconfig",
        type=Path,
        default=None,
        help="kubeconfig (default: $KUBECONFIG, else the admin kubeconfig of "
        "$SKIFF_DATA_DIR or the default data directory)",
    )
    kubectl = sub.add_parser(
        "kubectl", help="run kubectl with the admin kubeconfig", add_help=False
    )
    kubectl.add_argument("args", nargs=argparse.REMAINDER)
    add_image_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "kubectl":
        return _kubectl(argv[1:])
    args = _parser().parse_args(argv)
    if getattr(args, "log", None) is not None:
        _log_to(args.log)
    logging.basicConfig(
        level=logging.DEBUG if getattr(args, "verbose", False) else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.command == "apply":
        return _apply(args)
    if args.command == "image":
        return run_image(args)
    if args.command == "controller-manager":
        args.kubeconfig = args.kubeconfig or _admin_kubeconfig()
        return run_controller_manager(args)
    if args.command == "agent":
        return run_agent(args)
    if args.command == "scheduler":
        args.kubeconfig = args.kubeconfig or _admin_kubeconfig()
        return run_scheduler(args)
    if args.data_dir is None:
        args.data_dir = default_data_dir()
    try:
        check_network_flags(
            cluster_cidr=args.cluster_cidr,
            service_cidr=args.service_cidr,
            node_cidr_mask_size=args.node_cidr_mask_size,
        )
    except NetworkFlagError as e:
        log.error("skiff %s: refusing to start: %s", args.command, e)
        return 1
    if args.command == "server":
        return _server(args, argv)
    if args.command == "apiserver":
        return _apiserver(args)
    return 2  # pragma: no cover - argparse requires a command


def _log_to(path: Path) -> None:
    """Send stdout and stderr (and so every child's output) to ``path``, appending."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def _advertise(args: argparse.Namespace) -> str:
    if args.advertise_address:
        return str(args.advertise_address)
    if args.bind_address in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return str(args.bind_address)


def _prepare(args: argparse.Namespace) -> tuple[object, str]:
    from skiff.apiserver.tls import ensure_credentials, write_kubeconfig

    data_dir: Path = args.data_dir
    advertise = _advertise(args)
    service_ip = kubernetes_service_ip(args.service_cidr)
    extra_ips = [a for a in [advertise, args.bind_address, service_ip, *args.tls_san] if _is_ip(a)]
    extra_dns = [a for a in args.tls_san if not _is_ip(a)]
    creds = ensure_credentials(data_dir, extra_ips=extra_ips, extra_dns=extra_dns)
    url = f"https://{advertise}:{args.https_port}"
    write_kubeconfig(
        data_dir / "server" / "admin.kubeconfig",
        server=url,
        ca_pem=creds.ca_pem,
        token=creds.admin_token,
    )
    return creds, url


def _is_ip(text: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in text else socket.AF_INET, text)
    except OSError:
        return False
    return True


# flags of ``skiff server`` that belong to the controller-manager or the supervisor itself,
# not the API server
_CONTROLLER_FLAGS = (
    "--log",
    "-l",
    "--controllers",
    "--concurrent-syncs",
    "--concurrent-gc-syncs",
    "--metrics-bind-address",
    "--event-ttl",
    "--leader-elect-lease-duration",
    "--leader-elect-renew-deadline",
    "--leader-elect-retry-period",
    *(flag for flag, _, _ in TIMING_FLAGS),
    # the local agent's
    "--node-name",
    "--node-ip",
    "--agent-port",
    "--runtime",
    "--registries",
    "--scheduler-config",
)
# flags without a value that are not the API server's
_SUPERVISOR_SWITCHES = ("--no-agent", "--offline", "--disable-scheduler")


def _apiserver_argv(argv: list[str]) -> list[str]:
    """``skiff server``'s arguments minus those that are not the API server's."""
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in _SUPERVISOR_SWITCHES:
            continue
        if arg in _CONTROLLER_FLAGS:
            skip = True
            continue
        if arg.split("=", 1)[0] in _CONTROLLER_FLAGS:
            continue
        out.append(arg)
    return out


def _readyz(url: str, ca_file: Path) -> bool:
    ctx = ssl.create_default_context(cafile=str(ca_file))
    with urllib.request.urlopen(f"{url}/readyz", context=ctx, timeout=2) as r:
        return bool(r.status == 200)


def _server(args: argparse.Namespace, argv: list[str]) -> int:
    """Supervise the API server and the controller-manager (see `skiff.cmd.supervisor`)."""
    from skiff.cmd.supervisor import ChildSpec, Supervisor

    _creds, url = _prepare(args)
    data_dir: Path = args.data_dir
    server_dir = data_dir / "server"
    skiff = [sys.executable, "-m", "skiff"]
    apiserver_args = [*skiff, "apiserver", *_apiserver_argv(argv[1:])]
    if "--data-dir" not in " ".join(argv):
        apiserver_args += ["--data-dir", str(data_dir)]
    ready_file = server_dir / "controller-manager.ready"
    cm_args = [
        *skiff,
        "controller-manager",
        "--kubeconfig",
        str(server_dir / "admin.kubeconfig"),
        "--root-ca-file",
        str(server_dir / "tls" / "ca.crt"),
        "--ready-file",
        str(ready_file),
        "--controllers",
        str(args.controllers),
        "--concurrent-syncs",
        str(args.concurrent_syncs),
        "--concurrent-gc-syncs",
        str(args.concurrent_gc_syncs),
        f"--metrics-bind-address={args.metrics_bind_address}",
        "--event-ttl",
        str(args.event_ttl),
        f"--leader-elect-lease-duration={args.leader_elect_lease_duration}",
        f"--leader-elect-renew-deadline={args.leader_elect_renew_deadline}",
        f"--leader-elect-retry-period={args.leader_elect_retry_period}",
        *timing_argv(args),
        *(["-v"] if args.verbose else []),
    ]
    specs = [
        ChildSpec(
            "apiserver",
            apiserver_args,
            ready=lambda: _readyz(url, server_dir / "tls" / "ca.crt"),
        ),
        ChildSpec(
            "controller-manager",
            cm_args,
            ready=ready_file.exists,
            prepare=lambda: ready_file.unlink(missing_ok=True),
        ),
        *_scheduler_child(args, skiff, server_dir),
    ]
    if not args.no_agent:
        agent_ready = server_dir / "agent.ready"
        # the local agent joins with the token like any other, and holds a node credential
        agent_args = [
            *skiff,
            "agent",
            "--server",
            url,
            "--token-file",
            str(server_dir / "token"),
            "--data-dir",
            str(data_dir),
            "--ready-file",
            str(agent_ready),
            "--cluster-cidr",
            str(args.cluster_cidr),
            "--service-cidr",
            str(args.service_cidr),
            "--agent-port",
            str(args.agent_port),
            *(["--node-name", args.node_name] if args.node_name else []),
            *(["--node-ip", args.node_ip] if args.node_ip else []),
            *(["--runtime", args.runtime] if args.runtime else []),
            *(["--offline"] if args.offline else []),
            *(["--registries", str(args.registries)] if args.registries else []),
            *(["-v"] if args.verbose else []),
        ]
        specs.append(
            ChildSpec(
                "agent",
                agent_args,
                ready=agent_ready.exists,
                prepare=lambda: agent_ready.unlink(missing_ok=True),
                ready_timeout=120.0,
            )
        )
    log.info(
        "skiff server: data in %s, API at %s, kubeconfig %s",
        data_dir,
        url,
        server_dir / "admin.kubeconfig",
    )
    supervisor = Supervisor(specs)
    supervisor.install_signal_handlers()
    return supervisor.run()


def _scheduler_child(args: argparse.Namespace, skiff: list[str], server_dir: Path) -> list[Any]:
    """The scheduler as a supervised child (own process: see docs/scheduler.md for why)."""
    from skiff.cmd.supervisor import ChildSpec

    if args.disable_scheduler:
        return []
    ready = server_dir / "scheduler.ready"
    argv = [
        *skiff,
        "scheduler",
        "--kubeconfig",
        str(server_dir / "admin.kubeconfig"),
        "--ready-file",
        str(ready),
        f"--leader-elect-lease-duration={args.leader_elect_lease_duration}",
        f"--leader-elect-renew-deadline={args.leader_elect_renew_deadline}",
        f"--leader-elect-retry-period={args.leader_elect_retry_period}",
        *(["--scheduler-config", str(args.scheduler_config)] if args.scheduler_config else []),
        *(["-v"] if args.verbose else []),
    ]
    return [
        ChildSpec(
            "scheduler", argv, ready=ready.exists, prepare=lambda: ready.unlink(missing_ok=True)
        )
    ]


def _renew_serving_certificate(args: argparse.Namespace) -> bool:
    """Re-run the credential check; True when it wrote a new serving certificate."""
    cert: Path = args.data_dir / "server" / "tls" / "serving.crt"
    before = cert.read_bytes() if cert.exists() else b""
    _prepare(args)
    return cert.read_bytes() != before


def _apiserver(args: argparse.Namespace) -> int:
    import uvloop

    from skiff.apiserver.auth import UserInfo
    from skiff.apiserver.encryption import AesGcmTransformer
    from skiff.apiserver.server import ApiServer, ApiServerConfig
    from skiff.apiserver.tls import ServerCredentials
    from skiff.store import open_store

    creds, _url = _prepare(args)
    assert isinstance(creds, ServerCredentials)
    endpoint = args.datastore_endpoint or f"sqlite://{args.data_dir / 'server' / 'db' / 'state.db'}"
    if endpoint.startswith("sqlite://"):
        Path(endpoint[len("sqlite://") :]).parent.mkdir(parents=True, exist_ok=True)
    config = ApiServerConfig(
        bind_address=args.bind_address,
        port=args.https_port,
        cert_file=str(creds.cert_path),
        key_file=str(creds.key_path),
        tokens={
            creds.admin_token: UserInfo("system:admin", ("system:masters", "system:authenticated"))
        },
        cluster_cidr=args.cluster_cidr,
        service_cidr=args.service_cidr,
        node_cidr_mask_size=args.node_cidr_mask_size,
        advertise_address=_advertise(args),
        watch_window=args.watch_cache_window,
        bookmark_interval=args.watch_bookmark_interval,
        audit_log_path=args.audit_log_path or None,
        max_requests_inflight=args.max_requests_inflight,
        max_mutating_requests_inflight=args.max_mutating_requests_inflight,
        toleration_seconds=args.default_toleration_seconds,
        access_log=args.verbose,
        transformer=AesGcmTransformer(creds.encryption_key),
        cert_renewer=lambda: _renew_serving_certificate(args),
        # node agents: the cluster CA verifies their serving certificates; they accept only our
        # kubelet-client certificate; the join endpoints sign with the cluster CA
        kubelet_certificate_authority=str(creds.ca_cert_path),
        kubelet_client_certificate=str(creds.kubelet_client_cert_path),
        kubelet_client_key=str(creds.kubelet_client_key_path),
        kubelet_client_ca_file=str(creds.kubelet_client_ca_path),
        join_token=creds.join_token,
        cluster_signing_cert_file=str(creds.ca_cert_path),
        cluster_signing_key_file=str(creds.ca_key_path),
        node_credential_lifetime=args.node_credential_lifetime,
    )

    async def run() -> None:
        store = await open_store(endpoint)
        try:
            server = ApiServer(store, config)
            loop = asyncio.get_running_loop()

            received: list[signal.Signals] = []

            def on_signal(sig: signal.Signals) -> None:
                # uvicorn re-raises the signal it captured once it has stopped: log it once
                if not received:
                    log.info("apiserver: received %s; shutting down", sig.name)
                received.append(sig)
                server.stop()

            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, on_signal, sig)
            await server.run()
        finally:
            await store.close()
        log.info("apiserver: stopped")

    # The store's writer thread needs the GIL a few times per transaction, each time from an
    # event loop that is busy under load; the default switch interval (5 ms) made every write wait
    # up to that long per hand-off. 0.5 ms: a loop kept busy passed 1,890 writes/s (p50 26 ms)
    # instead of 820-900 (p50 51-61 ms); an idle server is unaffected (no other thread wants it).
    sys.setswitchinterval(_API_SERVER_SWITCH_INTERVAL)
    try:
        # uvloop's event loop (libuv) handles sockets and TLS at a fraction of asyncio's cost
        uvloop.run(run())
    except OSError as e:
        log.error("cannot start the API server: %s", e)
        return 1
    return 0


def _admin_kubeconfig() -> Path:
    if os.environ.get("KUBECONFIG"):
        return Path(os.environ["KUBECONFIG"].split(os.pathsep)[0])
    data_dir = Path(os.environ["SKIFF_DATA_DIR"]) if os.environ.get("SKIFF_DATA_DIR") else None
    return (data_dir or default_data_dir()) / "server" / "admin.kubeconfig"


def _apply(args: argparse.Namespace) -> int:
    from skiff.cli.apply import ApplyError, apply_paths
    from skiff.client import Client, ClientError, load_kubeconfig

    logging.getLogger("httpx").setLevel(logging.WARNING)

    async def run() -> list[str]:
        config = load_kubeconfig(args.kubeconfig or _admin_kubeconfig())
        async with Client(config) as client:
            return await apply_paths(
                client, args.filename, namespace=args.namespace, force=args.force_conflicts
            )

    try:
        for line in asyncio.run(run()):
            print(line)
    except (ApplyError, ClientError, ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


def _kubectl(args: list[str]) -> int:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        print("skiff: kubectl is not installed", file=sys.stderr)
        return 127
    env = dict(os.environ)
    if "KUBECONFIG" not in env:
        env["KUBECONFIG"] = str(_admin_kubeconfig())
    os.execve(kubectl, [kubectl, *args], env)
