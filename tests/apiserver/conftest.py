"""An in-process API server on 127.0.0.1 (plain HTTP, bearer token) over a MemoryStore, and an
in-process controller-manager against it for the tests that need controllers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from skiff.api import resources
from skiff.apiserver.server import ApiServer
from skiff.controllers import ControllerManager
from skiff.testing.apiserver import ADMIN_TOKEN, in_process_apiserver
from skiff.testing.cluster import running_controller_manager

TOKEN = ADMIN_TOKEN
SERVICE_ACCOUNTS = resources.by_resource("", "v1", "serviceaccounts")
assert SERVICE_ACCOUNTS is not None


@pytest.fixture
async def apiserver() -> AsyncIterator[ApiServer]:
    async with in_process_apiserver(bookmark_interval=0.5, watch_window=200) as server:
        yield server


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
    # not the workload controllers: these tests create ReplicaSets as plain API objects and make
    # their pods themselves
    workloads = ("deployment", "replicaset", "replicationcontroller", "daemonset", "statefulset")
    async with running_controller_manager(
        f"http://127.0.0.1:{apiserver.bound_port}",
        TOKEN,
        controllers=("*", *(f"-{name}" for name in workloads)),
    ) as manager:
        yield manager
