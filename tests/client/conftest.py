"""Fixtures for client tests: a fake API server on loopback and a client pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from skiff.client import Client, Config
from skiff.testing.fakeapi import FakeApiServer


@pytest.fixture
async def api() -> AsyncIterator[FakeApiServer]:
    async with FakeApiServer() as server:
        yield server


@pytest.fixture
async def client(api: FakeApiServer) -> AsyncIterator[Client]:
    async with Client(Config(server=api.url), timeout=5.0) as c:
        yield c
