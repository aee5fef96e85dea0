"""`skiff.agent.envvars`: container environment, `$(VAR)` expansion and argv.

Covers expand (escapes, unknown and unterminated references), env value/valueFrom
(configMapKeyRef, secretKeyRef, optional, fieldRef paths, resourceFieldRef with divisors and the
node-allocatable default), envFrom with prefix and invalid names, ordering and overriding, the
service link variables (enableServiceLinks, the kubernetes service from default, headless
services), Kubernetes' error messages, and container_argv's merge with the image config. The
lookup is an in-memory double; reading through the API is the core's part.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import pytest

from skiff.agent.envvars import (
    ConfigError,
    container_argv,
    container_env,
    expand,
    field_value,
    service_env,
)
from skiff.runtime.images.base import ImageConfig


class Lookup:
    def __init__(
        self,
        config_maps: dict[tuple[str, str], dict[str, Any]] | None = None,
        secrets: dict[tuple[str, str], dict[str, Any]] | None = None,
        services: dict[str, list[dict[str, Any]]] | None = None,
    ) -> None:
        self.config_maps = config_maps or {}
        self.secrets = secrets or {}
        self._services = services or {}

    async def config_map(self, namespace: str, name: str) -> Mapping[str, Any] | None:
        return self.config_maps.get((namespace, name))

    async def secret(self, namespace: str, name: str) -> Mapping[str, Any] | None:
        return self.secrets.get((namespace, name))

    async def services(self, namespace: str) -> list[Mapping[str, Any]]:
        return list(self._services.get(namespace, []))


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _svc(namespace: str, name: str, ip: str, *ports: dict[str, Any]) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"clusterIP": ip, "ports": list(ports)},
    }


KUBERNETES = _svc("default", "kubernetes", "10.43.0.1", {"name": "https", "port": 443})


def _pod(container: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {
            "name": "web-1",
            "namespace": "shop",
            "uid": "uid-1",
            "labels": {"app": "web", "tier": "front"},
            "annotations": {"note": 'say "hi"'},
        },
        "spec": {
            "nodeName": "node-a",
            "serviceAccountName": "builder",
            "containers": [container],
            **spec,
        },
        "status": {"podIPs": [{"ip": "10.42.0.7"}, {"ip": "fd00::7"}]},
    }


async def _env(pod: dict[str, Any], lookup: Lookup | None = None, **kw: Any) -> dict[str, str]:
    pairs = await container_env(
        pod,
        pod["spec"]["containers"][0],
        lookup=lookup or Lookup(),
        node_name="node-a",
        node_ip="192.168.1.5",
        pod_ip="10.42.0.7",
        **kw,
    )
    names = [k for k, _ in pairs]
    assert len(names) == len(set(names)), "each name once"
    return dict(pairs)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("$(A)", "a"),
        ("x$(A)y$(B)z", "xaybz"),
        ("$$(A)", "$(A)"),
        ("$$$$", "$$"),
        ("$(MISSING)", "$(MISSING)"),
        ("$(A", "$(A"),
        ("cost: 5$", "cost: 5$"),
        ("$x and $", "$x and $"),
        ("$()", "$()"),
        ("$(A)$$(B)$(B)", "a$(B)b"),
    ],
    ids=lambda v: repr(v),
)
def test_expand(text: str, want: str) -> None:
    assert expand(text, {"A": "a", "B": "b"}) == want


async def test_env_values_expand_earlier_vars_only() -> None:
    pod = _pod(
        {
            "name": "c",
            "env": [
                {"name": "HOST", "value": "db"},
                {"name": "URL", "value": "postgres://$(HOST):$(PORT)/$(LATER)"},
                {"name": "LATER", "value": "x"},
                {"name": "EMPTY"},
                {"name": "HOST", "value": "db2"},
            ],
        }
    )
    env = await _env(pod, Lookup(services={"default": [KUBERNETES]}))
    assert env["URL"] == "postgres://db:$(PORT)/$(LATER)"
    assert env["EMPTY"] == ""
    assert env["HOST"] == "db2"  # a later definition wins
    assert env["KUBERNETES_SERVICE_HOST"] == "10.43.0.1"


async def test_value_from_config_maps_and_secrets() -> None:
    lookup = Lookup(
        config_maps={("shop", "settings"): {"data": {"mode": "fast"}}},
        secrets={("shop", "creds"): {"data": {"password": _b64("s3cret")}}},
    )
    pod = _pod(
        {
            "name": "c",
            "env": [
                {
                    "name": "MODE",
                    "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "mode"}},
                },
                {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}},
                {
                    "name": "OPT",
                    "valueFrom": {
                        "configMapKeyRef": {"name": "absent", "key": "k", "optional": True}
                    },
                },
                {
                    "name": "OPTKEY",
                    "valueFrom": {
                        "secretKeyRef": {"name": "creds", "key": "nope", "optional": True}
                    },
                },
                {"name": "USE", "value": "$(MODE)-$(PW)"},
            ],
        }
    )
    env = await _env(pod, lookup)
    assert (env["MODE"], env["PW"]) == ("fast", "s3cret")
    assert "OPT" not in env and "OPTKEY" not in env  # optional and missing: left out
    assert env["USE"] == "fast-s3cret"


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ({"configMapKeyRef": {"name": "absent", "key": "k"}}, 'configmap "absent" not found'),
        ({"secretKeyRef": {"name": "absent", "key": "k"}}, 'secret "absent" not found'),
        (
            {"configMapKeyRef": {"name": "settings", "key": "nope"}},
            "couldn't find key nope in ConfigMap shop/settings",
        ),
        (
            {"secretKeyRef": {"name": "creds", "key": "nope"}},
            "couldn't find key nope in Secret shop/creds",
        ),
        ({"fieldRef": {"fieldPath": "spec.bogus"}}, "unsupported fieldPath: spec.bogus"),
    ],
    ids=["cm-missing", "secret-missing", "cm-key", "secret-key", "field"],
)
async def test_config_errors(ref: dict[str, Any], message: str) -> None:
    lookup = Lookup(
        config_maps={("shop", "settings"): {"data": {"mode": "fast"}}},
        secrets={("shop", "creds"): {"data": {}}},
    )
    pod = _pod({"name": "c", "env": [{"name": "X", "valueFrom": ref}]})
    with pytest.raises(ConfigError) as info:
        await _env(pod, lookup)
    assert str(info.value) == message
    assert info.value.reason == "CreateContainerConfigError"


async def test_env_from_with_prefix_and_precedence() -> None:
    lookup = Lookup(
        config_maps={
            ("shop", "settings"): {
                "data": {"mode": "fast", "bad key": "skipped", "shared": "from-cm"},
                "binaryData": {"blob": _b64("bin")},
            }
        },
        secrets={("shop", "creds"): {"data": {"user": _b64("ann"), "shared": _b64("from-secret")}}},
    )
    pod = _pod(
        {
            "name": "c",
            "envFrom": [
                {"configMapRef": {"name": "settings"}},
                {"secretRef": {"name": "creds"}, "prefix": "DB_"},
                {"secretRef": {"name": "absent", "optional": True}},
            ],
            "env": [{"name": "mode", "value": "slow:$(DB_user)"}],
        }
    )
    env = await _env(pod, lookup)
    assert env["mode"] == "slow:ann"
    assert env["shared"] == "from-cm" and env["DB_shared"] == "from-secret"
    assert env["DB_user"] == "ann"
    assert "blob" not in env  # binaryData is for volumes
    assert "bad key" not in env
    missing = _pod({"name": "c", "envFrom": [{"configMapRef": {"name": "absent"}}]})
    with pytest.raises(ConfigError, match=r'^configmap "absent" not found$'):
        await _env(missing, lookup)


@pytest.mark.parametrize(
    ("path", "want"),
    [
        ("metadata.name", "web-1"),
        ("metadata.namespace", "shop"),
        ("metadata.uid", "uid-1"),
        ("metadata.labels['app']", "web"),
        ("metadata.labels['nope']", ""),
        ("metadata.annotations['note']", 'say "hi"'),
        ("spec.nodeName", "node-a"),
        ("spec.serviceAccountName", "builder"),
        ("status.hostIP", "192.168.1.5"),
        ("status.hostIPs", "192.168.1.5"),
        ("status.podIP", "10.42.0.7"),
        ("status.podIPs", "10.42.0.7,fd00::7"),
    ],
)
async def test_field_refs(path: str, want: str) -> None:
    pod = _pod(
        {"name": "c", "env": [{"name": "V", "valueFrom": {"fieldRef": {"fieldPath": path}}}]}
    )
    assert (await _env(pod))["V"] == want


def test_field_value_whole_maps_only_for_volumes() -> None:
    pod = _pod({"name": "c"})
    assert field_value(pod, "metadata.labels", allow_maps=True) == 'app="web"\ntier="front"'
    assert field_value(pod, "metadata.annotations", allow_maps=True) == 'note="say \\"hi\\""'
    with pytest.raises(ConfigError):
        field_value(pod, "metadata.labels")


async def test_resource_field_refs() -> None:
    def ref(resource: str, divisor: str | None = None) -> dict[str, Any]:
        r: dict[str, Any] = {"resource": resource}
        if divisor:
            r["divisor"] = divisor
        return {"resourceFieldRef": r}

    container = {
        "name": "c",
        "resources": {"limits": {"cpu": "500m"}, "requests": {"cpu": "250m", "memory": "64Mi"}},
        "env": [
            {"name": "CPU_LIMIT", "valueFrom": ref("limits.cpu")},
            {"name": "CPU_LIMIT_M", "valueFrom": ref("limits.cpu", "1m")},
            {"name": "CPU_REQ_M", "valueFrom": ref("requests.cpu", "1m")},
            {"name": "MEM_REQ_MI", "valueFrom": ref("requests.memory", "1Mi")},
            {"name": "MEM_REQ", "valueFrom": ref("requests.memory")},
            {"name": "MEM_LIMIT_MI", "valueFrom": ref("limits.memory", "1Mi")},
            {"name": "MEM_LIMIT_GI", "valueFrom": ref("limits.memory", "1Gi")},
            {"name": "EPH_REQ", "valueFrom": ref("requests.ephemeral-storage")},
        ],
    }
    env = await _env(_pod(container), node_allocatable={"cpu": "4", "memory": "3Gi"})
    assert env["CPU_LIMIT"] == "1"  # rounded up
    assert env["CPU_LIMIT_M"] == "500"
    assert env["CPU_REQ_M"] == "250"
    assert env["MEM_REQ_MI"] == "64"
    assert env["MEM_REQ"] == str(64 * 1024 * 1024)
    assert env["MEM_LIMIT_MI"] == str(3 * 1024)  # unset limit: node allocatable
    assert env["MEM_LIMIT_GI"] == "3"
    assert env["EPH_REQ"] == "0"


def test_service_env_shapes() -> None:
    svc = _svc(
        "shop",
        "my-svc",
        "10.43.0.10",
        {"name": "http", "port": 80},
        {"name": "metrics", "port": 9090, "protocol": "UDP"},
    )
    headless = _svc("shop", "headless", "None", {"port": 80})
    env = dict(service_env([svc, headless]))
    assert env == {
        "MY_SVC_SERVICE_HOST": "10.43.0.10",
        "MY_SVC_SERVICE_PORT": "80",
        "MY_SVC_SERVICE_PORT_HTTP": "80",
        "MY_SVC_SERVICE_PORT_METRICS": "9090",
        "MY_SVC_PORT": "tcp://10.43.0.10:80",
        "MY_SVC_PORT_80_TCP": "tcp://10.43.0.10:80",
        "MY_SVC_PORT_80_TCP_PROTO": "tcp",
        "MY_SVC_PORT_80_TCP_PORT": "80",
        "MY_SVC_PORT_80_TCP_ADDR": "10.43.0.10",
        "MY_SVC_PORT_9090_UDP": "udp://10.43.0.10:9090",
        "MY_SVC_PORT_9090_UDP_PROTO": "udp",
        "MY_SVC_PORT_9090_UDP_PORT": "9090",
        "MY_SVC_PORT_9090_UDP_ADDR": "10.43.0.10",
    }


async def test_service_links_and_kubernetes_service() -> None:
    lookup = Lookup(
        services={
            "default": [KUBERNETES, _svc("default", "other", "10.43.0.2", {"port": 1})],
            "shop": [_svc("shop", "cart", "10.43.0.20", {"port": 8080})],
        }
    )
    container = {"name": "c", "env": [{"name": "CART_SERVICE_PORT", "value": "mine"}]}
    env = await _env(_pod(container), lookup)
    assert env["CART_SERVICE_HOST"] == "10.43.0.20"
    assert env["CART_SERVICE_PORT"] == "mine"  # the pod's own variable wins
    assert env["KUBERNETES_PORT_443_TCP"] == "tcp://10.43.0.1:443"
    assert "OTHER_SERVICE_HOST" not in env  # other namespace
    no_links = await _env(_pod(container, enableServiceLinks=False), lookup)
    assert "CART_SERVICE_HOST" not in no_links
    assert no_links["KUBERNETES_SERVICE_HOST"] == "10.43.0.1"
    # in the default namespace, links bring its own services
    pod = _pod({"name": "c"})
    pod["metadata"]["namespace"] = "default"
    env = await _env(pod, lookup)
    assert env["OTHER_SERVICE_HOST"] == "10.43.0.2"
    pod["spec"]["enableServiceLinks"] = False
    env = await _env(pod, lookup)
    assert "OTHER_SERVICE_HOST" not in env and "KUBERNETES_SERVICE_HOST" in env


@pytest.mark.parametrize(
    ("container", "want"),
    [
        ({}, ("/entry", "--serve", "default")),
        ({"args": ["$(NAME)", "$$(NAME)"]}, ("/entry", "web", "$(NAME)")),
        ({"command": ["/bin/sh", "-c"]}, ("/bin/sh", "-c")),
        ({"command": ["echo", "$(NAME)"], "args": ["$(NOPE)"]}, ("echo", "web", "$(NOPE)")),
    ],
    ids=["image", "args-replace-cmd", "command-drops-cmd", "both"],
)
def test_container_argv(container: dict[str, Any], want: tuple[str, ...]) -> None:
    image = ImageConfig(entrypoint=("/entry",), cmd=("--serve", "default"))
    assert container_argv(container, image, {"NAME": "web"}) == want


def test_container_argv_without_image() -> None:
    assert container_argv({"args": ["x"]}, None, {}) == ("x",)
    assert container_argv({}, None, {}) == ()
