"""ClusterIP, NodePort and pod CIDR allocation end to end, over the in-process API server: values
are free again as soon as their object is deleted (also through the last finalizer), type and
nodePort changes release what the Service gave up, updates that change no allocated field touch
no range, the repair pass (driven directly, never by its timer) marks lost values at once and frees
a leak only on the second pass while a create in flight keeps its value, concurrent creates on one
and on two API servers never share a value, and N creates cost O(N) reads. The bitmap records
themselves are test_allocator.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from skiff.apiserver.allocation import ServiceAllocation, run_repairs
from skiff.apiserver.allocator import RangeAllocator, RepairResult, ip_range, port_range
from skiff.apiserver.auth import UserInfo
from skiff.apiserver.errors import ApiError
from skiff.apiserver.server import ApiServer, ApiServerConfig
from skiff.store import KeyValue, ListResult, MemoryStore, Revision, Store

TOKEN = "test-admin-token"  # as tests/apiserver/conftest.py

SERVICES = "/api/v1/namespaces/default/services"
NODES = "/api/v1/nodes"


def svc(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"ports": [{"port": 80}], **spec},
    }


async def create(api: httpx.AsyncClient, body: dict[str, Any], path: str = SERVICES) -> Any:
    r = await api.post(path, json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def range_revision(server: ApiServer, name: str) -> int:
    kv = await server.store.get(f"/registry/ranges/{name}")
    return int(kv.mod_revision) if kv is not None else 0


class CountingStore:
    """A Store that counts reads and can hold the create of one key until told to go on."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.reads = 0
        self.hold_key = ""
        self.held = asyncio.Event()
        self.go_on = asyncio.Event()

    async def get(self, key: str, *, revision: Revision = Revision(0)) -> KeyValue | None:
        self.reads += 1
        return await self.inner.get(key, revision=revision)

    async def list(self, prefix: str, **kwargs: Any) -> ListResult:
        self.reads += 1
        return await self.inner.list(prefix, **kwargs)

    async def create(self, key: str, value: bytes) -> Revision:
        if key == self.hold_key:
            self.held.set()
            await self.go_on.wait()
        return await self.inner.create(key, value)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@asynccontextmanager
async def serving(store: Any) -> AsyncIterator[tuple[ApiServer, httpx.AsyncClient]]:
    server = ApiServer(
        store,
        ApiServerConfig(port=0, tokens={TOKEN: UserInfo("admin", ("system:masters",))}),
    )
    started = asyncio.Event()
    task = asyncio.create_task(server.run(started=started))
    try:
        await asyncio.wait_for(started.wait(), 15)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{server.bound_port}",
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=20,
        ) as client:
            yield server, client
    finally:
        server.stop()
        await asyncio.wait_for(task, 15)


async def test_deleted_objects_free_their_values_at_once(api: httpx.AsyncClient) -> None:
    a = await create(api, svc("a", type="NodePort"))
    ip, port = a["spec"]["clusterIP"], a["spec"]["ports"][0]["nodePort"]
    r = await api.post(SERVICES, json=svc("b", clusterIP=ip))
    assert r.status_code == 422
    assert r.json()["message"] == (
        f'Service "b" is invalid: spec.clusterIPs: Invalid value: ["{ip}"]: '
        f"failed to allocate IP {ip}: provided IP is already allocated"
    )
    r = await api.post(
        SERVICES, json=svc("b", type="NodePort", ports=[{"port": 1, "nodePort": port}])
    )
    assert r.status_code == 422
    assert r.json()["message"] == (
        f'Service "b" is invalid: spec.ports[0].nodePort: Invalid value: {port}: '
        "provided port is already allocated"
    )
    assert (await api.delete(f"{SERVICES}/a")).status_code == 200
    b = await create(
        api, svc("b", type="NodePort", clusterIP=ip, ports=[{"port": 80, "nodePort": port}])
    )
    assert b["spec"]["clusterIP"] == ip and b["spec"]["ports"][0]["nodePort"] == port

    # nodes: a deleted node's block is the next one handed out
    n1 = await create(api, {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}}, NODES)
    await create(api, {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n2"}}, NODES)
    assert (await api.delete(f"{NODES}/n1")).status_code == 200
    n3 = await create(api, {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n3"}}, NODES)
    assert n3["spec"]["podCIDR"] == n1["spec"]["podCIDR"]


async def test_values_are_freed_when_the_last_finalizer_goes(api: httpx.AsyncClient) -> None:
    body = svc("held")
    body["metadata"]["finalizers"] = ["example.com/hold"]
    ip = (await create(api, body))["spec"]["clusterIP"]
    r = await api.delete(f"{SERVICES}/held")
    assert r.status_code in (200, 202) and r.json()["metadata"]["deletionTimestamp"]
    assert (await api.post(SERVICES, json=svc("other", clusterIP=ip))).status_code == 422
    r = await api.patch(
        f"{SERVICES}/held",
        json={"metadata": {"finalizers": None}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 200, r.text
    assert (await api.get(f"{SERVICES}/held")).status_code == 404
    assert (await create(api, svc("other", clusterIP=ip)))["spec"]["clusterIP"] == ip


async def test_changes_release_what_the_service_gave_up(
    api: httpx.AsyncClient, apiserver: ApiServer
) -> None:
    await create(api, svc("p", type="NodePort", ports=[{"port": 80, "nodePort": 30100}]))
    # a changed nodePort frees the old one
    r = await api.put(
        f"{SERVICES}/p", json=svc("p", type="NodePort", ports=[{"port": 80, "nodePort": 30101}])
    )
    assert r.status_code == 200, r.text
    await create(api, svc("q", type="NodePort", ports=[{"port": 80, "nodePort": 30100}]))
    # NodePort -> ClusterIP frees the node port, keeps the ClusterIP
    ip = (await api.get(f"{SERVICES}/p")).json()["spec"]["clusterIP"]
    r = await api.put(f"{SERVICES}/p", json=svc("p", type="ClusterIP"))
    assert r.status_code == 200, r.text
    assert r.json()["spec"]["clusterIP"] == ip and "nodePort" not in r.json()["spec"]["ports"][0]
    await create(api, svc("r", type="NodePort", ports=[{"port": 80, "nodePort": 30101}]))
    # ExternalName holds no address: turning into ClusterIP allocates one
    ext = {"type": "ExternalName", "externalName": "db.example.com"}
    await create(api, {**svc("x"), "spec": ext})
    before = await range_revision(apiserver, "serviceips")
    r = await api.put(f"{SERVICES}/x", json=svc("x"))
    assert r.status_code == 200, r.text
    assert r.json()["spec"]["clusterIP"]
    assert await range_revision(apiserver, "serviceips") > before
    # ...and turning back into an ExternalName gives it up (the update does not keep the old
    # ClusterIP, which an ExternalName may not have): another Service can ask for it at once
    ip = r.json()["spec"]["clusterIP"]
    r = await api.put(f"{SERVICES}/x", json={**svc("x"), "spec": ext})
    assert r.status_code == 200, r.text
    assert "clusterIP" not in r.json()["spec"]
    await create(api, svc("y", clusterIP=ip))
    # a headless Service takes no address at all
    before = await range_revision(apiserver, "serviceips")
    await create(api, svc("h", clusterIP="None"))
    assert await range_revision(apiserver, "serviceips") == before


async def test_updates_that_change_no_allocated_field_touch_no_range(
    api: httpx.AsyncClient, apiserver: ApiServer
) -> None:
    await create(api, svc("n", type="NodePort"))
    await create(api, {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "w"}}, NODES)
    revisions = [
        await range_revision(apiserver, r) for r in ("serviceips", "nodeports", "podcidrs")
    ]
    reads = 0
    allocators = (apiserver.service_ips, apiserver.node_ports, apiserver.pod_cidrs)
    for alloc in allocators:
        snapshot = alloc.snapshot

        async def counted(snapshot: Callable[[], Awaitable[Any]] = snapshot) -> Any:
            nonlocal reads
            reads += 1
            return await snapshot()

        alloc.snapshot = counted  # type: ignore[method-assign]
    merge = {"Content-Type": "application/merge-patch+json"}
    for path in (f"{SERVICES}/n", f"{NODES}/w"):
        r = await api.patch(path, json={"metadata": {"labels": {"x": "1"}}}, headers=merge)
        assert r.status_code == 200, r.text
    # a replace without the allocated values keeps them (and allocates nothing)
    r = await api.put(f"{SERVICES}/n", json=svc("n", type="NodePort"))
    assert r.status_code == 200, r.text
    assert reads == 0
    after = [await range_revision(apiserver, r) for r in ("serviceips", "nodeports", "podcidrs")]
    assert after == revisions


async def test_repair_frees_a_leak_on_the_second_pass_and_restores_lost_values(
    api: httpx.AsyncClient, apiserver: ApiServer
) -> None:
    allocation = apiserver.service_allocation
    leak = "10.43.200.1"
    await apiserver.service_ips.allocate(want=[leak])  # as a create that failed after allocating
    ips, ports = await allocation.repair()
    assert ips.leaked == (leak,) and ips.freed == () and ports.leaked == ()
    assert (await api.post(SERVICES, json=svc("s", clusterIP=leak))).status_code == 422
    ips, _ = await allocation.repair()
    assert ips.freed == (leak,)
    await create(api, svc("s", clusterIP=leak))
    ips, _ = await allocation.repair()
    assert ips.leaked == ips.freed == ips.repaired == ()
    # the record lost a value a live Service holds: the next pass marks it again at once
    await apiserver.service_ips.release([leak])
    ips, _ = await allocation.repair()
    assert ips.repaired == (leak,)
    assert (await api.post(SERVICES, json=svc("t", clusterIP=leak))).status_code == 422
    # the same for pod CIDRs
    block = "10.42.77.0/24"
    await apiserver.pod_cidrs.allocate(want=[block])
    (first,) = await apiserver.pod_cidr_allocation.repair()
    (second,) = await apiserver.pod_cidr_allocation.repair()
    assert first.leaked == (block,) and second.freed == (block,)


async def test_a_create_in_flight_keeps_its_value_across_a_repair_pass() -> None:
    store = CountingStore(MemoryStore())
    try:
        async with serving(store) as (server, api):
            store.hold_key = "/registry/core/services/default/slow"
            post = asyncio.create_task(api.post(SERVICES, json=svc("slow", type="NodePort")))
            await asyncio.wait_for(store.held.wait(), 10)
            # allocated, not yet written: the pass sees leaks but frees nothing
            ips, ports = await server.service_allocation.repair()
            assert len(ips.leaked) == 1 and len(ports.leaked) == 1
            store.go_on.set()
            r = await post
            assert r.status_code == 201, r.text
            assert r.json()["spec"]["clusterIP"] == ips.leaked[0]
            assert str(r.json()["spec"]["ports"][0]["nodePort"]) == ports.leaked[0]
            ips, ports = await server.service_allocation.repair()
            assert ips.freed == ports.freed == ips.leaked == ports.leaked == ()
            again = await api.post(
                SERVICES, json=svc("again", clusterIP=r.json()["spec"]["clusterIP"])
            )
            assert again.status_code == 422
    finally:
        store.go_on.set()
        await store.inner.close()


async def test_concurrent_creates_on_two_api_servers_never_share_values(
    api: httpx.AsyncClient, apiserver: ApiServer
) -> None:
    async with serving(apiserver.store) as (_, other):
        clients = (api, other)
        made = await asyncio.gather(
            *(create(clients[i % 2], svc(f"c{i}", type="NodePort")) for i in range(40))
        )
    ips = [s["spec"]["clusterIP"] for s in made]
    ports = [s["spec"]["ports"][0]["nodePort"] for s in made]
    assert len(set(ips)) == 40 and len(set(ports)) == 40
    ips_result, ports_result = await apiserver.service_allocation.repair()
    assert ips_result.duplicates == ports_result.duplicates == ()
    assert ips_result.leaked == ports_result.leaked == ips_result.repaired == ()


async def test_becoming_external_name_releases_the_address() -> None:
    # over the allocation alone (test_changes_release_what_the_service_gave_up does it over HTTP)
    store = MemoryStore()
    try:
        ips = RangeAllocator(store, "serviceips", ip_range("10.43.0.0/24"), what="ClusterIP")
        ports = RangeAllocator(store, "nodeports", port_range(30000, 30010), what="NodePort")

        async def nothing(*_: str) -> None:
            return None

        async def no_list() -> list[dict[str, Any]]:
            return []

        allocation = ServiceAllocation(
            cluster_ips=ips, node_ports=ports, list_services=no_list, get_service=nothing
        )
        old = svc("x", type="NodePort")
        old["metadata"]["uid"] = "u1"
        await allocation.before_write(old, None)
        ip, port = old["spec"]["clusterIP"], str(old["spec"]["ports"][0]["nodePort"])
        assert ips.taken(await ips.snapshot(), ip) and ports.taken(await ports.snapshot(), port)
        new = {**old, "spec": {"type": "ExternalName", "externalName": "db.example.com"}}
        await allocation.before_write(new, old)
        assert not ips.taken(await ips.snapshot(), ip)
        assert not ports.taken(await ports.snapshot(), port)
    finally:
        await store.close()


async def test_a_retried_update_reuses_what_its_first_attempt_took() -> None:
    # the registry reruns before_write after losing the compare-and-swap on the object
    store = MemoryStore()
    try:
        ips = RangeAllocator(store, "serviceips", ip_range("10.43.0.0/24"), what="ClusterIP")
        ports = RangeAllocator(store, "nodeports", port_range(30000, 30010), what="NodePort")

        async def nothing(*_: str) -> None:
            return None

        async def no_list() -> list[dict[str, Any]]:
            return []

        allocation = ServiceAllocation(
            cluster_ips=ips, node_ports=ports, list_services=no_list, get_service=nothing
        )
        old = svc("x")
        old["metadata"]["uid"] = "u1"
        await allocation.before_write(old, None)

        def change() -> dict[str, Any]:
            new = svc("x", type="NodePort", clusterIP=old["spec"]["clusterIP"])
            new["metadata"]["uid"] = "u1"
            new["spec"]["ports"].append({"port": 81, "nodePort": 30005})
            return new

        first, second = change(), change()
        await allocation.before_write(first, old)
        await allocation.before_write(second, old)  # same request, second attempt
        assert first["spec"]["ports"] == second["spec"]["ports"]
        assert [p["nodePort"] for p in second["spec"]["ports"]] == [30000, 30005]
        # another request for the same object is refused the taken port
        with pytest.raises(ApiError) as taken:
            await asyncio.create_task(allocation.before_write(change(), old))
        assert taken.value.code == 422
    finally:
        await store.close()


class _CountingCache:
    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.reads = 0

    async def get(self, key: str, **kwargs: Any) -> Any:
        self.reads += 1
        return await self.inner.get(key, **kwargs)

    async def list(self, prefix: str, **kwargs: Any) -> Any:
        self.reads += 1
        return await self.inner.list(prefix, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.mark.parametrize("kind", ["ClusterIP", "NodePort"])
async def test_creating_n_services_costs_linear_reads(kind: str) -> None:
    store = CountingStore(MemoryStore())
    try:
        async with serving(store) as (server, api):
            cache = _CountingCache(server.registry.cache)
            server.registry.cache = cache  # type: ignore[assignment]

            async def reads_for(names: Sequence[str]) -> int:
                before = store.reads + cache.reads
                for name in names:
                    await create(api, svc(name, type=kind))
                return store.reads + cache.reads - before

            n = 25
            first = await reads_for([f"a{i}" for i in range(n)])
            # twice as many creates on top of the first n: quadratic costs would grow 8-fold
            second = await reads_for([f"b{i}" for i in range(2 * n)])
            assert first >= n  # each create reads its range record at least
            assert second <= 2 * first + 10, (first, second)
            # a repair pass lists the Services once
            lists = 0
            listing = server.service_allocation.list_services

            async def counted() -> Sequence[dict[str, Any]]:
                nonlocal lists
                lists += 1
                return await listing()

            server.service_allocation.list_services = counted
            await server.service_allocation.repair()
            assert lists == 1
    finally:
        await store.inner.close()


async def test_the_repair_loop_survives_a_failing_pass() -> None:
    passes: list[str] = []

    class Flaky:
        async def repair(self) -> tuple[RepairResult, ...]:
            passes.append("flaky")
            raise RuntimeError("store unavailable")

    class Fine:
        async def repair(self) -> tuple[RepairResult, ...]:
            passes.append("fine")
            return ()

    intervals: list[float] = []

    async def sleep(seconds: float) -> None:
        intervals.append(seconds)
        if len(intervals) == 3:
            raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await run_repairs((Flaky(), Fine()), interval=7.0, sleep=sleep)
    assert intervals == [7.0, 7.0, 7.0]
    assert passes == ["flaky", "fine", "flaky", "fine"]
