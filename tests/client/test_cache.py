"""Frozen values (immutability, equality with plain JSON, thaw, JSON encoding), the Indexer
(keys, indexes kept in step across upsert/delete/replace), Lister queries and selector parsing.
Pure, no I/O."""

from __future__ import annotations

import copy

import orjson
import pytest

from skiff.client import (
    LABELS_INDEX,
    NAMESPACE_INDEX,
    FrozenDict,
    FrozenList,
    Indexer,
    Lister,
    SelectorError,
    as_label_selector,
    freeze,
    label_index_func,
    label_selector_from_object,
    labels_index_func,
    object_key,
    parse_field_selector,
    parse_label_selector,
    thaw,
)
from skiff.client.frozen import json_default


def obj(name: str, ns: str | None = "a", rv: str = "1", **labels: str) -> dict[str, object]:
    meta: dict[str, object] = {"name": name, "resourceVersion": rv, "labels": labels}
    if ns:
        meta["namespace"] = ns
    return {"metadata": meta, "spec": {"items": [1, {"x": 2}]}}


def test_frozen_is_deeply_immutable_and_equal_to_plain() -> None:
    plain = obj("x", app="web")
    frozen = freeze(plain)
    assert isinstance(frozen, FrozenDict)
    assert frozen == plain and plain == frozen
    assert isinstance(frozen["spec"]["items"], FrozenList)
    assert frozen["spec"]["items"] == [1, {"x": 2}]
    with pytest.raises(TypeError):
        frozen["spec"] = {}  # type: ignore[index]
    with pytest.raises(TypeError):
        frozen["spec"]["items"][0] = 5  # type: ignore[index]
    with pytest.raises(AttributeError):
        frozen["spec"]["items"].append(3)  # type: ignore[attr-defined]
    assert hash(frozen) == hash(freeze(obj("x", app="web")))
    assert copy.deepcopy(frozen) is frozen
    assert frozen["spec"]["items"][1:] == [{"x": 2}]
    # get: frozen values, the default for a missing key, the same object on a second read
    assert frozen.get("missing") is None and frozen.get("missing", 7) == 7
    assert isinstance(frozen.get("spec"), FrozenDict) and frozen.get("spec") is frozen["spec"]
    assert isinstance(frozen.get("spec").get("items"), FrozenList)


def test_thaw_returns_independent_mutable_copy() -> None:
    frozen = freeze(obj("x"))
    mutable = thaw(frozen)
    assert type(mutable) is dict and type(mutable["spec"]["items"]) is list
    mutable["spec"]["items"].append(3)
    assert frozen["spec"]["items"] == [1, {"x": 2}]
    assert orjson.loads(orjson.dumps(frozen, default=json_default)) == obj("x")
    assert (frozen | {"extra": 1})["extra"] == 1


def test_keys() -> None:
    assert object_key(obj("x", "ns")) == "ns/x"
    assert object_key(obj("node1", None)) == "node1"
    with pytest.raises(ValueError):
        object_key({"metadata": {}})


def test_indexer_keeps_indexes_in_step() -> None:
    idx = Indexer({"app": label_index_func("app"), LABELS_INDEX: labels_index_func})
    idx.upsert(obj("x", "a", app="web", tier="fe"))
    idx.upsert(obj("y", "b", app="web"))
    idx.upsert(obj("z", "b"))
    assert [object_key(o) for o in idx.by_index("app", "web")] == ["a/x", "b/y"]
    assert idx.index_keys(NAMESPACE_INDEX, "b") == ["b/y", "b/z"]
    assert [object_key(o) for o in idx.by_index(LABELS_INDEX, "tier=fe")] == ["a/x"]
    previous, _ = idx.upsert(obj("x", "a", rv="2", app="db"))
    assert previous is not None and previous["metadata"]["labels"]["app"] == "web"
    assert [object_key(o) for o in idx.by_index("app", "web")] == ["b/y"]
    assert idx.list_index_values("app") == ["db", "web"]
    assert [object_key(o) for o in idx.index("app", obj("q", app="db"))] == ["a/x"]
    assert idx.delete("b/y") is not None
    assert idx.by_index("app", "web") == []
    assert idx.list_index_values("app") == ["db"]
    idx.add_indexers({"late": lambda o: [str(o["metadata"]["name"])]})
    assert idx.index_keys("late", "z") == ["b/z"]
    with pytest.raises(ValueError):
        idx.add_indexers({"late": labels_index_func})
    with pytest.raises(KeyError):
        idx.by_index("nope", "x")


def test_replace_reports_changes() -> None:
    idx = Indexer()
    idx.upsert(obj("keep", rv="1"))
    idx.upsert(obj("change", rv="1"))
    idx.upsert(obj("drop", rv="1"))
    added, updated, deleted = idx.replace(
        [obj("keep", rv="1"), obj("change", rv="2"), obj("new", rv="3")], "3"
    )
    assert [object_key(o) for o in added] == ["a/new"]
    assert [(object_key(o), n["metadata"]["resourceVersion"]) for o, n in updated] == [
        ("a/change", "2")
    ]
    assert [object_key(o) for o in deleted] == ["a/drop"]
    assert idx.resource_version == "3"
    assert sorted(idx.list_keys()) == ["a/change", "a/keep", "a/new"]
    assert idx.index_keys(NAMESPACE_INDEX, "a") == ["a/change", "a/keep", "a/new"]


def test_lister() -> None:
    idx = Indexer()
    for o in (obj("x", "a", app="web"), obj("y", "b", app="db"), obj("n", None, app="web")):
        idx.upsert(o)
    lister = Lister(idx)
    assert lister.get("x", namespace="a") == obj("x", "a", app="web")
    assert lister.get("x", namespace="b") is None
    assert lister.get("n") is not None
    assert sorted(object_key(o) for o in lister.list(label_selector="app=web")) == ["a/x", "n"]
    assert [object_key(o) for o in lister.list(namespace="b")] == ["b/y"]
    assert [object_key(o) for o in lister.list(label_selector={"app": "db"})] == ["b/y"]


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ("", {}, True),
        ("app=web", {"app": "web"}, True),
        ("app==web", {"app": "db"}, False),
        ("app!=web", {}, True),
        ("app!=web", {"app": "web"}, False),
        ("app in (web, db)", {"app": "db"}, True),
        ("app notin (web,db)", {"app": "db"}, False),
        ("app notin (web,db)", {}, True),
        ("app", {"app": ""}, True),
        ("!app", {"app": "x"}, False),
        ("app=web,tier in (fe),!canary", {"app": "web", "tier": "fe"}, True),
        ("app=web,tier in (fe),!canary", {"app": "web", "tier": "fe", "canary": "1"}, False),
    ],
    ids=lambda v: repr(v),
)
def test_label_selectors(selector: str, labels: dict[str, str], expected: bool) -> None:
    assert parse_label_selector(selector).matches(labels) is expected


def test_field_selectors_and_errors() -> None:
    pod = {"metadata": {"name": "p", "namespace": "a"}, "spec": {"nodeName": "n1"}}
    idx: Indexer[FrozenDict] = Indexer()
    idx.upsert(pod)
    idx.upsert({"metadata": {"name": "q", "namespace": "a"}, "spec": {"nodeName": "n2"}})
    lister = Lister(idx, kind="Pod")
    assert [o["metadata"]["name"] for o in lister.list(field_selector="spec.nodeName=n1")] == ["p"]
    assert [
        o["metadata"]["name"]
        for o in lister.list(field_selector="spec.nodeName!=n1,metadata.namespace=a")
    ] == ["q"]
    # A field the server does not select on is refused the way the server refuses it.
    with pytest.raises(SelectorError, match=r"field label not supported: spec\.dnsPolicy"):
        lister.list(field_selector="spec.dnsPolicy=x")
    with pytest.raises(ValueError, match="kind="):
        Lister(idx).list(field_selector="spec.nodeName=n1")
    for bad in ("=x", "a in", "!a in (x)"):
        with pytest.raises(ValueError):
            parse_label_selector(bad)
    with pytest.raises(ValueError):
        parse_field_selector("nonsense")
    # An escaped comma is part of the value, not a separator (the old client copy raised here).
    assert parse_field_selector(r"metadata.name=a\,b").requirements[0].value == "a,b"


def test_lister_takes_every_selector_spelling() -> None:
    idx: Indexer[FrozenDict] = Indexer()
    for o in (
        obj("one", app="web", tier="fe", gen="1"),
        obj("two", app="web", tier="be", gen="3"),
        obj("three", app="db", gen="5"),
    ):
        idx.upsert(o)
    lister = Lister(idx)

    def names(selector: object) -> list[str]:
        return sorted(o["metadata"]["name"] for o in lister.list(label_selector=selector))

    # gt/lt, which the client's old parser rejected.
    assert names("gen>2") == ["three", "two"]
    assert names("gen<2,app=web") == ["one"]
    # A ReplicaSet's spec.selector as it stands: matchLabels plus matchExpressions.
    rs_selector = {
        "matchLabels": {"app": "web"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["fe", "canary"]},
            {"key": "gen", "operator": "Exists"},
        ],
    }
    assert names(rs_selector) == ["one"]
    assert names(freeze(rs_selector)) == ["one"]  # as read from another informer's cache
    assert names({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}) == ["three"]
    assert names({"app": "web"}) == ["one", "two"]  # a Service-style matchLabels map
    assert names(as_label_selector("app notin (web)")) == ["three"]
    assert names({}) == ["one", "three", "two"]  # an empty selector object selects everything
    assert names(label_selector_from_object(None)) == []  # a null one selects nothing
    with pytest.raises(SelectorError):
        names({"matchExpressions": [{"key": "a", "operator": "Near"}]})
