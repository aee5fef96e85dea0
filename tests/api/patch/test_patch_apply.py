"""Server-side apply and managedFields bookkeeping (structured-merge-diff semantics).

Covers create-by-apply, pruning of fields a manager stops applying, shared ownership, conflicts
(paths, message and Status causes in Kubernetes' wording), force, list-map items owned per
manager, set lists, atomic lists and structs, ignored status, null values, entry order and time,
and ``update_managed_fields`` for plain writes followed by a conflicting apply (kubectl-wire.md
§4.3). Excludes the HTTP layer and version conversion.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from patch_models import Deployment

from skiff.api.patch import (
    ApplyConflict,
    FieldSet,
    PatchError,
    apply,
    conflict_status,
    decode_managed_fields,
    schema_for_model,
    update_managed_fields,
)

DEPLOY = schema_for_model(Deployment)
T0, T1, T2, T3 = (f"2025-01-01T00:00:0{i}Z" for i in range(4))


def manifest(**spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]},
            },
        },
    }
    body["spec"].update(spec)
    return body


def do_apply(
    live: dict[str, Any] | None,
    applied: dict[str, Any],
    manager: str = "kubectl",
    *,
    force: bool = False,
    now: str = T1,
) -> dict[str, Any]:
    return apply(
        live, applied, manager=manager, schema=DEPLOY, force=force, api_version="apps/v1", now=now
    )


def do_update(
    old: dict[str, Any] | None, new: dict[str, Any], manager: str, now: str = T1
) -> dict[str, Any]:
    return update_managed_fields(
        old, new, manager=manager, schema=DEPLOY, api_version="apps/v1", now=now
    )


def owned(obj: dict[str, Any], manager: str, operation: str = "Apply") -> FieldSet:
    for entry in decode_managed_fields(obj):
        if entry.manager == manager and entry.operation == operation:
            return entry.fields
    return FieldSet()


def containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = obj["spec"]["template"]["spec"]["containers"]
    return result


def test_apply_creates_object_and_entry() -> None:
    out = do_apply(None, manifest(), now=T0)
    assert out["spec"]["replicas"] == 2 and out["metadata"]["name"] == "web"
    assert out["metadata"]["managedFields"] == [
        {
            "manager": "kubectl",
            "operation": "Apply",
            "apiVersion": "apps/v1",
            "time": T0,
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {
                    "f:replicas": {},
                    "f:selector": {},
                    "f:template": {
                        "f:metadata": {"f:labels": {"f:app": {}}},
                        "f:spec": {
                            "f:containers": {
                                'k:{"name":"nginx"}': {".": {}, "f:image": {}, "f:name": {}}
                            }
                        },
                    },
                },
            },
        }
    ]


def test_inputs_are_not_modified() -> None:
    live = do_apply(None, manifest())
    applied = manifest(replicas=3, paused=True)
    live_before, applied_before = copy.deepcopy(live), copy.deepcopy(applied)
    out = do_apply(live, applied, "other", force=True)
    assert live == live_before and applied == applied_before
    containers(out)[0]["image"] = "changed"
    assert containers(live)[0]["image"] == "nginx:1.27"


def test_reapply_without_a_field_removes_it() -> None:
    live = do_apply(None, manifest(paused=True))
    applied = manifest()
    del applied["spec"]["replicas"]
    del applied["metadata"]["labels"]
    out = do_apply(live, applied)
    assert "replicas" not in out["spec"] and "paused" not in out["spec"]
    # Nobody owns anything under metadata.labels any more: the whole map goes.
    assert "labels" not in out["metadata"]
    assert not owned(out, "kubectl").has(("f:spec", "f:replicas"))


def test_removing_last_owned_child_removes_the_struct() -> None:
    live = do_apply(
        None, manifest(strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}})
    )
    out = do_apply(live, manifest(strategy={"type": "RollingUpdate"}))
    assert out["spec"]["strategy"] == {"type": "RollingUpdate"}
    out = do_apply(out, manifest())
    assert "strategy" not in out["spec"]


def test_unowned_fields_are_kept() -> None:
    live = do_apply(None, manifest())
    live["spec"]["paused"] = True  # e.g. written before field tracking, owned by nobody
    applied = manifest()
    del applied["spec"]["replicas"]
    out = do_apply(live, applied)
    assert out["spec"]["paused"] is True and "replicas" not in out["spec"]


def test_shared_field_survives_one_manager_dropping_it() -> None:
    live = do_apply(None, manifest())
    live = do_apply(
        live,
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {"replicas": 2},
        },
        "ci",
    )
    assert owned(live, "ci").has(("f:spec", "f:replicas"))
    assert owned(live, "kubectl").has(("f:spec", "f:replicas"))
    applied = manifest()
    del applied["spec"]["replicas"]
    out = do_apply(live, applied)
    assert out["spec"]["replicas"] == 2
    assert not owned(out, "kubectl").has(("f:spec", "f:replicas"))
    assert owned(out, "ci").has(("f:spec", "f:replicas"))


def test_conflict_lists_manager_and_paths() -> None:
    live = do_apply(None, manifest())
    theirs = manifest(replicas=5)
    containers(theirs)[0]["image"] = "nginx:1.28"
    with pytest.raises(ApplyConflict) as info:
        do_apply(live, theirs, "ci")
    err = info.value
    assert err.code == 409 and err.reason == "Conflict"
    assert [(c.manager, c.field) for c in err.conflicts] == [
        ("kubectl", ".spec.replicas"),
        ("kubectl", '.spec.template.spec.containers[name="nginx"].image'),
    ]
    assert err.message == (
        'Apply failed with 2 conflicts: conflicts with "kubectl":\n'
        "- .spec.replicas\n"
        '- .spec.template.spec.containers[name="nginx"].image'
    )
    assert err.causes[0] == {
        "reason": "FieldManagerConflict",
        "message": 'conflict with "kubectl"',
        "field": ".spec.replicas",
    }


def test_force_takes_ownership() -> None:
    live = do_apply(None, manifest())
    out = do_apply(
        live,
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {"replicas": 5},
        },
        "ci",
        force=True,
    )
    assert out["spec"]["replicas"] == 5
    assert owned(out, "ci").has(("f:spec", "f:replicas"))
    assert not owned(out, "kubectl").has(("f:spec", "f:replicas"))
    # The former owner re-applying its old value now conflicts with the new owner.
    with pytest.raises(ApplyConflict, match=r'conflict with "ci": \.spec\.replicas'):
        do_apply(out, manifest())


def test_each_manager_owns_its_own_container() -> None:
    live = do_apply(None, manifest())
    sidecar: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"template": {"spec": {"containers": [{"name": "sidecar", "image": "busybox"}]}}},
    }
    live = do_apply(live, sidecar, "injector")
    assert [c["name"] for c in containers(live)] == ["nginx", "sidecar"]
    injector = owned(live, "injector").to_fields_v1()
    assert injector["f:spec"]["f:template"]["f:spec"]["f:containers"] == {
        'k:{"name":"sidecar"}': {".": {}, "f:image": {}, "f:name": {}}
    }
    # kubectl changing its own container neither conflicts nor touches the sidecar.
    mine = manifest()
    containers(mine)[0]["image"] = "nginx:1.28"
    live = do_apply(live, mine)
    assert containers(live) == [
        {"name": "nginx", "image": "nginx:1.28"},
        {"name": "sidecar", "image": "busybox"},
    ]
    # The injector withdrawing its container removes it.
    withdrawn = copy.deepcopy(sidecar)
    withdrawn["spec"]["template"]["spec"]["containers"] = []
    out = do_apply(live, withdrawn, "injector")
    assert [c["name"] for c in containers(out)] == ["nginx"]
    assert [e.manager for e in decode_managed_fields(out)] == ["kubectl"]


def test_set_list_items_are_owned_per_value() -> None:
    def with_finalizers(*values: str) -> dict[str, Any]:
        return {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "finalizers": list(values)},
        }

    live = do_apply(None, with_finalizers("a.io/x"), "a")
    live = do_apply(live, with_finalizers("b.io/y"), "b")
    assert live["metadata"]["finalizers"] == ["a.io/x", "b.io/y"]
    assert owned(live, "b").to_fields_v1() == {"f:metadata": {"f:finalizers": {'v:"b.io/y"': {}}}}
    out = do_apply(live, with_finalizers(), "a")
    assert out["metadata"]["finalizers"] == ["b.io/y"]


def test_atomic_list_and_struct_are_single_fields() -> None:
    base = manifest()
    containers(base)[0]["command"] = ["nginx", "-g"]
    live = do_apply(None, base)
    theirs = manifest(selector={"matchLabels": {"app": "web", "x": "y"}})
    containers(theirs)[0]["command"] = ["other"]
    with pytest.raises(ApplyConflict) as info:
        do_apply(live, theirs, "ci")
    assert [c.field for c in info.value.conflicts] == [
        ".spec.selector",
        '.spec.template.spec.containers[name="nginx"].command',
    ]
    out = do_apply(live, theirs, "ci", force=True)
    assert containers(out)[0]["command"] == ["other"]
    assert out["spec"]["selector"] == {"matchLabels": {"app": "web", "x": "y"}}


def test_apply_ignores_status_and_server_metadata() -> None:
    live = do_apply(None, manifest())
    live["status"] = {"replicas": 1}
    live["metadata"].update(uid="u1", resourceVersion="7", generation=1, creationTimestamp=T0)
    applied = manifest()
    applied["status"] = {"replicas": 99}
    applied["metadata"].update(uid="evil", resourceVersion="1", managedFields=[{"manager": "x"}])
    out = do_apply(live, applied)
    assert out["status"] == {"replicas": 1}
    assert out["metadata"]["uid"] == "u1" and out["metadata"]["resourceVersion"] == "7"
    fields = owned(out, "kubectl")
    assert not fields.has(("f:status",)) and not fields.has(("f:metadata", "f:name"))


def test_null_in_applied_config_removes_the_field() -> None:
    live = do_apply(None, manifest(paused=True), "other")
    out = do_apply(
        live,
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {"paused": None},
        },
        force=True,
    )
    assert "paused" not in out["spec"]
    assert owned(out, "kubectl").has(("f:spec", "f:paused"))


def test_noop_apply_keeps_time_and_changes_refresh_it() -> None:
    live = do_apply(None, manifest(), now=T0)
    same = do_apply(live, manifest(), now=T1)
    assert same["metadata"]["managedFields"][0]["time"] == T0
    changed = do_apply(live, manifest(replicas=3), now=T2)
    assert changed["metadata"]["managedFields"][0]["time"] == T2


def test_apply_rejects_list_map_item_without_key() -> None:
    bad = manifest()
    containers(bad)[0] = {"image": "x"}
    with pytest.raises(PatchError):
        do_apply(None, bad)


# --- update_managed_fields -------------------------------------------------------------------


def test_client_side_apply_then_server_side_apply_conflicts() -> None:
    created = do_update(None, manifest(), "kubectl-client-side-apply", now=T0)
    entry = created["metadata"]["managedFields"][0]
    assert {k: entry[k] for k in ("manager", "operation", "apiVersion", "time")} == {
        "manager": "kubectl-client-side-apply",
        "operation": "Update",
        "apiVersion": "apps/v1",
        "time": T0,
    }
    # A new map or list item is itself owned by an updater (hence the "." entries).
    assert entry["fieldsV1"]["f:metadata"] == {"f:labels": {".": {}, "f:app": {}}}
    with pytest.raises(ApplyConflict) as info:
        do_apply(created, manifest(replicas=3))
    err = info.value
    assert err.message == (
        'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas'
    )
    assert err.to_status() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": err.message,
        "reason": "Conflict",
        "details": {
            "causes": [
                {
                    "reason": "FieldManagerConflict",
                    "message": 'conflict with "kubectl-client-side-apply" using apps/v1',
                    "field": ".spec.replicas",
                }
            ]
        },
        "code": 409,
    }
    assert conflict_status(err) == (err.message, err.to_status()["details"]["causes"])
    # Same values: no conflict, both own them; applied entries sort before updaters.
    shared = do_apply(created, manifest(), now=T1)
    assert [(e["manager"], e["operation"]) for e in shared["metadata"]["managedFields"]] == [
        ("kubectl", "Apply"),
        ("kubectl-client-side-apply", "Update"),
    ]


def test_update_takes_changed_fields_from_appliers() -> None:
    live = do_apply(None, manifest(), now=T0)
    scaled = copy.deepcopy(live)
    scaled["spec"]["replicas"] = 5
    out = do_update(live, scaled, "kubectl-scale", now=T1)
    assert owned(out, "kubectl-scale", "Update") == FieldSet.from_paths([("spec", "replicas")])
    assert not owned(out, "kubectl").has(("f:spec", "f:replicas"))
    assert (
        scaled["metadata"]["managedFields"] == live["metadata"]["managedFields"]
    )  # input untouched
    with pytest.raises(ApplyConflict, match=r'"kubectl-scale" using apps/v1: \.spec\.replicas'):
        do_apply(out, manifest())


def test_update_removing_fields_drops_them_from_every_set() -> None:
    live = do_apply(None, manifest())
    edited = copy.deepcopy(live)
    del edited["metadata"]["labels"]
    out = do_update(live, edited, "kubectl-edit")
    assert not owned(out, "kubectl").has(("f:metadata", "f:labels", "f:app"))
    # Removing only gives the editor nothing: no entry for it.
    assert [e.manager for e in decode_managed_fields(out)] == ["kubectl"]


def test_update_accumulates_and_only_refreshes_time_on_change() -> None:
    live = do_update(None, manifest(), "ctl", now=T0)
    step = copy.deepcopy(live)
    step["spec"]["paused"] = True
    live = do_update(live, step, "ctl", now=T1)
    fields = owned(live, "ctl", "Update")
    assert fields.has(("f:spec", "f:paused")) and fields.has(("f:spec", "f:replicas"))
    assert live["metadata"]["managedFields"][0]["time"] == T1
    same = do_update(live, copy.deepcopy(live), "ctl", now=T2)
    assert same["metadata"]["managedFields"][0]["time"] == T1


def test_update_ignores_status_and_tracks_nothing_for_server_fields() -> None:
    live = do_update(None, manifest(), "ctl")
    changed = copy.deepcopy(live)
    changed["status"] = {"replicas": 2}
    changed["metadata"]["resourceVersion"] = "9"
    out = do_update(live, changed, "other")
    assert [e.manager for e in decode_managed_fields(out)] == ["ctl"]


def test_client_can_reset_or_rewrite_managed_fields() -> None:
    live = do_apply(None, manifest())
    cleared = copy.deepcopy(live)
    cleared["metadata"]["managedFields"] = [{}]
    assert "managedFields" not in do_update(live, cleared, "ctl")["metadata"]
    rewritten = copy.deepcopy(live)
    rewritten["metadata"]["managedFields"] = [
        {
            "manager": "mine",
            "operation": "Apply",
            "apiVersion": "apps/v1",
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:spec": {"f:replicas": {}}},
        }
    ]
    out = do_update(live, rewritten, "ctl")
    assert [e.manager for e in decode_managed_fields(out)] == ["mine"]


def test_update_never_fails_the_write() -> None:
    live = do_apply(None, manifest())
    broken = copy.deepcopy(live)
    containers(broken).append({"image": "no-name"})
    out = do_update(live, broken, "ctl")
    assert "managedFields" not in out["metadata"]
    assert containers(out)[1] == {"image": "no-name"}


def test_applied_list_order_interleaves_like_structured_merge_diff() -> None:
    base = manifest()
    base["spec"]["template"]["spec"]["containers"] = [{"name": n, "image": "i"} for n in "abc"]
    live = do_apply(None, base)
    reordered = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "c", "image": "i"},
                        {"name": "a", "image": "i"},
                        {"name": "d", "image": "i"},
                    ]
                }
            }
        },
    }
    out = do_apply(live, reordered, "x")
    # Live-only items stay in place; applied items follow the applied order.
    assert [c["name"] for c in containers(out)] == ["b", "c", "a", "d"]
