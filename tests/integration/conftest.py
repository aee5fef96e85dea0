"""Fixtures for integration tests: one real ``skiff apiserver`` per module, kubectl, namespaces."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from skiff.testing.cluster import Kubectl, ServerProcess


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    data = Path(tempfile.mkdtemp(prefix="skiff-it-"))
    proc = ServerProcess(data_dir=data)
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
    try:
        yield name
    finally:
        kubectl.run("delete", "namespace", name, "--wait=false", "--ignore-not-found")
