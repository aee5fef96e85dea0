"""An in-process API server on 127.0.0.1 (plain HTTP, bearer token) over a MemoryStore, and an
in-process controller-manager against it for the tests that need controllers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from skiff.api import resources
from skiff.apiserver.auth import UserInfo
from skiff.apiserver.registry import RequestContext
from skiff.apiserver.server import ApiServer, ApiServerConfig
from skiff.controllers import ControllerManager
from skiff.store import MemoryStore
from skiff.testing.cluster import running_controller_manager

TOKEN = "test-admin-token"
SERVICE_ACCOUNTS = resources.by_resource("", "v1", "serviceaccounts")
assert SERVICE_ACCOUNTS is not None


@pytest.fixture
async def apiserver() -> AsyncIterator[ApiServer]:
    store = MemoryStore()
    server = ApiServer(
        store,
        ApiServerConfig(
            port=0,
            tokens={TOKEN: UserInfo("admin", ("system:masters",))},
            bookmark_interval=0.5,
            watch_window=200,
        ),
    )
    started = asyncio.Event()
    task = asyncio.create_task(server.run(started=started))
    try:
        await asyncio.wait_for(started.wait(), 15)
        # the controller-manager's serviceaccount controller would create this; most tests here
        # run without one and create pods in "default"
        await server.registry.create(
            SERVICE_ACCOUNTS,
            "default",
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}},
            RequestContext(user=UserInfo("test", ("system:masters",))),
        )
        yield server
    finally:
        server.stop()
        try:
            await asyncio.wait_for(task, 15)
        finally:
            await store.close()


@pytest.fixture
async def api(apiserver: ApiServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{apiserver.bound_port}",
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=20,
    ) as client:
        yield client


@pytest.fixture
async def controller_manager(apiserver: ApiServer) -> AsyncIterator[ControllerManager]:
    """The controller-manager in this event loop against ``apiserver`` (garbage collection,
    namespace deletion, default ServiceAccounts, PodDisruptionBudget status...), for tests of
    behaviour that moved out of the API server."""
    async with running_controller_manager(
        f"http://127.0.0.1:{apiserver.bound_port}", TOKEN
    ) as manager:
        yield manager
