"""Registry policy: registries.yaml parsing (mirrors, auth, TLS, allowlist, insecure), the
endpoints a pull may use, and offline mode refusing a non-local pull before any DNS lookup or
connection - through the store's pull and ensure (every pull policy) with the socket layer made to
fail the test if touched. Excludes: actual pulls (test_image_registry)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from skiff.runtime.images.base import ImageNotAllowed
from skiff.runtime.images.policy import PolicyError, RegistryPolicy, is_loopback_host
from skiff.runtime.images.store import ImageStore


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1:5000", True),
        ("127.9.9.9", True),
        ("localhost:5000", True),
        ("[::1]:5000", True),
        ("::1", True),
        ("localhost.example.com", False),
        ("128.0.0.1:5000", False),
        ("docker.io", False),
        ("10.0.0.1:5000", False),
    ],
)
def test_loopback(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_parse_registries_yaml(tmp_path: Path) -> None:
    f = tmp_path / "registries.yaml"
    encoded = base64.b64encode(b"bob:s3cret").decode()
    f.write_text(
        "mirrors:\n"
        "  docker.io:\n"
        '    endpoint: ["http://127.0.0.1:5000", "https://mirror.internal.test/v2"]\n'
        "configs:\n"
        "  mirror.internal.test:\n"
        "    auth: {username: alice, password: pw}\n"
        "    tls: {insecure_skip_verify: true, ca_file: /x/ca.pem}\n"
        "  reg.internal.test:\n"
        f"    auth: {{auth: {encoded}}}\n"
        "allow: [mirror.internal.test]\n"
        "insecure: [reg.internal.test]\n"
    )
    p = RegistryPolicy.load(f)
    eps = p.endpoints("docker.io")
    # allowlist set: docker.io itself is not on it, its loopback and allowlisted mirrors are
    assert [(e.url, e.mirror) for e in eps] == [
        ("http://127.0.0.1:5000", True),
        ("https://mirror.internal.test", True),
    ]
    assert eps[1].config.auth is not None and eps[1].config.auth.username == "alice"
    assert eps[1].config.tls.insecure_skip_verify and eps[1].config.tls.ca_file == "/x/ca.pem"
    cfg = p.config_for("reg.internal.test")
    assert cfg.auth is not None and (cfg.auth.username, cfg.auth.password) == ("bob", "s3cret")


def test_default_endpoints() -> None:
    p = RegistryPolicy(insecure=["reg.lan:5000"])
    assert [e.url for e in p.endpoints("docker.io")] == ["https://registry-1.docker.io"]
    assert [e.url for e in p.endpoints("quay.io")] == ["https://quay.io"]
    assert [e.url for e in p.endpoints("127.0.0.1:5000")] == ["http://127.0.0.1:5000"]
    assert [e.url for e in p.endpoints("reg.lan:5000")] == ["http://reg.lan:5000"]


def test_offline_refusal_names_the_setting() -> None:
    p = RegistryPolicy(offline=True, allow=["reg.internal.test"])
    with pytest.raises(ImageNotAllowed, match="--offline"):
        p.endpoints("docker.io")
    with pytest.raises(ImageNotAllowed, match="allowlist"):
        p.endpoints("quay.io")
    assert [e.url for e in p.endpoints("reg.internal.test")] == ["https://reg.internal.test"]
    assert [e.url for e in p.endpoints("localhost:5000")] == ["http://localhost:5000"]


def test_allowlist_online() -> None:
    p = RegistryPolicy(allow=["reg.internal.test"])
    with pytest.raises(ImageNotAllowed, match="allowlist") as e:
        p.endpoints("docker.io")
    assert "--offline" not in str(e.value)


def test_offline_mirror_stands_in() -> None:
    p = RegistryPolicy(offline=True, mirrors={"docker.io": ["http://127.0.0.1:5999"]})
    assert [(e.url, e.registry) for e in p.endpoints("docker.io")] == [
        ("http://127.0.0.1:5999", "docker.io")
    ]


@pytest.mark.parametrize(
    "text",
    [
        "mirrors: {docker.io: {endpoint: ftp://x}}",
        "mirrors: {docker.io: {endpoint: ['ftp://x']}}",
        "configs: {x: {auth: {auth: '%%%'}}}",
        "allow: host",
        "[1, 2]",
    ],
)
def test_bad_file(tmp_path: Path, text: str) -> None:
    f = tmp_path / "r.yaml"
    f.write_text(text)
    with pytest.raises(PolicyError, match=str(f)):
        RegistryPolicy.load(f)


@pytest.mark.parametrize("pull_policy", ["Always", "IfNotPresent", None])
async def test_offline_store_refuses_before_any_socket(
    tmp_path: Path, loopback_only: list[str], pull_policy: str | None
) -> None:
    store = ImageStore(tmp_path / "images", policy=RegistryPolicy(offline=True))
    with pytest.raises(ImageNotAllowed, match="--offline") as e:
        if pull_policy is None:
            await store.pull("nginx:1.25")
        else:
            await store.ensure("registry.example.com/app:1", pull_policy)
    assert "nginx" in str(e.value) or "registry.example.com" in str(e.value)
    assert loopback_only == []


async def test_guard_catches_network_use(tmp_path: Path, loopback_only: list[str]) -> None:
    """The guard the offline tests rely on does see a pull that tries the network (online policy;
    the name is refused by the guard before it is resolved)."""
    store = ImageStore(tmp_path / "images", policy=RegistryPolicy())
    with pytest.raises(Exception):  # noqa: B017 - the guard's AssertionError, wrapped or not
        await store.pull("registry.example.com/app:1")
    assert loopback_only and "registry.example.com" in loopback_only[0]


def test_auths_from_docker_config() -> None:
    from skiff.runtime.images.policy import auths_from_docker_config

    encoded = base64.b64encode(b"carol:pa:ss").decode()
    auths = auths_from_docker_config(
        {
            "auths": {
                "https://index.docker.io/v1/": {"auth": encoded},
                "127.0.0.1:5000": {"username": "u", "password": "p"},
                "reg.internal.test": {"identitytoken": "refresh"},
                "broken.test": {"auth": "%%%"},
            }
        }
    )
    assert set(auths) == {"docker.io", "127.0.0.1:5000", "reg.internal.test"}
    assert (auths["docker.io"].username, auths["docker.io"].password) == ("carol", "pa:ss")
    assert auths["reg.internal.test"].identity_token == "refresh"
    legacy = auths_from_docker_config({"127.0.0.1:5000": {"username": "u", "password": "p"}})
    assert legacy["127.0.0.1:5000"].password == "p"
