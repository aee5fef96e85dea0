"""Pulls over the OCI distribution API from Debian's docker-registry on 127.0.0.1: anonymous,
htpasswd basic auth (credentials from the pull's auth map and from registries.yaml), the Bearer
token flow (through `BearerProxy`), the registry's own error text (``manifest unknown``, pull
access denied), a tampered blob refused by digest, a manifest list narrowed to the platform, a zstd
layer, and a docker.io mirror on loopback used in offline mode. Every test runs with any
non-loopback lookup or connection failing it."""

from __future__ import annotations

import asyncio
import json
import platform
from collections.abc import Iterator
from pathlib import Path

import pytest

from skiff.runtime.images.base import ImageNotAllowed, ImagePullError, RegistryAuth
from skiff.runtime.images.policy import RegistryPolicy
from skiff.runtime.images.registry import parse_challenge, select_manifest
from skiff.runtime.images.store import ImageStore
from skiff.testing.images import (
    BearerProxy,
    LocalRegistry,
    build_image_layout,
    layer_tar,
)

pytestmark = pytest.mark.usefixtures("loopback_only")


def _store(tmp_path: Path, **kw: object) -> ImageStore:
    return ImageStore(tmp_path / "images", policy=RegistryPolicy(offline=True), **kw)  # type: ignore[arg-type]


async def test_anonymous_pull(
    tmp_path: Path, registry: LocalRegistry, busybox_layout: Path, store: ImageStore
) -> None:
    digest = registry.push(busybox_layout, "anon/busybox", "1.0")
    ref = f"{registry.host}/anon/busybox:1.0"
    info = await store.pull(ref)
    assert info.repo_tags == (ref,)
    assert info.repo_digests == (f"{registry.host}/anon/busybox@{digest}",)
    assert info.config.cmd == ("sh",)
    assert info.size > 1_000_000
    (layer,) = store.layer_dirs(info.id)
    assert (layer / "bin/busybox").stat().st_size > 1_000_000
    assert (layer / "bin/sh").readlink() == Path("busybox")
    assert store.get(ref) == info
    assert store.get(f"{registry.host}/anon/busybox@{digest}") == info
    assert store.get(info.id[7:19]) == info
    # pulled by digest as well
    again = await store.pull(f"{registry.host}/anon/busybox@{digest}")
    assert again.id == info.id
    # nothing is left in tmp/ and the layer blob is not kept once unpacked
    assert list((tmp_path / "images/tmp").iterdir()) == []
    blobs = {p.name for p in (tmp_path / "images/blobs/sha256").iterdir()}
    assert info.id[7:] in blobs and len(blobs) == 2  # config + manifest


async def test_manifest_unknown_message(registry: LocalRegistry, store: ImageStore) -> None:
    with pytest.raises(ImagePullError, match="manifest unknown") as e:
        await store.pull(f"{registry.host}/nothing/here:1.0")
    assert f"{registry.host}/nothing/here:1.0" in str(e.value)


async def test_connection_refused_is_pull_error(store: ImageStore) -> None:
    from skiff.testing.images import free_port

    with pytest.raises(ImagePullError, match="ConnectError"):
        await store.pull(f"127.0.0.1:{free_port()}/x:1")


async def test_tampered_blob_refused(
    tmp_path: Path, registry: LocalRegistry, store: ImageStore
) -> None:
    layout = build_image_layout(tmp_path / "layout", [layer_tar({"etc/data": b"genuine!"})])
    registry.push(layout, "tamper/img", "1.0")
    top = json.loads((layout / "index.json").read_text())["manifests"][0]["digest"]
    manifest = json.loads((layout / "blobs/sha256" / top[7:]).read_bytes())
    layer_digest = manifest["layers"][0]["digest"]
    data_path = registry.blob_data_path(layer_digest)
    original = data_path.read_bytes()
    data_path.write_bytes(original[:-8] + bytes(b ^ 0xFF for b in original[-8:]))
    with pytest.raises(ImagePullError, match="digest mismatch") as e:
        await store.pull(f"{registry.host}/tamper/img:1.0")
    assert layer_digest in str(e.value)
    assert store.images() == []
    assert list((tmp_path / "images/layers").iterdir()) == []


@pytest.mark.parametrize(
    ("machine", "want"), [("x86_64", "linux/amd64"), ("aarch64", "linux/arm64/v8")]
)
async def test_manifest_list_picks_platform(
    tmp_path: Path,
    registry: LocalRegistry,
    monkeypatch: pytest.MonkeyPatch,
    machine: str,
    want: str,
) -> None:
    layout = build_image_layout(
        tmp_path / "layout",
        [layer_tar({"etc/x": b"x"})],
        platforms=["linux/arm/v7", "linux/amd64", "linux/arm64/v8"],
    )
    registry.push(layout, "multi/img", "1.0")
    monkeypatch.setattr(platform, "machine", lambda: machine)
    store = _store(tmp_path)
    info = await store.pull(f"{registry.host}/multi/img:1.0")
    assert info.config.labels["skiff.test/platform"] == want
    # the repo digest is the list's, as docker reports it
    index_digest = json.loads((layout / "index.json").read_text())["manifests"][0]["digest"]
    assert info.repo_digests == (f"{registry.host}/multi/img@{index_digest}",)


def test_select_manifest_without_match() -> None:
    index = {
        "manifests": [{"digest": "sha256:1", "platform": {"os": "linux", "architecture": "s390x"}}]
    }
    with pytest.raises(ImagePullError, match="no matching manifest for linux/amd64"):
        select_manifest(index, ("linux", "amd64", ""))


async def test_zstd_layer(tmp_path: Path, registry: LocalRegistry, store: ImageStore) -> None:
    layout = build_image_layout(
        tmp_path / "layout", [layer_tar({"srv/hello.txt": b"zstd!"})], compression="zstd"
    )
    registry.push(layout, "zstd/img", "1.0")
    info = await store.pull(f"{registry.host}/zstd/img:1.0")
    (layer,) = store.layer_dirs(info.id)
    assert (layer / "srv/hello.txt").read_bytes() == b"zstd!"


async def test_docker_io_mirror_offline(
    tmp_path: Path, registry: LocalRegistry, busybox_layout: Path
) -> None:
    registry.push(busybox_layout, "library/busybox", "1.36")
    policy = RegistryPolicy.from_dict(
        {"mirrors": {"docker.io": {"endpoint": [registry.url]}}}, offline=True
    )
    store = ImageStore(tmp_path / "images", policy=policy)
    info = await store.pull("busybox:1.36")
    assert info.repo_tags == ("docker.io/library/busybox:1.36",)
    image, pulled = await store.ensure("docker.io/library/busybox:1.36", "IfNotPresent")
    assert (image.id, pulled) == (info.id, False)


def test_parse_challenge() -> None:
    assert parse_challenge(
        'Bearer realm="https://auth.example/token",service="registry.example",'
        'scope="repository:a/b:pull,push"'
    ) == (
        "bearer",
        {
            "realm": "https://auth.example/token",
            "service": "registry.example",
            "scope": "repository:a/b:pull,push",
        },
    )
    assert parse_challenge('Basic realm="x"') == ("basic", {"realm": "x"})


@pytest.fixture(scope="module")
def auth_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRegistry]:
    import shutil

    if shutil.which("docker-registry") is None:
        pytest.skip("docker-registry is not installed")
    with LocalRegistry(tmp_path_factory.mktemp("authreg"), users={"alice": "wonderland"}) as reg:
        yield reg


async def test_basic_auth(tmp_path: Path, auth_registry: LocalRegistry, small_layout: Path) -> None:
    auth_registry.push(small_layout, "private/busybox", "1.0")
    ref = f"{auth_registry.host}/private/busybox:1.0"
    store = _store(tmp_path / "a")
    with pytest.raises(ImagePullError, match=r"pull access denied .* authorization failed"):
        await store.pull(ref)
    with pytest.raises(ImagePullError, match="pull access denied"):
        await store.pull(ref, {auth_registry.host: RegistryAuth("alice", "wrong")})
    info = await store.pull(ref, {auth_registry.host: RegistryAuth("alice", "wonderland")})
    assert info.repo_tags == (ref,)
    # the same credentials from registries.yaml
    policy = RegistryPolicy.from_dict(
        {
            "configs": {
                auth_registry.host: {"auth": {"username": "alice", "password": "wonderland"}}
            }
        },
        offline=True,
    )
    other = ImageStore(tmp_path / "b" / "images", policy=policy)
    assert (await other.pull(ref)).id == info.id


async def test_bearer_token_flow(
    tmp_path: Path, registry: LocalRegistry, small_layout: Path
) -> None:
    registry.push(small_layout, "tokened/busybox", "1.0")
    with BearerProxy(registry.url, users={"bob": "builder"}) as proxy:
        ref = f"{proxy.host}/tokened/busybox:1.0"
        store = _store(tmp_path)
        with pytest.raises(
            ImagePullError, match=r"pull access denied .* token service answered 401"
        ):
            await store.pull(ref)
        with pytest.raises(ImagePullError, match="incorrect username or password"):
            await store.pull(ref, {proxy.host: RegistryAuth("bob", "nope")})
        proxy.requests.clear()
        info = await store.pull(ref, {proxy.host: RegistryAuth("bob", "builder")})
        assert info.repo_tags == (ref,)
        token_calls = [r for r in proxy.requests if r[1].startswith("/token")]
        assert len(token_calls) == 1
        assert "scope=repository%3Atokened%2Fbusybox%3Apull" in token_calls[0][1]
        assert token_calls[0][2].startswith("Basic ")
        blob_calls = [r for r in proxy.requests if "/blobs/" in r[1]]
        assert blob_calls and all(r[2].startswith("Bearer ") for r in blob_calls)


async def test_bearer_anonymous_token(
    tmp_path: Path, registry: LocalRegistry, small_layout: Path
) -> None:
    registry.push(small_layout, "public/busybox", "1.0")
    with BearerProxy(registry.url, anonymous=True) as proxy:
        info = await _store(tmp_path).pull(f"{proxy.host}/public/busybox:1.0")
        assert info.size > 0
        assert all(not r[2].startswith("Basic") for r in proxy.requests)


async def test_concurrent_pulls_share_work(
    tmp_path: Path, registry: LocalRegistry, busybox_layout: Path, store: ImageStore
) -> None:
    registry.push(busybox_layout, "conc/busybox", "1.0")
    registry.push(busybox_layout, "conc/busybox2", "1.0")
    a, b, c = await asyncio.gather(
        store.pull(f"{registry.host}/conc/busybox:1.0"),
        store.pull(f"{registry.host}/conc/busybox:1.0"),
        store.pull(f"{registry.host}/conc/busybox2:1.0"),
    )
    assert a.id == b.id == c.id
    assert len(store.images()) == 1
    assert len(store.images()[0].repo_tags) == 2
    assert len(list((tmp_path / "images/layers").iterdir())) == 1


async def test_https_mirror_with_ca_file(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, small_layout: Path
) -> None:
    from skiff.testing.images import make_tls

    ca, cert, key = make_tls(tmp_path / "tls")
    with LocalRegistry(tmp_path_factory.mktemp("tlsreg"), tls=(cert, key)) as reg:
        assert reg.url.startswith("https://127.0.0.1:")
        reg.push(small_layout, "tls/busybox", "1.0")

        def store(name: str, tls: dict[str, object] | None) -> ImageStore:
            data: dict[str, object] = {"mirrors": {"docker.io": {"endpoint": [reg.url]}}}
            if tls is not None:
                data["configs"] = {reg.host: {"tls": tls}}
            return ImageStore(tmp_path / name, policy=RegistryPolicy.from_dict(data, offline=True))

        with pytest.raises(ImagePullError, match="CERTIFICATE_VERIFY_FAILED"):
            await store("plain", None).pull("tls/busybox:1.0")
        info = await store("ca", {"ca_file": str(ca)}).pull("tls/busybox:1.0")
        assert info.repo_tags == ("docker.io/tls/busybox:1.0",)
        skip = await store("skip", {"insecure_skip_verify": True}).pull("tls/busybox:1.0")
        assert skip.id == info.id


async def test_identity_and_registry_tokens(
    tmp_path: Path, registry: LocalRegistry, small_layout: Path
) -> None:
    registry.push(small_layout, "oauth/busybox", "1.0")
    with BearerProxy(registry.url, identity_tokens=["refresh-me"]) as proxy:
        ref = f"{proxy.host}/oauth/busybox:1.0"
        with pytest.raises(ImagePullError, match="invalid_grant"):
            await _store(tmp_path / "a").pull(
                ref, {proxy.host: RegistryAuth(identity_token="stale")}
            )
        info = await _store(tmp_path / "b").pull(
            ref, {proxy.host: RegistryAuth(identity_token="refresh-me")}
        )
        assert ("POST", "/token", "") in proxy.requests
        # a registry token is sent as it is: no token endpoint involved
        proxy.tokens.add("given-token")
        proxy.requests.clear()
        again = await _store(tmp_path / "c").pull(
            ref, {proxy.host: RegistryAuth(registry_token="given-token")}
        )
        assert again.id == info.id
        assert not [r for r in proxy.requests if r[1].startswith("/token")]
        assert all(r[2] == "Bearer given-token" for r in proxy.requests)


async def test_offline_refuses_a_token_realm_elsewhere(
    tmp_path: Path, registry: LocalRegistry, small_layout: Path, loopback_only: list[str]
) -> None:
    """A loopback registry cannot send an offline pull to a token service on another host."""
    registry.push(small_layout, "realm/img", "1.0")
    realm = "https://auth.example.test/token"
    with (
        BearerProxy(registry.url, anonymous=True, realm=realm) as p,
        pytest.raises(ImageNotAllowed, match=r"auth\.example\.test.*--offline"),
    ):
        await _store(tmp_path).pull(f"{p.host}/realm/img:1.0")
    assert loopback_only == []
