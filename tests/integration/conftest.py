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

from skiff.testing.cluster import Kubectl, ServerProcess


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    data = Path(tempfile.mkdtemp(prefix="skiff-it-"))
    # kube-root-ca.crt is left out: these tests list namespaces' ConfigMaps exactly (its
    # publisher is tested in tests/controllers/test_rootcacert.py)
    proc = ServerProcess(
        data_dir=data,
        controller_manager=True,
        controller_manager_args=["--controllers", "*,-root-ca-cert-publisher"],
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
