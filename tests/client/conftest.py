"""Fixtures for client tests.

``server`` is the real API server in-process on 127.0.0.1 (`skiff.testing.apiserver`) and
``client`` a `Client` on it with the admin token: what most client tests run against. ``api`` is
the fake API server (`skiff.testing.fakeapi`) and ``fake_client`` a client on it, for fault
injection only: failures with Retry-After, dropped or expired watches, compacted history, server
restarts, request logs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from skiff.apiserver.server import ApiServer
from skiff.client import Client, Config
from skiff.testing.apiserver import admin_config, in_process_apiserver
from skiff.testing.fakeapi import FakeApiServer


@pytest.fixture
async def server() -> AsyncIterator[ApiServer]:
    async with in_process_apiserver() as srv:
        yield srv


@pytest.fixture
async def client(server: ApiServer) -> AsyncIterator[Client]:
    async with Client(admin_config(server), timeout=10.0) as c:
        yield c


@pytest.fixture
async def api() -> AsyncIterator[FakeApiServer]:
    async with FakeApiServer() as fake:
        yield fake


@pytest.fixture
async def fake_client(api: FakeApiServer) -> AsyncIterator[Client]:
    async with Client(Config(server=api.url), timeout=5.0) as c:
        yield c
