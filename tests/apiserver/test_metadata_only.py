"""Metadata-only answers, as client-go's metadata client asks for them, over a real loopback
server: ``as=PartialObjectMetadataList`` on lists, ``as=PartialObjectMetadata`` on gets and on
watches (every event, bookmarks included), both ``meta.k8s.io`` versions, Secrets without their
data, and 406 for conversions a request does not offer; ``negotiate_conversion`` on its own.
Excludes Table answers (test_api.py).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from skiff.apiserver.negotiation import NotAcceptableError, negotiate_conversion

SECRETS = "/api/v1/namespaces/default/secrets"
CM = "/api/v1/namespaces/default/configmaps"


def _accept(kind: str, version: str = "v1", *, fallback: bool = True) -> dict[str, str]:
    # what k8s.io/client-go/metadata sends (protobuf first, then JSON, then plain JSON)
    entries = [
        f"application/vnd.kubernetes.protobuf;as={kind};g=meta.k8s.io;v={version}",
        f"application/json;as={kind};g=meta.k8s.io;v={version}",
    ]
    if fallback:
        entries.append("application/json")
    return {"Accept": ",".join(entries)}


async def _secret(api: httpx.AsyncClient, name: str, **labels: str) -> dict[str, Any]:
    body = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "labels": labels, "ownerReferences": []},
        "stringData": {"password": "hunter2"},
    }
    r = await api.post(SECRETS, json=body)
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


@pytest.mark.parametrize("version", ["v1", "v1beta1"])
async def test_list_as_partial_object_metadata(api: httpx.AsyncClient, version: str) -> None:
    await _secret(api, "s1", app="a")
    await _secret(api, "s2", app="b")
    r = await api.get(
        SECRETS, params={"limit": "1"}, headers=_accept("PartialObjectMetadataList", version)
    )
    assert r.status_code == 200, r.text
    assert "as=PartialObjectMetadataList" in r.headers["content-type"]
    body = r.json()
    assert body["kind"] == "PartialObjectMetadataList"
    assert body["apiVersion"] == f"meta.k8s.io/{version}"
    assert body["metadata"]["resourceVersion"]
    assert body["metadata"]["continue"]
    [item] = body["items"]
    assert item == {
        "kind": "PartialObjectMetadata",
        "apiVersion": f"meta.k8s.io/{version}",
        "metadata": item["metadata"],
    }
    assert item["metadata"]["name"] == "s1"
    assert item["metadata"]["labels"] == {"app": "a"}
    assert item["metadata"]["uid"] and item["metadata"]["resourceVersion"]
    assert "hunter2" not in r.text and "aHVudGVyMg" not in r.text
    nxt = await api.get(
        SECRETS,
        params={"limit": "1", "continue": body["metadata"]["continue"]},
        headers=_accept("PartialObjectMetadataList", version),
    )
    assert [i["metadata"]["name"] for i in nxt.json()["items"]] == ["s2"]


async def test_get_as_partial_object_metadata(api: httpx.AsyncClient) -> None:
    created = await _secret(api, "one")
    r = await api.get(f"{SECRETS}/one", headers=_accept("PartialObjectMetadata"))
    assert r.status_code == 200, r.text
    assert r.json() == {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": created["metadata"],
    }
    # without the header the object is whole
    assert (await api.get(f"{SECRETS}/one")).json()["data"]["password"]


async def test_watch_as_partial_object_metadata(api: httpx.AsyncClient) -> None:
    await _secret(api, "before")
    events: list[dict[str, Any]] = []
    async with api.stream(
        "GET",
        SECRETS,
        params={"watch": "true", "allowWatchBookmarks": "true", "timeoutSeconds": "30"},
        headers=_accept("PartialObjectMetadata"),
    ) as resp:
        assert resp.status_code == 200
        assert "as=PartialObjectMetadata" in resp.headers["content-type"]
        lines = resp.aiter_lines()
        events.append(json.loads(await anext(lines)))  # the synthetic ADDED of "before"
        await _secret(api, "after")
        r = await api.delete(f"{SECRETS}/after")
        assert r.status_code == 200
        async for line in lines:
            if not line:
                continue
            events.append(json.loads(line))
            if events[-1]["type"] == "BOOKMARK":
                break
    seen = [(e["type"], e["object"]["metadata"].get("name")) for e in events]
    assert seen[:3] == [("ADDED", "before"), ("ADDED", "after"), ("DELETED", "after")]
    for event in events:
        assert event["object"]["kind"] == "PartialObjectMetadata"
        assert event["object"]["apiVersion"] == "meta.k8s.io/v1"
        assert set(event["object"]) == {"kind", "apiVersion", "metadata"}
    # a bookmark a metadata informer can decode, carrying the resourceVersion to resume from
    assert events[-1]["type"] == "BOOKMARK"
    assert int(events[-1]["object"]["metadata"]["resourceVersion"]) >= int(
        events[2]["object"]["metadata"]["resourceVersion"]
    )


@pytest.mark.parametrize(
    ("path", "accept"),
    [
        # a list cannot be answered as one object, an object not as a list (kube's 406s)
        (CM, "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"),
        (f"{CM}/x", "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"),
        (CM, "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v2"),
        (CM, "application/json;as=Table;g=other.io;v=v1"),
    ],
)
async def test_conversions_not_offered_are_406(
    api: httpx.AsyncClient, path: str, accept: str
) -> None:
    r = await api.post(
        CM, json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}
    )
    assert r.status_code in (201, 409)
    r = await api.get(path, headers={"Accept": accept})
    assert r.status_code == 406, r.text
    assert r.json()["reason"] == "NotAcceptable"
    # with plain JSON as the client's fallback the answer is the ordinary one
    r = await api.get(path, headers={"Accept": f"{accept},application/json"})
    assert r.status_code == 200
    assert r.json()["kind"] in ("ConfigMap", "ConfigMapList")


async def test_collection_table_and_plain_answers_are_unchanged(api: httpx.AsyncClient) -> None:
    await _secret(api, "t1")
    table = await api.get(
        SECRETS, headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"}
    )
    assert table.json()["kind"] == "Table"
    assert table.json()["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    plain = await api.get(SECRETS, headers={"Accept": "*/*"})
    assert plain.json()["kind"] == "SecretList"


_LIST = {"Table": ("v1", "v1beta1"), "PartialObjectMetadataList": ("v1", "v1beta1")}


@pytest.mark.parametrize(
    ("accept", "want"),
    [
        (None, None),
        ("*/*", None),
        ("application/vnd.kubernetes.protobuf", None),
        ("application/json;as=Table;v=v1;g=meta.k8s.io,application/json", ("Table", "v1")),
        (
            "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1beta1",
            ("PartialObjectMetadataList", "v1beta1"),
        ),
        # plain JSON preferred (a higher q) wins over an offered conversion
        ("application/json;as=Table;v=v1;g=meta.k8s.io;q=0.5,application/json", None),
        # an unknown conversion is skipped when something acceptable follows
        (
            "application/json;as=Foo;g=meta.k8s.io;v=v1,"
            "application/json;as=Table;g=meta.k8s.io;v=v1beta1",
            ("Table", "v1beta1"),
        ),
        ("application/json;as=Table;v=v1;g=meta.k8s.io;q=0,application/json", None),
    ],
)
def test_negotiate_conversion(accept: str | None, want: tuple[str, str] | None) -> None:
    got = negotiate_conversion(accept, _LIST)
    assert (None if got is None else (got.kind, got.version)) == want


def test_only_unoffered_conversions_are_not_acceptable() -> None:
    with pytest.raises(NotAcceptableError) as e:
        negotiate_conversion("application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1", _LIST)
    assert "PartialObjectMetadata;g=meta.k8s.io;v=v1" in str(e.value)
    assert "PartialObjectMetadataList (v1/v1beta1)" in str(e.value)
