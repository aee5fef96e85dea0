"""Field sets: fieldsV1 parsing/rendering, set algebra, path strings, and fieldset_from_object.

Covers the structured-merge-diff rules for which paths an object sets (list-map items ``k:``,
set items ``v:``, atomic lists and maps as leaves, map entries as members) and the ``.spec``
style paths used in conflict messages. Excludes ownership bookkeeping (test_patch_apply.py).
"""

from __future__ import annotations

import pytest
from patch_models import Deployment

from skiff.api.patch import (
    UNKNOWN,
    FieldSet,
    InvalidPatchError,
    PatchError,
    compare,
    fieldset_from_object,
    path_string,
    schema_for_model,
)

DEPLOY = schema_for_model(Deployment)


def test_fieldset_from_deployment_matches_kubernetes_apply_output() -> None:
    applied = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {"name": "nginx", "image": "nginx", "ports": [{"containerPort": 80}]}
                    ]
                },
            },
        },
    }
    fields = fieldset_from_object(applied, DEPLOY)
    assert fields.to_fields_v1() == {
        "f:apiVersion": {},
        "f:kind": {},
        "f:metadata": {"f:labels": {"f:app": {}}, "f:name": {}},
        "f:spec": {
            "f:replicas": {},
            "f:selector": {},
            "f:template": {
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {
                    "f:containers": {
                        'k:{"name":"nginx"}': {
                            ".": {},
                            "f:image": {},
                            "f:name": {},
                            "f:ports": {
                                'k:{"containerPort":80,"protocol":"TCP"}': {
                                    ".": {},
                                    "f:containerPort": {},
                                }
                            },
                        }
                    }
                },
            },
        },
    }


def test_set_lists_atomic_lists_empty_maps_and_free_form() -> None:
    obj = {
        "metadata": {"finalizers": ["a", "b"], "annotations": {}},
        "spec": {
            "template": {
                "spec": {
                    "containers": [{"name": "c", "command": ["x"], "args": ["y"], "resources": {}}]
                }
            },
            "extra": {"k": {"deep": [1]}},
        },
    }
    v1 = fieldset_from_object(obj, DEPLOY).to_fields_v1()
    assert v1["f:metadata"] == {"f:annotations": {}, "f:finalizers": {'v:"a"': {}, 'v:"b"': {}}}
    container = v1["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"c"}']
    assert container == {".": {}, "f:args": {}, "f:command": {}, "f:name": {}, "f:resources": {}}
    # Free-form maps are granular with every key a member; their lists are atomic.
    assert v1["f:spec"]["f:extra"] == {"f:k": {".": {}, "f:deep": {}}}


def test_list_map_item_without_key_is_an_error() -> None:
    with pytest.raises(PatchError, match='omits key field "name"'):
        fieldset_from_object(
            {"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}, DEPLOY
        )


def test_fields_v1_round_trip_and_canonical_keys() -> None:
    raw = {
        "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
        "f:spec": {"f:ports": {'k:{"protocol": "TCP", "port": 80}': {".": {}, "f:port": {}}}},
    }
    fields = FieldSet.from_fields_v1(raw)
    assert fields.to_fields_v1() == {
        "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
        "f:spec": {"f:ports": {'k:{"port":80,"protocol":"TCP"}': {".": {}, "f:port": {}}}},
    }
    assert fields.has(("f:metadata", "f:labels"))
    assert not fields.has(("f:metadata",))
    assert fields.has(("f:spec", "f:ports", 'k:{"port":80,"protocol":"TCP"}', "f:port"))


@pytest.mark.parametrize(
    "raw",
    [[], {"x:nope": {}}, {"f:a": 1}, {"k:notjson": {}}, {"k:[1]": {}}, {"i:x": {}}],
    ids=["not-object", "bad-prefix", "non-object-child", "bad-json", "key-not-object", "bad-index"],
)
def test_malformed_fields_v1(raw: object) -> None:
    with pytest.raises(InvalidPatchError):
        FieldSet.from_fields_v1(raw)


def test_set_algebra() -> None:
    a = FieldSet.from_paths([("spec", "replicas"), ("spec", "paused"), ("metadata", "labels", "x")])
    b = FieldSet.from_paths([("spec", "replicas"), ("spec",), ("metadata", "labels", "y")])
    assert (a & b) == FieldSet.from_paths([("spec", "replicas")])
    assert (a - b) == FieldSet.from_paths([("spec", "paused"), ("metadata", "labels", "x")])
    assert len(a | b) == 5
    assert (a - a).empty() and not (a - a)
    assert FieldSet().union(a) == a


def test_without_prefixes() -> None:
    fields = FieldSet.from_paths([("status", "phase"), ("status",), ("spec", "x"), ("statusy",)])
    kept = fields.without_prefixes(FieldSet.from_paths([("status",)]))
    assert kept == FieldSet.from_paths([("spec", "x"), ("statusy",)])


def test_paths_order_and_strings() -> None:
    fields = FieldSet.from_fields_v1(
        {
            "f:spec": {
                "f:template": {
                    "f:spec": {"f:containers": {'k:{"name":"nginx"}': {".": {}, "f:image": {}}}}
                },
                "f:replicas": {},
                "f:paused": {},
            },
            "f:metadata": {"f:finalizers": {'v:"x"': {}}},
        }
    )
    assert [path_string(p) for p in fields.paths()] == [
        '.metadata.finalizers[="x"]',
        ".spec.paused",
        ".spec.replicas",
        '.spec.template.spec.containers[name="nginx"]',
        '.spec.template.spec.containers[name="nginx"].image',
    ]
    assert path_string(("f:ports", 'k:{"containerPort":80,"protocol":"TCP"}', "i:3")) == (
        '.ports[containerPort=80,protocol="TCP"][3]'
    )


def test_compare_reports_new_maps_and_items_as_paths() -> None:
    old = {
        "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "a", "image": "x"}]}}}
    }
    new = {
        "metadata": {"labels": {"app": "w"}},
        "spec": {
            "replicas": 2,
            "template": {"spec": {"containers": [{"name": "b", "image": "x"}]}},
        },
    }
    result = compare(old, new, DEPLOY)
    assert result.added.to_fields_v1() == {
        "f:metadata": {".": {}, "f:labels": {".": {}, "f:app": {}}},
        "f:spec": {
            "f:template": {
                "f:spec": {
                    "f:containers": {'k:{"name":"b"}': {".": {}, "f:image": {}, "f:name": {}}}
                }
            }
        },
    }
    assert result.modified == FieldSet.from_paths([("spec", "replicas")])
    assert result.removed.to_fields_v1() == {
        "f:spec": {
            "f:template": {
                "f:spec": {
                    "f:containers": {'k:{"name":"a"}': {".": {}, "f:image": {}, "f:name": {}}}
                }
            }
        }
    }


def test_compare_unknown_schema_and_type_changes() -> None:
    result = compare({"a": {"b": 1}, "l": [1]}, {"a": 5, "l": [1, 2]}, UNKNOWN)
    assert result.modified == FieldSet.from_paths([("a",), ("l",)])
    assert result.added.empty() and result.removed.empty()
