"""A running API server renews its serving certificate without a restart or a dropped client."""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
from pathlib import Path

import httpx
from cryptography import x509

from skiff.apiserver.auth import UserInfo
from skiff.apiserver.server import ApiServer, ApiServerConfig
from skiff.apiserver.tls import ensure_credentials
from skiff.store import MemoryStore


async def _serial(port: int, ca: Path) -> int:
    ctx = ssl.create_default_context(cafile=str(ca))
    _reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx)
    der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    writer.close()
    await writer.wait_closed()
    return int(x509.load_der_x509_certificate(der).serial_number)


async def test_serving_certificate_is_renewed_in_place(tmp_path: Path) -> None:
    # certificates that live a day but are renewed when they expire within two: every check
    # issues a new one, so the test sees a renewal at once
    def credentials() -> object:
        return ensure_credentials(
            tmp_path, serving_lifetime=dt.timedelta(days=1), renew_before=dt.timedelta(days=2)
        )

    creds = credentials()
    cert_path = tmp_path / "server" / "tls" / "serving.crt"

    def renew() -> bool:
        before = cert_path.read_bytes()
        credentials()
        return cert_path.read_bytes() != before

    store = MemoryStore()
    token = creds.admin_token  # type: ignore[attr-defined]
    server = ApiServer(
        store,
        ApiServerConfig(
            port=0,
            cert_file=str(cert_path),
            key_file=str(tmp_path / "server/tls/serving.key"),
            tokens={token: UserInfo("admin", ("system:masters",))},
            cert_renewer=renew,
            cert_check_interval=0.3,
        ),
    )
    started = asyncio.Event()
    task = asyncio.create_task(server.run(started=started))
    try:
        await asyncio.wait_for(started.wait(), 15)
        ca = tmp_path / "server" / "tls" / "ca.crt"
        ctx = ssl.create_default_context(cafile=str(ca))
        async with httpx.AsyncClient(
            base_url=f"https://127.0.0.1:{server.bound_port}",
            verify=ctx,
            headers={"Authorization": f"Bearer {token}"},
        ) as client:
            assert (await client.get("/version")).status_code == 200
            first = await _serial(server.bound_port, ca)
            for _ in range(50):
                await asyncio.sleep(0.1)
                if await _serial(server.bound_port, ca) != first:
                    break
            assert await _serial(server.bound_port, ca) != first
            # the connection opened before the renewal keeps working
            assert (await client.get("/version")).status_code == 200
    finally:
        server.stop()
        await asyncio.wait_for(task, 15)
        await store.close()
