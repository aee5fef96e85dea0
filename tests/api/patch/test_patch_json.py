"""JSON patch (RFC 6902) and JSON merge patch (RFC 7386).

Covers every operation, pointer escapes, ``-`` append, error classes and codes, and that inputs
are never modified. Excludes the HTTP layer (content types, Status bodies).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from skiff.api.patch import (
    InvalidPatchError,
    PatchError,
    PatchTestFailedError,
    json_patch,
    merge_patch,
    parse_pointer,
)

DOC: dict[str, Any] = {
    "metadata": {"name": "web", "labels": {"app": "web", "a/b": "slash", "m~n": "tilde"}},
    "spec": {"replicas": 1, "containers": [{"name": "a"}, {"name": "b"}], "paused": False},
}


@pytest.mark.parametrize(
    ("ops", "expected"),
    [
        (
            [{"op": "add", "path": "/metadata/labels/tier", "value": "fe"}],
            {**DOC["metadata"]["labels"], "tier": "fe"},
        ),
        (
            [{"op": "remove", "path": "/metadata/labels/a~1b"}],
            {"app": "web", "m~n": "tilde"},
        ),
        (
            [{"op": "replace", "path": "/metadata/labels/m~0n", "value": "T"}],
            {"app": "web", "a/b": "slash", "m~n": "T"},
        ),
    ],
    ids=["add-key", "remove-escaped-slash", "replace-escaped-tilde"],
)
def test_label_ops(ops: list[dict[str, Any]], expected: dict[str, str]) -> None:
    assert json_patch(DOC, ops)["metadata"]["labels"] == expected


def test_add_to_array_inserts_and_dash_appends() -> None:
    out = json_patch(
        DOC,
        [
            {"op": "add", "path": "/spec/containers/1", "value": {"name": "mid"}},
            {"op": "add", "path": "/spec/containers/-", "value": {"name": "end"}},
            {"op": "add", "path": "/spec/containers/0", "value": {"name": "first"}},
        ],
    )
    assert [c["name"] for c in out["spec"]["containers"]] == ["first", "a", "mid", "b", "end"]


def test_remove_and_replace_array_items() -> None:
    out = json_patch(
        DOC,
        [
            {"op": "remove", "path": "/spec/containers/0"},
            {"op": "replace", "path": "/spec/containers/0/name", "value": "z"},
        ],
    )
    assert out["spec"]["containers"] == [{"name": "z"}]


def test_move_and_copy() -> None:
    out = json_patch(
        DOC,
        [
            {"op": "copy", "from": "/metadata/labels", "path": "/spec/selector"},
            {"op": "move", "from": "/spec/replicas", "path": "/spec/count"},
        ],
    )
    assert out["spec"]["selector"] == DOC["metadata"]["labels"]
    assert out["spec"]["selector"] is not out["metadata"]["labels"]
    assert "replicas" not in out["spec"] and out["spec"]["count"] == 1


def test_move_into_own_child_is_rejected() -> None:
    with pytest.raises(PatchError):
        json_patch(DOC, [{"op": "move", "from": "/spec", "path": "/spec/inner"}])


def test_test_op_uses_json_equality() -> None:
    ok = [{"op": "test", "path": "/spec/replicas", "value": 1.0}]
    assert json_patch(DOC, ok) == DOC
    # false is not 0 in JSON even though it is in Python.
    with pytest.raises(PatchTestFailedError) as info:
        json_patch(DOC, [{"op": "test", "path": "/spec/paused", "value": 0}])
    assert info.value.code == 422
    assert "/spec/paused" in info.value.message


def test_root_replace_and_add() -> None:
    assert json_patch(DOC, [{"op": "replace", "path": "", "value": {"x": 1}}]) == {"x": 1}
    assert json_patch({}, [{"op": "add", "path": "", "value": [1]}]) == [1]


@pytest.mark.parametrize(
    "ops",
    [
        [{"op": "remove", "path": "/metadata/nope"}],
        [{"op": "replace", "path": "/metadata/nope", "value": 1}],
        [{"op": "add", "path": "/missing/parent", "value": 1}],
        [{"op": "add", "path": "/spec/containers/5", "value": 1}],
        [{"op": "remove", "path": "/spec/containers/01"}],
        [{"op": "remove", "path": "/spec/containers/-"}],
        [{"op": "copy", "from": "/nope", "path": "/x"}],
    ],
    ids=[
        "remove-missing",
        "replace-missing",
        "add-no-parent",
        "index-too-big",
        "leading-zero",
        "dash-remove",
        "copy-missing",
    ],
)
def test_ops_that_do_not_apply_are_422(ops: list[dict[str, Any]]) -> None:
    with pytest.raises(PatchError) as info:
        json_patch(DOC, ops)
    assert info.value.code == 422


@pytest.mark.parametrize(
    "ops",
    [
        {"op": "add"},
        [{"op": "frobnicate", "path": "/a"}],
        [{"op": "add", "path": "/a"}],
        [{"op": "move", "path": "/a"}],
        [{"op": "add", "path": "no-slash", "value": 1}],
        [{"op": "add", "path": "/a~2b", "value": 1}],
        ["not an object"],
    ],
    ids=[
        "not-a-list",
        "unknown-op",
        "add-no-value",
        "move-no-from",
        "bad-pointer",
        "bad-escape",
        "op-not-object",
    ],
)
def test_malformed_patches_are_400(ops: Any) -> None:
    with pytest.raises(InvalidPatchError) as info:
        json_patch(DOC, ops)
    assert info.value.code == 400


def test_failed_patch_is_atomic_and_inputs_untouched() -> None:
    before = copy.deepcopy(DOC)
    ops: list[dict[str, Any]] = [
        {"op": "add", "path": "/spec/new", "value": {"deep": [1]}},
        {"op": "remove", "path": "/spec/containers/0"},
        {"op": "test", "path": "/spec/replicas", "value": 2},
    ]
    ops_before = copy.deepcopy(ops)
    with pytest.raises(PatchTestFailedError):
        json_patch(DOC, ops)
    assert before == DOC
    out = json_patch(DOC, ops[:2])
    assert before == DOC and ops == ops_before
    out["spec"]["new"]["deep"].append(2)
    assert ops[0]["value"] == {"deep": [1]}


def test_parse_pointer() -> None:
    assert parse_pointer("") == []
    assert parse_pointer("/a~1b/~0c/") == ["a/b", "~c", ""]


# --- merge patch ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("doc", "patch", "expected"),
    [
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        (["a", "b"], ["c", "d"], ["c", "d"]),
        ({"a": "b"}, ["c"], ["c"]),
        ({"a": "foo"}, None, None),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ],
    ids=[f"rfc7386-appendix-a-{i}" for i in range(1, 15)],
)
def test_merge_patch_rfc_examples(doc: Any, patch: Any, expected: Any) -> None:
    assert merge_patch(doc, patch) == expected


def test_merge_patch_does_not_modify_inputs() -> None:
    doc = {"metadata": {"labels": {"a": "1"}}, "spec": {"x": [1]}}
    patch = {"metadata": {"labels": {"b": "2", "a": None}}, "spec": {"y": {"z": 1}}}
    doc_before, patch_before = copy.deepcopy(doc), copy.deepcopy(patch)
    out = merge_patch(doc, patch)
    assert out == {"metadata": {"labels": {"b": "2"}}, "spec": {"x": [1], "y": {"z": 1}}}
    out["spec"]["x"].append(2)
    out["spec"]["y"]["z"] = 5
    assert doc == doc_before and patch == patch_before
