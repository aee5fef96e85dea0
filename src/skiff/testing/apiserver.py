"""The real API server in the test's event loop, on 127.0.0.1 (plain HTTP, one admin token).

`in_process_apiserver` is the one place tests build an in-process `ApiServer` over a
`MemoryStore`: it starts the server on a free port, waits until it listens, and on exit stops it
and closes the store, even when the test failed. `admin_config` is a `skiff.client.Config` for it.
Client tests run against this server (the real registry, validation, watch cache and selectors);
the fake API server (`skiff.testing.fakeapi`) stays for fault injection only.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from skiff.api import resources
from skiff.apiserver.auth import UserInfo
from skiff.apiserver.context import RequestContext
from skiff.apiserver.errors import AlreadyExistsError
from skiff.apiserver.server import ApiServer, ApiServerConfig
from skiff.client import Config
from skiff.store import MemoryStore

__all__ = ["ADMIN_TOKEN", "admin_config", "in_process_apiserver", "server_url"]

ADMIN_TOKEN = "test-admin-token"
"""The bearer token of ``system:masters`` on servers from `in_process_apiserver`."""


@asynccontextmanager
async def in_process_apiserver(
    *, start_timeout: float = 15.0, default_service_account: bool = True, **config: Any
) -> AsyncIterator[ApiServer]:
    """Run an `ApiServer` over a fresh `MemoryStore` until the block ends.

    ``config`` overrides `ApiServerConfig` fields; the defaults suit tests: a free port, the admin
    token, bookmarks every 0.5 s and a 200-event watch window (so expiry is reachable). With
    ``default_service_account`` the ``default/default`` ServiceAccount is created before the
    server is handed out: the controller-manager's serviceaccount controller makes it in a real
    cluster, and most tests run without one and create pods in ``default``.
    """
    settings: dict[str, Any] = {
        "port": 0,
        "tokens": {ADMIN_TOKEN: UserInfo("admin", ("system:masters",))},
        "bookmark_interval": 0.5,
        "watch_window": 200,
    }
    settings.update(config)
    store = MemoryStore()
    server = ApiServer(store, ApiServerConfig(**settings))
    started = asyncio.Event()
    task = asyncio.create_task(server.run(started=started))
    ready = asyncio.create_task(started.wait())
    try:
        done, _ = await asyncio.wait(
            {task, ready}, timeout=start_timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if task in done:
            task.result()  # the server failed to start: raise its error
            raise RuntimeError("the API server stopped before it started")
        if ready not in done:
            raise TimeoutError(f"the API server did not start within {start_timeout} s")
        if default_service_account:
            await _create_default_service_account(server)
        yield server
    finally:
        ready.cancel()
        server.stop()
        try:
            async with asyncio.timeout(start_timeout):
                await asyncio.gather(task, return_exceptions=True)
        finally:
            await store.close()


async def _create_default_service_account(server: ApiServer) -> None:
    info = resources.by_resource("", "v1", "serviceaccounts")
    assert info is not None
    with contextlib.suppress(AlreadyExistsError):
        await server.registry.create(
            info,
            "default",
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}},
            RequestContext(user=UserInfo("system:test", ("system:masters",))),
        )


def server_url(server: ApiServer) -> str:
    """``http://127.0.0.1:<port>`` of a started in-process server."""
    return f"http://127.0.0.1:{server.bound_port}"


def admin_config(server: ApiServer, *, namespace: str = "default") -> Config:
    """A client `Config` for ``server`` with the admin token."""
    return Config(server=server_url(server), token=ADMIN_TOKEN, namespace=namespace)
