"""Helpers shared by the tests that drive skiff with the official ``kubernetes`` Python client.

The fixtures built on them (``api``, ``core``, ``default_service_account``) are in conftest.py.
"""

from __future__ import annotations

import json
from typing import Any

from kubernetes.client import ApiClient
from kubernetes.client.rest import ApiException

__all__ = ["close_api_client", "status_of"]


def close_api_client(api_client: ApiClient) -> None:
    """Stop the client's thread pool and close its pooled keep-alive connections.

    ``ApiClient.close()`` only stops the thread pool, and urllib3's ``PoolManager.clear()`` only
    forgets its pools; idle TLS connections left open would hold up the server's shutdown.
    """
    api_client.close()
    pools = api_client.rest_client.pool_manager.pools
    for key in list(pools.keys()):
        pools[key].close()
    pools.clear()


def status_of(exc: ApiException, code: int, reason: str) -> dict[str, Any]:
    """Check that ``exc`` carries a ``Status`` body with ``code`` and ``reason``; return the body."""
    assert exc.status == code, exc.body
    body: dict[str, Any] = json.loads(exc.body)
    assert body["kind"] == "Status", body
    assert body["apiVersion"] == "v1", body
    assert body["status"] == "Failure", body
    assert body["code"] == code, body
    assert body["reason"] == reason, body
    return body
