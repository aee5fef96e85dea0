"""The generic registry (skiff.apiserver.registry) over a MemoryStore behind a WatchCache, as the
server wires it, without HTTP: create, get, update, patch, delete, graceful delete, finalizers,
generateName, dry runs, delete preconditions, the order of admission on DELETE, the strategy
hooks (before_write, after_delete), and compare-and-swap: a write that loses its compare to a
conflicting writer rereads and retries, a pinned resourceVersion answers 409 at once, and
``_MAX_RETRIES`` lost compares answer 409 "too many concurrent writers". Also: waiting for a
resourceVersion ahead of the cache, and no kind names in the generic registry's modules.

Per-kind rules are in test_strategies.py; HTTP, kubectl and clients in test_api.py and
tests/integration.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from skiff.api import resources
from skiff.api.resources import ResourceInfo
from skiff.apiserver import _common, _delete, _update, objects
from skiff.apiserver import registry as registry_module
from skiff.apiserver.admission import AdmissionChain, AdmissionRequest, Lookup
from skiff.apiserver.auth import UserInfo
from skiff.apiserver.errors import (
    AlreadyExistsError,
    ConflictError,
    GatewayTimeoutError,
    InvalidError,
    NotFoundError,
)
from skiff.apiserver.registry import Registry, RequestContext, UpdateSpec
from skiff.apiserver.strategies import build_strategies
from skiff.apiserver.watchcache import WatchCache
from skiff.store import (
    DeleteResult,
    KeyValue,
    ListResult,
    MemoryStore,
    Revision,
    UpdateResult,
    WatchStream,
)

USER = UserInfo("tester", ("system:masters",))


def _info(group: str, plural: str) -> ResourceInfo:
    info = resources.by_resource(group, "v1", plural)
    assert info is not None
    return info


CONFIGMAPS = _info("", "configmaps")
PODS = _info("", "pods")
SERVICES = _info("", "services")
NAMESPACES = _info("", "namespaces")
DEPLOYMENTS = _info("apps", "deployments")
ENDPOINTS = _info("", "endpoints")


class RacingStore:
    """A Store over a MemoryStore whose writes can be made to lose their compare-and-swap.

    While ``race`` is set, every conditional ``update``/``delete`` first lets ``race`` write the
    same key (another writer winning), then tries its own write, which therefore fails its
    compare. ``writes`` counts the conditional writes that reached the store.
    """

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.race: Callable[[str], Awaitable[None]] | None = None
        self.writes = 0

    async def _maybe_race(self, key: str, expected_revision: Revision) -> None:
        if expected_revision:
            self.writes += 1
            if self.race is not None:
                await self.race(key)

    async def create(self, key: str, value: bytes) -> Revision:
        return await self.store.create(key, value)

    async def get(self, key: str, *, revision: Revision = Revision(0)) -> KeyValue | None:
        return await self.store.get(key, revision=revision)

    async def list(
        self,
        prefix: str,
        *,
        revision: Revision = Revision(0),
        limit: int = 0,
        continue_after: str | None = None,
    ) -> ListResult:
        return await self.store.list(
            prefix, revision=revision, limit=limit, continue_after=continue_after
        )

    async def update(self, key: str, value: bytes, *, expected_revision: Revision) -> UpdateResult:
        await self._maybe_race(key, expected_revision)
        return await self.store.update(key, value, expected_revision=expected_revision)

    async def delete(self, key: str, *, expected_revision: Revision = Revision(0)) -> DeleteResult:
        await self._maybe_race(key, expected_revision)
        return await self.store.delete(key, expected_revision=expected_revision)

    def watch(
        self, prefix: str, *, revision: Revision = Revision(0)
    ) -> AbstractAsyncContextManager[WatchStream]:
        return self.store.watch(prefix, revision=revision)

    async def compact(self, revision: Revision) -> None:
        await self.store.compact(revision)

    def current_revision(self) -> Revision:
        return self.store.current_revision()

    async def close(self) -> None:
        await self.store.close()


async def other_writer(store: MemoryStore, key: str) -> None:
    """Rewrite ``key`` unchanged: enough to move its mod_revision past the registry's read."""
    kv = await store.get(key)
    assert kv is not None
    result = await store.update(key, kv.value, expected_revision=kv.mod_revision)
    assert result.succeeded


@dataclass
class RecordingAllocation:
    """An ``Allocation`` that records what the Service strategy hands it."""

    written: list[tuple[str, str | None]] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    async def before_write(self, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        name = obj["metadata"]["name"]
        self.written.append((name, None if old is None else old["metadata"]["name"]))
        obj["spec"].setdefault("clusterIP", "10.43.0.10")

    async def after_delete(self, obj: dict[str, Any]) -> None:
        self.deleted.append(obj["metadata"]["name"])


class RecordingPlugin:
    def __init__(self, name: str, log: list[tuple[str, str]]) -> None:
        self.name, self.log = name, log

    async def admit(self, req: AdmissionRequest, lookup: Lookup) -> None:
        self.log.append((req.operation, self.name))


@dataclass
class Harness:
    registry: Registry
    racing: RacingStore
    store: MemoryStore
    allocation: RecordingAllocation
    admitted: list[tuple[str, str]]


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    store = MemoryStore()
    racing = RacingStore(store)
    admitted: list[tuple[str, str]] = []
    allocation = RecordingAllocation()
    async with WatchCache(racing) as cache:
        registry = Registry(
            cache,
            admission=AdmissionChain(
                [RecordingPlugin("mutating", admitted)], [RecordingPlugin("validating", admitted)]
            ),
            store=racing,
            strategies=build_strategies(service_allocation=allocation),
        )
        yield Harness(registry, racing, store, allocation, admitted)
    await store.close()


def ctx(*, dry_run: bool = False) -> RequestContext:
    return RequestContext(user=USER, dry_run=dry_run, field_manager="test")


def configmap(name: str = "cm", **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, **extra}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"a": "1"}}


def service(name: str = "svc") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"ports": [{"port": 80}]},
    }


def bound_pod(name: str = "p") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "busybox"}]},
    }


# ---------------------------------------------------------------- create / get


async def test_create_fills_system_fields_and_get_reads_it_back(harness: Harness) -> None:
    reg = harness.registry
    created = await reg.create(CONFIGMAPS, "default", configmap(uid="mine"), ctx())
    meta = created["metadata"]
    assert meta["namespace"] == "default"
    assert meta["uid"] != "mine" and meta["creationTimestamp"].endswith("Z")
    assert meta["resourceVersion"] == str(harness.store.current_revision())
    assert [m["manager"] for m in meta["managedFields"]] == ["test"]
    assert await reg.get(CONFIGMAPS, "default", "cm") == created
    with pytest.raises(AlreadyExistsError):
        await reg.create(CONFIGMAPS, "default", configmap(), ctx())
    with pytest.raises(NotFoundError):
        await reg.get(CONFIGMAPS, "default", "missing")


async def test_generate_name(harness: Harness) -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "web-"}}
    a = await harness.registry.create(CONFIGMAPS, "default", body, ctx())
    b = await harness.registry.create(CONFIGMAPS, "default", body, ctx())
    assert a["metadata"]["name"].startswith("web-") and len(a["metadata"]["name"]) > 4
    assert a["metadata"]["name"] != b["metadata"]["name"]


def _names(*picks: str) -> tuple[Callable[[str], str], list[str]]:
    """A name generator handing out ``picks`` in turn (the last one forever), and its calls."""
    calls: list[str] = []

    def generate(base: str) -> str:
        calls.append(base)
        return base + picks[min(len(calls), len(picks)) - 1]

    return generate, calls


async def test_generate_name_retries_a_taken_name(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    reg = harness.registry
    await reg.create(CONFIGMAPS, "default", configmap("web-aaaaa"), ctx())
    await reg.create(CONFIGMAPS, "default", configmap("web-bbbbb"), ctx())
    generate, calls = _names("aaaaa", "bbbbb", "ccccc")
    monkeypatch.setattr(objects, "generate_name", generate)
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "web-"}}
    created = await reg.create(CONFIGMAPS, "default", body, ctx())
    assert created["metadata"]["name"] == "web-ccccc" and len(calls) == 3
    assert body["metadata"] == {"generateName": "web-"}  # the request body is left alone


async def test_generate_name_gives_up_after_eight_attempts(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    reg = harness.registry
    await reg.create(CONFIGMAPS, "default", configmap("web-aaaaa"), ctx())
    generate, calls = _names("aaaaa")
    monkeypatch.setattr(objects, "generate_name", generate)
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "web-"}}
    with pytest.raises(AlreadyExistsError):
        await reg.create(CONFIGMAPS, "default", body, ctx())
    assert len(calls) == registry_module.NAME_GENERATION_ATTEMPTS == 8
    # a name the client chose is never replaced
    calls.clear()
    with pytest.raises(AlreadyExistsError):
        await reg.create(CONFIGMAPS, "default", configmap("web-aaaaa"), ctx())
    assert calls == []


async def test_concurrent_generate_name_creates_all_succeed(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 50 creates drawing from 200 names: without retries, 99.8% of such runs have a collision;
    # with 8 attempts each, all get a name (the draws are seeded, so the run is the same each time)
    rng = random.Random(7)
    monkeypatch.setattr(objects, "generate_name", lambda base: f"{base}{rng.randrange(200):05d}")
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "web-"}}
    created = await asyncio.gather(
        *(harness.registry.create(CONFIGMAPS, "default", body, ctx()) for _ in range(50))
    )
    names = {c["metadata"]["name"] for c in created}
    assert len(names) == 50


async def test_invalid_object_is_refused(harness: Harness) -> None:
    with pytest.raises(InvalidError) as err:
        await harness.registry.create(CONFIGMAPS, "default", configmap("Not_A_Name"), ctx())
    assert err.value.code == 422 and err.value.details is not None
    assert err.value.details["causes"][0]["field"] == "metadata.name"


async def test_dry_run_create_persists_nothing_and_allocates_nothing(harness: Harness) -> None:
    before = harness.store.current_revision()
    obj = await harness.registry.create(SERVICES, "default", service(), ctx(dry_run=True))
    assert obj["metadata"]["name"] == "svc"
    assert harness.store.current_revision() == before
    assert harness.allocation.written == []
    with pytest.raises(NotFoundError):
        await harness.registry.get(SERVICES, "default", "svc")


async def test_before_write_runs_on_create_and_main_resource_updates_only(
    harness: Harness,
) -> None:
    reg = harness.registry
    created = await reg.create(SERVICES, "default", service(), ctx())
    assert created["spec"]["clusterIP"] == "10.43.0.10"
    await reg.patch(
        SERVICES, "default", "svc", "merge", {"metadata": {"labels": {"a": "b"}}}, ctx()
    )
    await reg.patch(
        SERVICES,
        "default",
        "svc",
        "merge",
        {"status": {"loadBalancer": {}}},
        ctx(),
        subresource="status",
    )
    await reg.patch(
        SERVICES, "default", "svc", "merge", {"metadata": {"labels": {"a": "c"}}}, ctx(dry_run=True)
    )
    assert harness.allocation.written == [("svc", None), ("svc", "svc")]


# ---------------------------------------------------------------- update / patch


async def test_update_with_stale_resource_version_conflicts(harness: Harness) -> None:
    reg = harness.registry
    created = await reg.create(CONFIGMAPS, "default", configmap(), ctx())
    await reg.patch(CONFIGMAPS, "default", "cm", "merge", {"data": {"a": "2"}}, ctx())
    with pytest.raises(ConflictError):
        await reg.update(CONFIGMAPS, "default", "cm", created, ctx())


async def test_update_of_missing_object_is_not_found_unless_the_kind_creates_on_update(
    harness: Harness,
) -> None:
    with pytest.raises(NotFoundError):
        await harness.registry.update(CONFIGMAPS, "default", "cm", configmap(), ctx())
    endpoints = {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "ep"}}
    obj, created = await harness.registry.update(ENDPOINTS, "default", "ep", endpoints, ctx())
    assert created and obj["metadata"]["uid"]


async def test_unchanged_update_writes_nothing(harness: Harness) -> None:
    reg = harness.registry
    created = await reg.create(CONFIGMAPS, "default", configmap(), ctx())
    before = harness.store.current_revision()
    obj, _ = await reg.update(CONFIGMAPS, "default", "cm", created, ctx())
    assert obj["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    assert harness.store.current_revision() == before


async def test_dry_run_update_persists_nothing(harness: Harness) -> None:
    reg = harness.registry
    await reg.create(CONFIGMAPS, "default", configmap(), ctx())
    obj, _ = await reg.patch(
        CONFIGMAPS, "default", "cm", "merge", {"data": {"a": "2"}}, ctx(dry_run=True)
    )
    assert obj["data"] == {"a": "2"}
    assert (await reg.get(CONFIGMAPS, "default", "cm"))["data"] == {"a": "1"}


async def test_patch_types(harness: Harness) -> None:
    reg = harness.registry
    await reg.create(DEPLOYMENTS, "default", _deployment(), ctx())
    obj, _ = await reg.patch(
        DEPLOYMENTS,
        "default",
        "web",
        "json",
        [{"op": "replace", "path": "/spec/replicas", "value": 3}],
        ctx(),
    )
    assert obj["spec"]["replicas"] == 3 and obj["metadata"]["generation"] == 2
    obj, _ = await reg.patch(
        DEPLOYMENTS,
        "default",
        "web",
        "strategic",
        {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx:2"}]}}}},
        ctx(),
    )
    containers = obj["spec"]["template"]["spec"]["containers"]
    assert [(c["name"], c["image"]) for c in containers] == [("c", "nginx:2")]
    assert obj["metadata"]["generation"] == 3


def _deployment() -> dict[str, Any]:
    labels = {"app": "web"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
        },
        "status": {"replicas": 9},
    }


# ---------------------------------------------------------------- compare-and-swap


async def test_lost_compare_and_swap_rereads_and_retries(harness: Harness) -> None:
    reg, store = harness.registry, harness.store
    await reg.create(CONFIGMAPS, "default", configmap(), ctx())
    key = "/registry/core/configmaps/default/cm"
    winners: list[int] = []

    async def once(k: str) -> None:
        # another writer adds a label between the registry's read and its write, once
        harness.racing.race = None
        kv = await store.get(k)
        assert kv is not None
        obj = reg.decode(kv)
        obj["metadata"]["labels"] = {"winner": "yes"}
        obj["metadata"].pop("resourceVersion", None)
        result = await store.update(
            k, reg.transformer.to_storage(k, objects.encode(obj)), expected_revision=kv.mod_revision
        )
        assert result.succeeded
        winners.append(int(result.revision))

    harness.racing.race = once
    harness.racing.writes = 0
    obj, _ = await reg.patch(CONFIGMAPS, "default", "cm", "merge", {"data": {"b": "2"}}, ctx())
    assert harness.racing.writes == 2  # the lost compare, then the retry
    assert obj["metadata"]["labels"] == {"winner": "yes"}  # the retry patched the winner's object
    assert obj["data"] == {"a": "1", "b": "2"}
    assert int(obj["metadata"]["resourceVersion"]) == winners[0] + 1
    stored = await store.get(key)
    assert stored is not None and reg.decode(stored)["data"] == {"a": "1", "b": "2"}


async def test_lost_compare_with_pinned_resource_version_conflicts_at_once(
    harness: Harness,
) -> None:
    reg = harness.registry
    created = await reg.create(CONFIGMAPS, "default", configmap(), ctx())
    harness.racing.race = lambda key: other_writer(harness.store, key)
    harness.racing.writes = 0
    body = dict(created, data={"a": "2"})
    with pytest.raises(ConflictError) as err:
        await reg.update(CONFIGMAPS, "default", "cm", body, ctx())
    assert "the object has been modified" in err.value.message
    assert harness.racing.writes == 1


async def test_too_many_concurrent_writers(harness: Harness) -> None:
    reg = harness.registry
    await reg.create(CONFIGMAPS, "default", configmap(), ctx())
    harness.racing.race = lambda key: other_writer(harness.store, key)
    harness.racing.writes = 0
    with pytest.raises(ConflictError) as err:
        await reg.patch(CONFIGMAPS, "default", "cm", "merge", {"data": {"a": "2"}}, ctx())
    assert "too many concurrent writers" in err.value.message
    assert harness.racing.writes == _common.MAX_RETRIES
    with pytest.raises(ConflictError):
        await reg.delete(CONFIGMAPS, "default", "cm", ctx())
    harness.racing.race = None
    assert (await reg.get(CONFIGMAPS, "default", "cm"))["data"] == {"a": "1"}


async def test_delete_retries_a_lost_compare(harness: Harness) -> None:
    reg = harness.registry
    await reg.create(SERVICES, "default", service(), ctx())

    async def once(key: str) -> None:
        harness.racing.race = None
        await other_writer(harness.store, key)

    harness.racing.race = once
    harness.racing.writes = 0
    _, now = await reg.delete(SERVICES, "default", "svc", ctx())
    assert now and harness.racing.writes == 2
    assert harness.allocation.deleted == ["svc"]
    with pytest.raises(NotFoundError):
        await reg.get(SERVICES, "default", "svc")


async def test_update_spec_subresource_and_precondition(harness: Harness) -> None:
    reg = harness.registry
    created = await reg.create(DEPLOYMENTS, "default", _deployment(), ctx())

    def set_status(obj: dict[str, Any]) -> dict[str, Any]:
        obj["status"] = {"replicas": 2}
        obj["spec"]["replicas"] = 7  # ignored: a status write keeps the spec
        return obj

    obj, _ = await reg.guaranteed_update(
        DEPLOYMENTS,
        "default",
        "web",
        set_status,
        ctx(),
        UpdateSpec(subresource="status", precondition_rv=created["metadata"]["resourceVersion"]),
    )
    assert obj["status"] == {"replicas": 2} and obj["spec"]["replicas"] == 1
    with pytest.raises(ConflictError):
        await reg.guaranteed_update(
            DEPLOYMENTS,
            "default",
            "web",
            set_status,
            ctx(),
            UpdateSpec(precondition_rv=created["metadata"]["resourceVersion"]),
        )


# ---------------------------------------------------------------- delete


async def test_immediate_delete(harness: Harness) -> None:
    reg = harness.registry
    await reg.create(CONFIGMAPS, "default", configmap(), ctx())
    obj, now = await reg.delete(CONFIGMAPS, "default", "cm", ctx())
    assert now and obj["metadata"]["resourceVersion"] == str(harness.store.current_revision())
    with pytest.raises(NotFoundError):
        await reg.get(CONFIGMAPS, "default", "cm")
    with pytest.raises(NotFoundError):
        await reg.delete(CONFIGMAPS, "default", "cm", ctx())


async def test_delete_admits_mutating_before_validating(harness: Harness) -> None:
    await harness.registry.create(CONFIGMAPS, "default", configmap(), ctx())
    harness.admitted.clear()
    await harness.registry.delete(CONFIGMAPS, "default", "cm", ctx())
    assert harness.admitted == [("DELETE", "mutating"), ("DELETE", "validating")]


async def test_dry_run_delete_keeps_the_object(harness: Harness) -> None:
    reg = harness.registry
    await reg.create(SERVICES, "default", service(), ctx())
    obj, now = await reg.delete(SERVICES, "default", "svc", ctx(dry_run=True))
    assert now and obj["metadata"]["name"] == "svc"
    assert await reg.get(SERVICES, "default", "svc")
    assert harness.allocation.deleted == []


async def test_delete_preconditions(harness: Harness) -> None:
    reg = harness.registry
    created = await reg.create(CONFIGMAPS, "default", configmap(), ctx())
    with pytest.raises(ConflictError, match="UID in precondition"):
        await reg.delete(CONFIGMAPS, "default", "cm", ctx(), preconditions={"uid": "other"})
    with pytest.raises(ConflictError, match="ResourceVersion in precondition"):
        await reg.delete(
            CONFIGMAPS, "default", "cm", ctx(), preconditions={"resourceVersion": "12345"}
        )
    meta = created["metadata"]
    _, now = await reg.delete(
        CONFIGMAPS,
        "default",
        "cm",
        ctx(),
        preconditions={"uid": meta["uid"], "resourceVersion": meta["resourceVersion"]},
    )
    assert now


async def test_graceful_pod_delete(harness: Harness) -> None:
    reg = harness.registry
    await reg.create(PODS, "default", bound_pod(), ctx())
    obj, now = await reg.delete(PODS, "default", "p", ctx())
    meta = obj["metadata"]
    assert not now and meta["deletionGracePeriodSeconds"] == 30 and meta["deletionTimestamp"]
    assert meta["generation"] == 2
    # an update while the grace period runs keeps the pod (no finalizers, but grace > 0)
    obj, _ = await reg.patch(
        PODS, "default", "p", "merge", {"metadata": {"labels": {"a": "b"}}}, ctx()
    )
    assert obj["metadata"]["deletionTimestamp"] == meta["deletionTimestamp"]
    # a repeated delete with the same grace changes nothing; a shorter one replaces it
    again, now = await reg.delete(PODS, "default", "p", ctx())
    assert not now and again["metadata"]["resourceVersion"] == obj["metadata"]["resourceVersion"]
    shorter, now = await reg.delete(PODS, "default", "p", ctx(), grace_period=5)
    assert not now and shorter["metadata"]["deletionGracePeriodSeconds"] == 5
    _, now = await reg.delete(PODS, "default", "p", ctx(), grace_period=0)
    assert now
    with pytest.raises(NotFoundError):
        await reg.get(PODS, "default", "p")


async def test_finalizers_hold_the_object_until_the_last_is_removed(harness: Harness) -> None:
    reg = harness.registry
    svc = service()
    svc["metadata"]["finalizers"] = ["example.com/a", "example.com/b"]
    await reg.create(SERVICES, "default", svc, ctx())
    obj, now = await reg.delete(SERVICES, "default", "svc", ctx())
    assert not now and obj["metadata"]["deletionTimestamp"]
    assert obj["metadata"]["deletionGracePeriodSeconds"] == 0
    with pytest.raises(InvalidError, match="no new finalizers"):
        await reg.patch(
            SERVICES,
            "default",
            "svc",
            "merge",
            {"metadata": {"finalizers": ["example.com/a", "example.com/b", "example.com/c"]}},
            ctx(),
        )
    await reg.patch(
        SERVICES, "default", "svc", "merge", {"metadata": {"finalizers": ["example.com/b"]}}, ctx()
    )
    assert harness.allocation.deleted == []
    assert await reg.get(SERVICES, "default", "svc")
    obj, _ = await reg.patch(
        SERVICES, "default", "svc", "merge", {"metadata": {"finalizers": None}}, ctx()
    )
    with pytest.raises(NotFoundError):
        await reg.get(SERVICES, "default", "svc")
    assert harness.allocation.deleted == ["svc"]
    assert obj["metadata"]["resourceVersion"] == str(harness.store.current_revision())


@pytest.mark.parametrize(
    ("propagation", "finalizer"), [("Orphan", "orphan"), ("Foreground", "foregroundDeletion")]
)
async def test_propagation_policy_adds_its_finalizer(
    harness: Harness, propagation: str, finalizer: str
) -> None:
    await harness.registry.create(CONFIGMAPS, "default", configmap(), ctx())
    obj, now = await harness.registry.delete(
        CONFIGMAPS, "default", "cm", ctx(), propagation=propagation
    )
    assert not now and obj["metadata"]["finalizers"] == [finalizer]


async def test_namespace_delete_waits_for_spec_finalizers(harness: Harness) -> None:
    reg = harness.registry
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}
    created = await reg.create(NAMESPACES, "", ns, ctx())
    assert created["spec"]["finalizers"] == ["kubernetes"]
    obj, now = await reg.delete(NAMESPACES, "", "team", ctx())
    assert not now and obj["status"]["phase"] == "Terminating"
    # an update cannot drop spec.finalizers (only /finalize can), so the namespace stays
    await reg.patch(NAMESPACES, "", "team", "merge", {"spec": {"finalizers": []}}, ctx())
    assert (await reg.get(NAMESPACES, "", "team"))["spec"]["finalizers"] == ["kubernetes"]


# ---------------------------------------------------------------- reads


async def test_get_with_a_future_resource_version_waits_for_it(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    reg = harness.registry
    await reg.create(CONFIGMAPS, "default", configmap(), ctx())
    ahead = str(int(harness.store.current_revision()) + 1)
    cache = reg.cache
    wait_for_revision = cache.wait_for_revision
    waiting = asyncio.Event()

    async def spy(revision: Revision, *, timeout: float | None = None) -> None:  # noqa: ASYNC109
        waiting.set()
        await wait_for_revision(revision, timeout=timeout)

    monkeypatch.setattr(cache, "wait_for_revision", spy)
    reader = asyncio.create_task(reg.get(CONFIGMAPS, "default", "cm", resource_version=ahead))
    async with asyncio.timeout(10):
        await waiting.wait()
    assert not reader.done()  # blocked until the cache has revision `ahead`
    await reg.patch(CONFIGMAPS, "default", "cm", "merge", {"data": {"a": "2"}}, ctx())
    async with asyncio.timeout(10):
        obj = await reader
    assert obj["data"] == {"a": "2"} and obj["metadata"]["resourceVersion"] == ahead

    monkeypatch.setattr(registry_module, "_TOO_LARGE_RV_WAIT", 0.05)
    far = str(int(harness.store.current_revision()) + 100)
    with pytest.raises(GatewayTimeoutError) as err:
        await reg.get(CONFIGMAPS, "default", "cm", resource_version=far)
    assert err.value.code == 504 and err.value.reason == "Timeout"
    assert err.value.message.startswith(f"Too large resource version: {far}, current: ")


# ---------------------------------------------------------------- no kinds in the registry


@pytest.mark.parametrize("module", [registry_module, _update, _delete, _common])
def test_generic_registry_names_no_kind(module: ModuleType) -> None:
    assert module.__file__ is not None
    source = Path(module.__file__).read_text()
    kinds = sorted({info.kind for info in resources.RESOURCES})
    named = [k for k in kinds if re.search(rf"[\"']{re.escape(k)}[\"']", source)]
    assert named == [], f"{module.__name__} names kinds {named}: move that rule into a strategy"


def test_update_json_copy_is_deep_and_falls_back_for_what_orjson_cannot_encode() -> None:
    obj: dict[str, Any] = {"metadata": {"name": "x", "labels": {"a": "b"}}, "spec": [1, 2.5, None]}
    copied = _update.json_copy(obj)
    assert copied == obj
    copied["metadata"]["labels"]["a"] = "c"
    copied["spec"].append(3)
    assert obj == {"metadata": {"name": "x", "labels": {"a": "b"}}, "spec": [1, 2.5, None]}
    odd: dict[str, Any] = {"big": 2**70, "nested": {1: "non-string key"}}
    assert _update.json_copy(odd) == odd
