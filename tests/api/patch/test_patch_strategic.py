"""Strategic merge patch against Pod/Deployment-shaped schemas (see patch_models.py).

Covers merge-key lists, primitive sets, replaced lists, every directive (``$patch`` on maps and
list items, ``$setElementOrder``, ``$retainKeys``, ``$deleteFromPrimitiveList``), the list order
Kubernetes produces, free-form positions, kubectl's client-side-apply bodies, error classes and
input immutability. Excludes the 3-way diff kubectl computes (client side).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from patch_models import Deployment, Pod

from skiff.api.patch import (
    InvalidPatchError,
    PatchError,
    PatchSchema,
    schema_for_model,
    strategic_merge_patch,
)

DEPLOY = schema_for_model(Deployment)
POD = schema_for_model(Pod)


def deployment() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}, "finalizers": ["a", "b"]},
        "spec": {
            "replicas": 2,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "nginx",
                            "image": "nginx:1.27",
                            "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                            "ports": [{"containerPort": 80, "protocol": "TCP"}],
                            "args": ["-a", "-b"],
                        },
                        {"name": "sidecar", "image": "busybox"},
                    ],
                    "volumes": [{"name": "conf", "configMap": {"name": "web-conf"}}],
                },
            },
        },
    }


def pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = obj["spec"]["template"]["spec"]
    return spec


def smp(doc: dict[str, Any], patch: dict[str, Any], schema: PatchSchema = DEPLOY) -> dict[str, Any]:
    return strategic_merge_patch(doc, patch, schema)


def test_kubectl_client_side_apply_body() -> None:
    manifest = {
        "kind": "Deployment",
        "spec": {"template": {"spec": {"containers": [{"name": "nginx"}]}}},
    }
    last_applied = json.dumps(manifest, separators=(",", ":")) + "\n"
    patch = {
        "metadata": {
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": last_applied}
        },
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "nginx"}],
                    "containers": [{"image": "nginx:1.28", "name": "nginx"}],
                }
            }
        },
    }
    live = deployment()
    out = smp(live, patch)
    containers = pod_spec(out)["containers"]
    assert [c["name"] for c in containers] == ["nginx", "sidecar"]
    assert containers[0]["image"] == "nginx:1.28"
    # Everything else on the merged container survives.
    assert containers[0]["env"] == pod_spec(live)["containers"][0]["env"]
    assert containers[1] == {"name": "sidecar", "image": "busybox"}
    assert out["metadata"]["annotations"] == {
        "kubectl.kubernetes.io/last-applied-configuration": last_applied
    }
    assert "$setElementOrder/containers" not in pod_spec(out)
    assert pod_spec(live)["containers"][0]["image"] == "nginx:1.27"


def test_delete_env_entry_with_patch_delete() -> None:
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "nginx"}, {"name": "sidecar"}],
                    "containers": [
                        {
                            "name": "nginx",
                            "$setElementOrder/env": [{"name": "B"}],
                            "env": [{"$patch": "delete", "name": "A"}],
                        }
                    ],
                }
            }
        }
    }
    out = smp(deployment(), patch)
    assert pod_spec(out)["containers"][0]["env"] == [{"name": "B", "value": "2"}]


def test_new_items_append_and_patch_order_interleaves() -> None:
    live = deployment()
    pod_spec(live)["containers"].append({"name": "c"})
    patch = {
        "spec": {
            "template": {"spec": {"containers": [{"name": "d"}, {"name": "nginx", "image": "x"}]}}
        }
    }
    out = smp(live, patch)
    # normalizeElementOrder: patch items in patch order, server-only items by server order.
    assert [c["name"] for c in pod_spec(out)["containers"]] == ["d", "nginx", "sidecar", "c"]


def test_set_element_order_reorders_without_patch_list() -> None:
    patch = {
        "spec": {
            "template": {
                "spec": {"$setElementOrder/containers": [{"name": "sidecar"}, {"name": "nginx"}]}
            }
        }
    }
    out = smp(deployment(), patch)
    assert [c["name"] for c in pod_spec(out)["containers"]] == ["sidecar", "nginx"]


def test_set_element_order_must_match_patch_list() -> None:
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "nginx"}],
                    "containers": [{"name": "sidecar", "image": "x"}],
                }
            }
        }
    }
    with pytest.raises(PatchError):
        smp(deployment(), patch)


def test_replace_directive_on_list() -> None:
    patch = {
        "spec": {
            "template": {
                "spec": {"containers": [{"$patch": "replace"}, {"name": "only", "image": "i"}]}
            }
        }
    }
    out = smp(deployment(), patch)
    assert pod_spec(out)["containers"] == [{"name": "only", "image": "i"}]


def test_replace_directive_on_map() -> None:
    patch = {"metadata": {"labels": {"$patch": "replace", "tier": "fe", "gone": None}}}
    out = smp(deployment(), patch)
    assert out["metadata"]["labels"] == {"tier": "fe"}


def test_delete_directive_on_map_leaves_it_empty() -> None:
    out = smp(deployment(), {"spec": {"strategy": {"$patch": "delete"}}})
    assert out["spec"]["strategy"] == {}


def test_unknown_patch_directive_is_bad_request() -> None:
    with pytest.raises(InvalidPatchError) as info:
        smp(deployment(), {"metadata": {"$patch": "explode"}})
    assert info.value.code == 400


def test_merge_directive_on_list_item_is_rejected() -> None:
    with pytest.raises(InvalidPatchError):
        smp(deployment(), {"spec": {"template": {"spec": {"containers": [{"$patch": "merge"}]}}}})


def test_null_deletes_and_unmatched_null_is_ignored() -> None:
    out = smp(
        deployment(),
        {"spec": {"replicas": None, "paused": None}, "metadata": {"labels": {"app": None}}},
    )
    assert "replicas" not in out["spec"] and "paused" not in out["spec"]
    assert out["metadata"]["labels"] == {}


def test_rollout_pause_resume_and_restart() -> None:
    paused = smp(deployment(), {"spec": {"paused": True}})
    assert paused["spec"]["paused"] is True
    assert "paused" not in smp(paused, {"spec": {"paused": None}})["spec"]
    restart = {
        "spec": {
            "template": {
                "metadata": {
                    "annotations": {"kubectl.kubernetes.io/restartedAt": "2025-01-01T00:00:00Z"}
                }
            }
        }
    }
    out = smp(deployment(), restart)
    assert out["spec"]["template"]["metadata"] == {
        "labels": {"app": "web"},
        "annotations": {"kubectl.kubernetes.io/restartedAt": "2025-01-01T00:00:00Z"},
    }


def test_primitive_merge_list_is_a_set() -> None:
    out = smp(deployment(), {"metadata": {"finalizers": ["c", "a"]}})
    assert out["metadata"]["finalizers"] == ["c", "a", "b"]


def test_delete_from_primitive_list() -> None:
    patch = {
        "metadata": {
            "$setElementOrder/finalizers": ["b", "z"],
            "$deleteFromPrimitiveList/finalizers": ["a"],
            "finalizers": ["z"],
        }
    }
    out = smp(deployment(), patch)
    assert out["metadata"]["finalizers"] == ["b", "z"]


def test_list_without_merge_strategy_is_replaced() -> None:
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "nginx", "args": ["-c"]}]}}}}
    out = smp(deployment(), patch)
    assert pod_spec(out)["containers"][0]["args"] == ["-c"]


def test_ports_merge_by_container_port() -> None:
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "nginx",
                            "ports": [
                                {"containerPort": 80, "name": "http"},
                                {"containerPort": 443},
                            ],
                        }
                    ]
                }
            }
        }
    }
    out = smp(deployment(), patch)
    assert pod_spec(out)["containers"][0]["ports"] == [
        {"containerPort": 80, "protocol": "TCP", "name": "http"},
        {"containerPort": 443},
    ]


def test_retain_keys_on_deployment_strategy() -> None:
    patch = {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}
    out = smp(deployment(), patch)
    assert out["spec"]["strategy"] == {"type": "Recreate"}


def test_retain_keys_rejects_patch_keys_it_does_not_list() -> None:
    patch = {
        "spec": {
            "strategy": {
                "$retainKeys": ["type"],
                "type": "Recreate",
                "rollingUpdate": {"maxSurge": 1},
            }
        }
    }
    with pytest.raises(InvalidPatchError):
        smp(deployment(), patch)


def test_retain_keys_on_volume_items() -> None:
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "volumes": [
                        {"$retainKeys": ["emptyDir", "name"], "name": "conf", "emptyDir": {}}
                    ]
                }
            }
        }
    }
    out = smp(deployment(), patch)
    assert pod_spec(out)["volumes"] == [{"name": "conf", "emptyDir": {}}]


def test_free_form_position_behaves_like_merge_patch() -> None:
    live = deployment()
    live["spec"]["extra"] = {"a": {"x": 1, "y": 2}, "l": [1, 2]}
    out = smp(live, {"spec": {"extra": {"a": {"y": None, "z": 3}, "l": [3]}}})
    assert out["spec"]["extra"] == {"a": {"x": 1, "z": 3}, "l": [3]}


def test_new_values_have_directives_and_nulls_stripped() -> None:
    live = deployment()
    del pod_spec(live)["volumes"]
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "volumes": [
                        {"name": "v", "emptyDir": {"medium": None}},
                        {"$patch": "delete", "name": "zz"},
                    ],
                }
            }
        }
    }
    out = smp(live, patch)
    assert pod_spec(out)["volumes"] == [{"name": "v", "emptyDir": {}}]


def test_merge_list_item_without_merge_key_is_rejected() -> None:
    with pytest.raises(PatchError):
        smp(deployment(), {"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}})


def test_type_mismatch_replaces_value() -> None:
    out = smp(deployment(), {"spec": {"strategy": "odd"}})
    assert out["spec"]["strategy"] == "odd"


def test_patch_on_pod_schema() -> None:
    pod = {
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "a", "image": "x"}], "nodeSelector": {"a": "1"}},
    }
    out = strategic_merge_patch(
        pod,
        {"spec": {"nodeSelector": {"b": "2"}, "containers": [{"name": "a", "image": "y"}]}},
        POD,
    )
    # nodeSelector is atomic for server-side apply only; strategic merge still merges maps.
    assert out["spec"] == {
        "containers": [{"name": "a", "image": "y"}],
        "nodeSelector": {"a": "1", "b": "2"},
    }


def test_inputs_are_not_modified_and_result_is_independent() -> None:
    live = deployment()
    patch = {
        "metadata": {
            "$deleteFromPrimitiveList/finalizers": ["a"],
            "labels": {"$patch": "replace", "x": "y"},
        },
        "spec": {
            "strategy": {"$retainKeys": ["type"], "type": "Recreate"},
            "template": {
                "spec": {
                    "containers": [{"name": "nginx", "env": [{"$patch": "delete", "name": "A"}]}]
                }
            },
        },
    }
    live_before, patch_before = copy.deepcopy(live), copy.deepcopy(patch)
    out = smp(live, patch)
    assert live == live_before and patch == patch_before
    pod_spec(out)["containers"][1]["image"] = "changed"
    assert pod_spec(live)["containers"][1]["image"] == "busybox"


def test_top_level_patch_must_be_an_object() -> None:
    with pytest.raises(InvalidPatchError):
        strategic_merge_patch({}, [], DEPLOY)
