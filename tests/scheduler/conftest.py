"""Fixtures for scheduler tests: an in-process API server (with the default ServiceAccount) and
an admin client for it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from skiff.client import Client, Config
from skiff.testing.apiserver import ADMIN_TOKEN, in_process_apiserver, server_url


@pytest.fixture
async def api() -> AsyncIterator[Client]:
    async with (
        in_process_apiserver(default_service_account=True) as server,
        Client(Config(server=server_url(server), token=ADMIN_TOKEN), timeout=10) as client,
    ):
        yield client
