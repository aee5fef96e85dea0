"""Fixtures for agent tests: the real API server in-process and an admin client on it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from skiff.apiserver.server import ApiServer
from skiff.client import Client, Config
from skiff.testing.apiserver import admin_config, in_process_apiserver


@pytest.fixture
async def server() -> AsyncIterator[ApiServer]:
    async with in_process_apiserver(default_service_account=True) as srv:
        yield srv


@pytest.fixture
def config(server: ApiServer) -> Config:
    return admin_config(server)


@pytest.fixture
async def client(config: Config) -> AsyncIterator[Client]:
    async with Client(config, timeout=10.0) as c:
        yield c
