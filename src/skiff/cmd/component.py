"""What ``skiff scheduler`` and ``skiff controller-manager`` share as processes.

Both run one `skiff.client.LeaderElectedComponent` until SIGTERM/SIGINT (exit 0; a leader
releases its Lease) or until it loses its Lease (exit 1, for the supervisor to start it again);
both write their pid to ``--ready-file`` once ready and remove it on the way out; both serve
``/metrics`` and ``/healthz`` over plain HTTP (`skiff.util.metricsserver`), a port that cannot be
bound being logged, not fatal.

- ``parse_bool(text)``: an argparse ``type`` for ``--leader-elect=true|false``;
- ``ready_announcer(ready_file)``: the ``on_ready`` callback writing the pid (atomically);
- ``election_options(args, ready_file)``: the component's election keywords from the
  ``--leader-elect*`` flags, ``on_ready`` announcing on ``ready_file``;
- ``metrics_endpoint(name, render, host, port, healthy=...)``: serves for the ``async with``
  block (``port`` 0: not at all);
- ``run_until_stopped(name, component)``: the signal handling and exit codes above;
- ``run_process(main, ready_file, runner=asyncio.run)``: runs ``main`` and removes the ready
  file afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skiff.util.metricsserver import serve_metrics

if TYPE_CHECKING:  # the client is imported when a component runs, not when the CLI starts
    from skiff.client import LeaderElectedComponent, LeaderElection

__all__ = [
    "election_options",
    "metrics_endpoint",
    "parse_bool",
    "ready_announcer",
    "run_process",
    "run_until_stopped",
]


def parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "1", "yes", "t"):
        return True
    if lowered in ("false", "0", "no", "f"):
        return False
    raise argparse.ArgumentTypeError(f"invalid boolean {text!r} (true or false)")


def ready_announcer(ready_file: Path | None) -> Callable[[], None]:
    """A callback writing this process's pid to ``ready_file`` (nothing without one)."""

    def announce() -> None:
        if ready_file is not None:
            tmp = ready_file.with_suffix(".tmp")
            tmp.write_text(f"{os.getpid()}\n")
            tmp.replace(ready_file)

    return announce


def election_options(args: argparse.Namespace, ready_file: Path | None) -> LeaderElection:
    """``--leader-elect``, ``--leader-elect-lease-duration``, ``--leader-elect-renew-deadline``
    and ``--leader-elect-retry-period`` as `LeaderElectedComponent` keywords."""
    return {
        "leader_elect": bool(args.leader_elect),
        "lease_duration": float(args.leader_elect_lease_duration),
        "renew_deadline": float(args.leader_elect_renew_deadline),
        "retry_period": float(args.leader_elect_retry_period),
        "on_ready": ready_announcer(ready_file),
    }


@contextlib.asynccontextmanager
async def metrics_endpoint(
    name: str,
    render: Callable[[], bytes],
    host: str,
    port: int,
    *,
    healthy: Callable[[], bool] | None = None,
) -> AsyncIterator[None]:
    """Serve ``render()`` on ``http://host:port/metrics`` for the block (``port`` 0: off)."""
    log = logging.getLogger(f"skiff.{name}")
    server = None
    if port:
        try:
            server = await serve_metrics(render, host, port, healthy=healthy)
        except OSError as e:  # metrics are not worth failing for
            log.warning("%s: cannot serve /metrics on %s:%s: %s", name, host, port, e)
        else:
            log.info("%s: metrics on http://%s:%s/metrics", name, host, port)
    try:
        yield
    finally:
        if server is not None:
            server.close()


async def run_until_stopped(name: str, component: LeaderElectedComponent) -> int:
    """Run ``component`` until SIGTERM/SIGINT (0) or until it loses its Lease (1)."""
    from skiff.client import LeadershipLost

    log = logging.getLogger(f"skiff.{name}")
    task = asyncio.create_task(component.run(), name=name)
    loop = asyncio.get_running_loop()

    def on_signal(sig: signal.Signals) -> None:
        log.info("%s: received %s; stopping", name, sig.name)
        task.cancel()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise  # we are being cancelled ourselves, not just the component
        log.info("%s: stopped", name)
        return 0  # stopped by a signal
    except LeadershipLost as e:
        log.error("%s; exiting", e)
        return 1
    return 0


def run_process(
    main: Coroutine[Any, Any, int],
    ready_file: Path | None,
    *,
    runner: Callable[[Coroutine[Any, Any, int]], int] = asyncio.run,
) -> int:
    """``runner(main)``; the ready file is removed afterwards, however it ends."""
    try:
        return runner(main)
    finally:
        if ready_file is not None:
            ready_file.unlink(missing_ok=True)
