"""CEL ``x-kubernetes-validations`` of CRD schemas (evaluated with cel-python): rules that do
not compile make the CRD invalid, failing rules answer 422 with the rule's message, reason and
fieldPath, and transition rules (``oldSelf``) run on updates only."""

from __future__ import annotations

from typing import Any

import httpx

CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
LIMITS = "/apis/example.com/v1/namespaces/default/limits"


def limits_crd(rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "limits.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "limits", "kind": "Limit"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "x-kubernetes-validations": rules,
                                    "properties": {
                                        "min": {"type": "integer"},
                                        "max": {"type": "integer"},
                                        "mode": {
                                            "type": "string",
                                            "x-kubernetes-validations": [
                                                {
                                                    "rule": "self == oldSelf",
                                                    "message": "mode is immutable",
                                                }
                                            ],
                                        },
                                    },
                                }
                            },
                        }
                    },
                }
            ],
        },
    }


def limit(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "example.com/v1",
        "kind": "Limit",
        "metadata": {"name": name},
        "spec": spec,
    }


RULES = [
    {"rule": "self.min <= self.max", "message": "min must not exceed max"},
    {"rule": "self.max < 100", "reason": "FieldValueForbidden", "fieldPath": ".max"},
]


async def test_rule_that_does_not_compile_is_refused(api: httpx.AsyncClient) -> None:
    r = await api.post(CRDS, json=limits_crd([{"rule": "self.min <="}]))
    assert r.status_code == 422, r.text
    cause = r.json()["details"]["causes"][0]
    assert cause["field"].endswith("properties[spec].x-kubernetes-validations[0].rule")
    assert "compilation failed" in cause["message"]


async def test_rules_and_transition_rules(api: httpx.AsyncClient) -> None:
    assert (await api.post(CRDS, json=limits_crd(RULES))).status_code == 201
    r = await api.post(LIMITS, json=limit("a", min=5, max=1, mode="x"))
    assert r.status_code == 422, r.text
    assert r.json()["message"] == (
        'Limit.example.com "a" is invalid: spec: Invalid value: "object": min must not exceed max'
    )
    r = await api.post(LIMITS, json=limit("a", min=1, max=200, mode="x"))
    assert r.status_code == 422, r.text
    assert r.json()["details"]["causes"] == [
        {
            "reason": "FieldValueForbidden",
            "message": "Forbidden: failed rule: self.max < 100",
            "field": "spec.max",
        }
    ]
    r = await api.post(LIMITS, json=limit("a", min=1, max=2, mode="x"))
    assert r.status_code == 201, r.text
    obj = r.json()
    obj["spec"]["max"] = 3
    r = await api.put(f"{LIMITS}/a", json=obj)
    assert r.status_code == 200, r.text
    obj = r.json()
    obj["spec"]["mode"] = "y"
    r = await api.put(f"{LIMITS}/a", json=obj)
    assert r.status_code == 422, r.text
    assert 'spec.mode: Invalid value: "string": mode is immutable' in r.json()["message"]


async def test_message_expression_and_optional_old_self(api: httpx.AsyncClient) -> None:
    rules = [
        {
            "rule": "self.min <= self.max",
            "messageExpression": "'min ' + string(self.min) + ' too big'",
        },
        {
            "rule": "!oldSelf.hasValue() || self.max >= oldSelf.value().max",
            "optionalOldSelf": True,
            "message": "max may only grow",
        },
    ]
    assert (await api.post(CRDS, json=limits_crd(rules))).status_code == 201
    r = await api.post(LIMITS, json=limit("a", min=9, max=1))
    assert r.status_code == 422, r.text
    assert r.json()["details"]["causes"][0]["message"] == 'Invalid value: "object": min 9 too big'
    r = await api.post(LIMITS, json=limit("a", min=1, max=5))
    assert r.status_code == 201, r.text
    obj = r.json()
    obj["spec"]["max"] = 4
    r = await api.put(f"{LIMITS}/a", json=obj)
    assert r.status_code == 422 and "max may only grow" in r.json()["message"], r.text


async def test_kubernetes_library_functions(api: httpx.AsyncClient) -> None:
    rules = [
        {"rule": "string(self.min).lowerAscii().split('-').size() == 1", "message": "split"},
        {"rule": "[self.min, self.max].isSorted()", "message": "min after max"},
        # a library function skiff does not provide: the rule is skipped, not failed
        {"rule": "self.notAFunction()", "message": "never reported"},
    ]
    assert (await api.post(CRDS, json=limits_crd(rules))).status_code == 201
    r = await api.post(LIMITS, json=limit("a", min=5, max=1))
    assert r.status_code == 422, r.text
    assert [c["message"] for c in r.json()["details"]["causes"]] == [
        'Invalid value: "object": min after max'
    ]
    assert (await api.post(LIMITS, json=limit("a", min=1, max=5))).status_code == 201
