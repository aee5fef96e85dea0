"""Fixtures for the image tests: one local docker-registry per session, built test images, a
store in offline mode, and a guard that fails a test whose code resolves or connects to anything
but 127.0.0.1."""

from __future__ import annotations

import asyncio
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from skiff.runtime.images.policy import RegistryPolicy
from skiff.runtime.images.store import ImageStore
from skiff.testing.images import LocalRegistry, build_busybox_layout, build_image_layout, layer_tar

LOCAL = ("127.0.0.1", "localhost", "::1")


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRegistry]:
    if shutil.which("docker-registry") is None:
        pytest.skip("docker-registry is not installed (Debian package docker-registry)")
    with LocalRegistry(tmp_path_factory.mktemp("registry")) as reg:
        yield reg


@pytest.fixture(scope="session")
def busybox_layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not Path("/bin/busybox").exists():
        pytest.skip("/bin/busybox is missing (Debian package busybox-static)")
    return build_busybox_layout(tmp_path_factory.mktemp("busybox") / "layout")


@pytest.fixture(scope="session")
def small_layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-layer image of a few files (for tests about transport, not content)."""
    layer = layer_tar({"etc/os-release": b"ID=skiff-test\n", "bin/tool": b"#!/bin/sh\n"})
    return build_image_layout(tmp_path_factory.mktemp("small") / "layout", [layer], name="small")


@pytest.fixture
def store(tmp_path: Path) -> ImageStore:
    return ImageStore(tmp_path / "images", policy=RegistryPolicy(offline=True))


class CountingTransport(httpx.AsyncHTTPTransport):
    """Records the path of every request the store sends."""

    def __init__(self) -> None:
        super().__init__()
        self.paths: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        return await super().handle_async_request(request)


@pytest.fixture
def counting_transport() -> CountingTransport:
    return CountingTransport()


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Fail any name lookup or connection to a non-loopback host; returns the attempts."""
    attempts: list[str] = []
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in LOCAL:
            attempts.append(f"getaddrinfo {name}")
            raise AssertionError(f"test resolved {name}")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(self: socket.socket, address: Any) -> Any:
        if isinstance(address, tuple) and address[0] not in LOCAL:
            attempts.append(f"connect {address}")
            raise AssertionError(f"test connected to {address}")
        return real_connect(self, address)

    async def loop_getaddrinfo(self: Any, host: Any, *args: Any, **kwargs: Any) -> Any:
        return getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(asyncio.BaseEventLoop, "getaddrinfo", loop_getaddrinfo)
    return attempts
