"""Distribution-protocol edge cases against a scripted registry (httpx.MockTransport): a manifest
whose bytes do not match the digest asked for or the ``Docker-Content-Digest`` header, schema 1
manifests, a layer count that disagrees with the config, server errors carrying the registry's
message, blob redirects to another host (credentials not forwarded), and a mirror that fails
falling back to the next endpoint. Excludes: real registries (test_image_registry)."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from skiff.runtime.images.base import ImageNotAllowed, ImagePullError, RegistryAuth
from skiff.runtime.images.policy import RegistryPolicy
from skiff.runtime.images.store import ImageStore
from skiff.testing.images import layer_tar

HOST = "127.0.0.1:1"  # never connected to: the transport answers


def _d(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Scripted:
    """A tiny registry: one image ``repo:1.0`` with one gzip layer."""

    def __init__(self) -> None:
        self.layer = layer_tar({"hello": b"world"})
        self.blob = gzip.compress(self.layer, mtime=0)
        self.config = json.dumps(
            {"rootfs": {"type": "layers", "diff_ids": [_d(self.layer)]}, "config": {"Cmd": ["x"]}}
        ).encode()
        self.manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"digest": _d(self.config), "size": len(self.config)},
                "layers": [
                    {
                        "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                        "digest": _d(self.blob),
                        "size": len(self.blob),
                    }
                ],
            }
        ).encode()
        self.requests: list[httpx.Request] = []
        self.override: Callable[[httpx.Request], httpx.Response | None] = lambda r: None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.override(request)
        if answer is not None:
            return answer
        path = request.url.path
        if path.endswith(("/manifests/1.0", f"/manifests/{_d(self.manifest)}")):
            return httpx.Response(
                200,
                content=self.manifest,
                headers={
                    "Content-Type": "application/vnd.oci.image.manifest.v1+json",
                    "Docker-Content-Digest": _d(self.manifest),
                },
            )
        for data in (self.config, self.blob):
            if path.endswith(f"/blobs/{_d(data)}"):
                return httpx.Response(200, content=data)
        return httpx.Response(
            404, json={"errors": [{"code": "BLOB_UNKNOWN", "message": "blob unknown to registry"}]}
        )


def _store(tmp_path: Path, reg: Scripted, policy: RegistryPolicy | None = None) -> ImageStore:
    return ImageStore(
        tmp_path / "images",
        policy=policy or RegistryPolicy(offline=True),
        transport=httpx.MockTransport(reg),
    )


async def test_scripted_pull_works(tmp_path: Path) -> None:
    reg = Scripted()
    info = await _store(tmp_path, reg).pull(f"{HOST}/repo:1.0")
    assert info.config.cmd == ("x",)
    assert info.repo_digests == (f"{HOST}/repo@{_d(reg.manifest)}",)


async def test_manifest_header_digest_mismatch(tmp_path: Path) -> None:
    reg = Scripted()
    reg.override = lambda r: (
        httpx.Response(200, content=reg.manifest, headers={"Docker-Content-Digest": _d(b"x")})
        if "/manifests/" in r.url.path
        else None
    )
    with pytest.raises(ImagePullError, match="manifest digest mismatch"):
        await _store(tmp_path, reg).pull(f"{HOST}/repo:1.0")


async def test_manifest_by_digest_mismatch(tmp_path: Path) -> None:
    reg = Scripted()
    wanted = _d(b"something else")
    reg.override = lambda r: (
        httpx.Response(200, content=reg.manifest) if "/manifests/" in r.url.path else None
    )
    with pytest.raises(ImagePullError, match="manifest digest mismatch"):
        await _store(tmp_path, reg).pull(f"{HOST}/repo@{wanted}")


async def test_schema1_refused(tmp_path: Path) -> None:
    reg = Scripted()
    body = json.dumps({"schemaVersion": 1, "name": "repo", "fsLayers": []}).encode()
    reg.override = lambda r: (
        httpx.Response(
            200,
            content=body,
            headers={"Content-Type": "application/vnd.docker.distribution.manifest.v1+prettyjws"},
        )
        if "/manifests/" in r.url.path
        else None
    )
    with pytest.raises(ImagePullError, match="schema 1"):
        await _store(tmp_path, reg).pull(f"{HOST}/repo:1.0")


async def test_layer_count_disagrees(tmp_path: Path) -> None:
    reg = Scripted()
    reg.config = json.dumps({"rootfs": {"diff_ids": []}}).encode()
    m = json.loads(reg.manifest)
    m["config"] = {"digest": _d(reg.config), "size": len(reg.config)}
    reg.manifest = json.dumps(m).encode()
    with pytest.raises(ImagePullError, match="lists 1 layers, the config 0"):
        await _store(tmp_path, reg).pull(f"{HOST}/repo:1.0")


async def test_server_error_message(tmp_path: Path) -> None:
    reg = Scripted()
    reg.override = lambda r: httpx.Response(
        503, json={"errors": [{"code": "UNAVAILABLE", "message": "too many requests, slow down"}]}
    )
    with pytest.raises(ImagePullError, match=r"too many requests, slow down \(HTTP 503"):
        await _store(tmp_path, reg).pull(f"{HOST}/repo:1.0")


async def test_blob_redirect_drops_credentials(tmp_path: Path) -> None:
    reg = Scripted()
    storage = "127.0.0.2:9"

    def override(r: httpx.Request) -> httpx.Response | None:
        if r.url.host == "127.0.0.1" and r.url.path.endswith(f"/blobs/{_d(reg.blob)}"):
            if "authorization" not in r.headers:
                return httpx.Response(
                    401, headers={"WWW-Authenticate": 'Basic realm="x"'}, json={"errors": []}
                )
            return httpx.Response(307, headers={"Location": f"http://{storage}/data?sig=1"})
        if r.url.host == "127.0.0.2":
            return httpx.Response(200, content=reg.blob)
        return None

    reg.override = override
    store = _store(tmp_path, reg)
    await store.pull(f"{HOST}/repo:1.0", {HOST: RegistryAuth("u", "p")})
    to_storage = [r for r in reg.requests if r.url.host == "127.0.0.2"]
    assert len(to_storage) == 1 and "authorization" not in to_storage[0].headers


async def test_mirror_failure_falls_back(tmp_path: Path) -> None:
    reg = Scripted()
    reg.override = lambda r: (
        httpx.Response(
            404, json={"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]}
        )
        if r.url.port == 2
        else None
    )
    policy = RegistryPolicy(offline=True, mirrors={HOST: ["http://127.0.0.1:2"]})
    info = await _store(tmp_path, reg, policy).pull(f"{HOST}/repo:1.0")
    assert [r.url.port for r in reg.requests][:2] == [2, 1]
    assert info.repo_tags == (f"{HOST}/repo:1.0",)


async def test_offline_refuses_a_redirect_elsewhere(tmp_path: Path) -> None:
    reg = Scripted()

    def override(r: httpx.Request) -> httpx.Response | None:
        if r.url.host == "127.0.0.1" and r.url.path.endswith(f"/blobs/{_d(reg.blob)}"):
            return httpx.Response(307, headers={"Location": "https://cdn.example.test/blob"})
        return None

    reg.override = override
    with pytest.raises(ImageNotAllowed, match=r"cdn\.example\.test"):
        await _store(tmp_path, reg).pull(f"{HOST}/repo:1.0")
    assert all(r.url.host != "cdn.example.test" for r in reg.requests)
    # online, with no allowlist, the same redirect is followed
    online = _store(tmp_path / "online", reg, RegistryPolicy())
    reg.override = lambda r: (
        override(r)
        if r.url.host == "127.0.0.1"
        else httpx.Response(200, content=reg.blob)
        if r.url.host == "cdn.example.test"
        else None
    )
    info = await online.pull(f"{HOST}/repo:1.0")
    assert info.config.cmd == ("x",)


@pytest.mark.parametrize("limit", [1, None])
async def test_parallel_pull_limit(tmp_path: Path, limit: int | None) -> None:
    import asyncio

    reg = Scripted()

    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0)  # let the other pull run between requests, as a network would
        return reg(request)

    store = ImageStore(
        tmp_path / "images",
        policy=RegistryPolicy(offline=True),
        transport=httpx.MockTransport(handler),
        max_parallel_pulls=limit,
    )
    await asyncio.gather(store.pull(f"{HOST}/one:1.0"), store.pull(f"{HOST}/two:1.0"))
    order = [r.url.path.split("/")[2] for r in reg.requests]
    contiguous = order == sorted(order) or order == sorted(order, reverse=True)
    assert contiguous is (limit == 1), order
