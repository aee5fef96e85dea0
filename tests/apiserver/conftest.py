"""An in-process API server on 127.0.0.1 (plain HTTP, bearer token) over a MemoryStore."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from skiff.apiserver.auth import UserInfo
from skiff.apiserver.server import ApiServer, ApiServerConfig
from skiff.store import MemoryStore

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
            watch_window=200,
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
async def api(apiserver: ApiServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{apiserver.bound_port}",
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=20,
    ) as client:
        yield client
