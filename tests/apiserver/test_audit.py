"""The audit log: one audit.k8s.io/v1 Event line per request, metadata only."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx

from skiff.apiserver.auth import UserInfo
from skiff.apiserver.server import ApiServer, ApiServerConfig
from skiff.store import MemoryStore


async def test_requests_are_audited_without_bodies(tmp_path: Path) -> None:
    log_path = tmp_path / "audit" / "audit.log"
    store = MemoryStore()
    server = ApiServer(
        store,
        ApiServerConfig(
            port=0,
            tokens={"t": UserInfo("alice", ("devs",))},
            audit_log_path=str(log_path),
        ),
    )
    started = asyncio.Event()
    task = asyncio.create_task(server.run(started=started))
    try:
        await asyncio.wait_for(started.wait(), 15)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{server.bound_port}", headers={"Authorization": "Bearer t"}
        ) as api:
            secret = {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "s"},
                "stringData": {"password": "hunter2"},
            }
            r = await api.post("/api/v1/namespaces/default/secrets", json=secret)
            assert r.status_code == 201
            await api.get("/api/v1/namespaces/default/secrets/missing")
            await api.get("/version", headers={"Authorization": "Bearer wrong"})
    finally:
        server.stop()
        await asyncio.wait_for(task, 15)
        await store.close()
    text = log_path.read_text()
    assert "hunter2" not in text and "aHVudGVyMg" not in text
    events = [json.loads(line) for line in text.splitlines()]
    create = next(e for e in events if e["verb"] == "create")
    assert create["apiVersion"] == "audit.k8s.io/v1" and create["level"] == "Metadata"
    assert create["user"] == {"username": "alice", "groups": ["devs"]}
    assert create["objectRef"] == {"resource": "secrets", "namespace": "default"}
    assert create["responseStatus"]["code"] == 201
    missing = next(e for e in events if e["verb"] == "get" and "objectRef" in e)
    assert missing["objectRef"]["name"] == "missing" and missing["responseStatus"]["code"] == 404
    assert any(
        e["responseStatus"]["code"] == 401 and e["user"]["username"] == "system:anonymous"
        for e in events
    )
