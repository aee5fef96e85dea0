"""Fixtures for integration tests: one real ``skiff apiserver`` (and ``skiff controller-manager``)
per module, kubectl, namespaces (with their ``default`` ServiceAccount)."""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config
from kubernetes.client import ApiClient
from kubernetes.client.rest import ApiException
from pyclient import close_api_client

from skiff.testing.cluster import Kubectl, ServerProcess

WITHOUT_WORKLOADS = (
    "*,-root-ca-cert-publisher,-deployment,-replicaset,-replicationcontroller,-daemonset,"
    "-statefulset,-nodelifecycle,-podgc"
)


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    data = Path(tempfile.mkdtemp(prefix="skiff-it-"))
    # kube-root-ca.crt is left out: these tests list namespaces' ConfigMaps exactly (its
    # publisher is tested in tests/controllers/test_rootcacert.py). So are the workload
    # controllers: these tests pin API behaviour of Deployments and ReplicaSets (generations,
    # resourceVersions) that a controller writing revisions and status would race with; the
    # workload controllers have their own tests and servers (test_rollout.py). And the node
    # lifecycle and pod GC controllers: Nodes here have no agent renewing their Lease.
    proc = ServerProcess(
        data_dir=data,
        controller_manager=True,
        controller_manager_args=["--controllers", WITHOUT_WORKLOADS],
    )
    try:
        proc.start()
        yield proc
    finally:
        proc.stop()
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="module")
def kubectl(server: ServerProcess) -> Iterator[Kubectl]:
    k = Kubectl(server.kubeconfig)
    try:
        yield k
    finally:
        k.cleanup()


@pytest.fixture
def ns(kubectl: Kubectl) -> Iterator[str]:
    """A fresh namespace for one test, deleted afterwards (without waiting)."""
    name = f"skiff-t-{uuid.uuid4().hex[:8]}"
    kubectl("create", "namespace", name)
    # pods are refused until the controller-manager gave the namespace its default account
    for _ in range(300):
        if kubectl.run("get", "serviceaccount", "default", "-n", name).returncode == 0:
            break
        time.sleep(0.05)
    try:
        yield name
    finally:
        kubectl.run("delete", "namespace", name, "--wait=false", "--ignore-not-found")


# ---------------------------------------------------------------- the official Python client


@pytest.fixture
def api(server: ServerProcess) -> Iterator[ApiClient]:
    """An ApiClient configured from the server's admin kubeconfig, closed after the test."""
    api_client = config.new_client_from_config(config_file=str(server.kubeconfig))
    try:
        yield api_client
    finally:
        close_api_client(api_client)


@pytest.fixture
def core(api: ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api)


@pytest.fixture
def default_service_account(core: client.CoreV1Api, ns: str) -> None:
    """Wait until ``ns`` has its ``default`` ServiceAccount.

    As in Kubernetes, the account is created asynchronously after the namespace, and the
    ServiceAccount admission plugin refuses pods until it exists.
    """
    deadline = time.monotonic() + 10
    while True:
        try:
            core.read_namespaced_service_account("default", ns)
            return
        except ApiException as e:
            if e.status != 404 or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
