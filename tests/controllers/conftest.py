"""Fixtures for controller tests: an in-process API server on 127.0.0.1 (plain HTTP, bearer token,
MemoryStore), an httpx client on it, and an in-process controller-manager against it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from skiff.apiserver.auth import UserInfo
from skiff.apiserver.server import ApiServer, ApiServerConfig
from skiff.client import Client, Config
from skiff.controllers import ControllerManager
from skiff.store import MemoryStore
from skiff.testing.cluster import running_controller_manager

TOKEN = "test-admin-token"


@pytest.fixture
async def apiserver() -> AsyncIterator[ApiServer]:
    store = MemoryStore()
    server = ApiServer(
        store,
        ApiServerConfig(
            port=0,
            tokens={TOKEN: UserInfo("admin", ("system:masters",))},
            bookmark_interval=0.5,
            watch_window=2000,
        ),
    )
    started = asyncio.Event()
    task = asyncio.create_task(server.run(started=started))
    try:
        await asyncio.wait_for(started.wait(), 15)
        yield server
    finally:
        server.stop()
        try:
            await asyncio.wait_for(task, 15)
        finally:
            await store.close()


@pytest.fixture
def url(apiserver: ApiServer) -> str:
    return f"http://127.0.0.1:{apiserver.bound_port}"


@pytest.fixture
def token() -> str:
    return TOKEN


@pytest.fixture
async def api(url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=20
    ) as client:
        yield client


@pytest.fixture
async def client(url: str) -> AsyncIterator[Client]:
    async with Client(Config(server=url, token=TOKEN), timeout=10) as c:
        yield c


WORKLOADS = ("deployment", "replicaset", "replicationcontroller", "daemonset", "statefulset")


@pytest.fixture
async def controller_manager(url: str) -> AsyncIterator[ControllerManager]:
    """Every controller but the workload ones (ReplicaSets here are API objects whose pods the
    tests create themselves; test_replicaset.py and test_deployment.py run those controllers)."""
    controllers = ("*", *(f"-{name}" for name in WORKLOADS))
    async with running_controller_manager(url, TOKEN, controllers=controllers) as manager:
        yield manager
