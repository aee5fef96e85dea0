"""Strategies of PersistentVolume, PersistentVolumeClaim and APIService.

Covers: volumes and claims born ``Pending`` whatever status the client sent, the volume's phase
transition time stamped when a status write changes the phase (and kept otherwise), the
APIService ``Available`` condition computed by the server on create, update and status writes
(transition time kept while the status holds), and the built-in APIServices the server stores
at bootstrap. HTTP behaviour is in test_compat_kinds.py.
"""

from __future__ import annotations

import copy
from typing import Any

from skiff.api.resources import RESOURCES, by_gvk
from skiff.apiserver.strategies import build_strategies
from skiff.apiserver.strategies._base import GroupKind, ResourceStrategy
from skiff.apiserver.strategies.apiservice import available_condition, local_api_services

STRATEGIES = build_strategies()


def strategy(group: str, kind: str) -> ResourceStrategy:
    return STRATEGIES[GroupKind(group, kind)]


def test_volume_and_claim_are_born_pending() -> None:
    pv: dict[str, Any] = {"metadata": {"name": "pv"}, "spec": {}, "status": {"phase": "Bound"}}
    strategy("", "PersistentVolume").prepare_for_create(pv)
    assert pv["status"]["phase"] == "Pending"
    assert pv["status"]["lastPhaseTransitionTime"].endswith("Z")
    assert pv["metadata"]["generation"] == 1
    pvc: dict[str, Any] = {"metadata": {"name": "c"}, "spec": {}, "status": {"phase": "Bound"}}
    strategy("", "PersistentVolumeClaim").prepare_for_create(pvc)
    assert pvc["status"] == {"phase": "Pending"}


def test_volume_phase_change_stamps_the_transition_time() -> None:
    pvs = strategy("", "PersistentVolume")
    old = {
        "metadata": {"name": "pv"},
        "spec": {"capacity": {"storage": "1Gi"}},
        "status": {"phase": "Pending", "lastPhaseTransitionTime": "2020-01-01T00:00:00Z"},
    }
    same = copy.deepcopy(old)
    same["status"]["message"] = "still waiting"
    pvs.prepare_status_update(same, old)
    assert same["status"]["lastPhaseTransitionTime"] == "2020-01-01T00:00:00Z"
    moved = copy.deepcopy(old)
    moved["status"]["phase"] = "Available"
    moved["spec"] = {"capacity": {"storage": "5Gi"}}  # a status write never changes the spec
    pvs.prepare_status_update(moved, old)
    assert moved["status"]["lastPhaseTransitionTime"] > "2020-01-01T00:00:00Z"
    assert moved["spec"] == old["spec"]
    chosen = copy.deepcopy(old)
    chosen["status"] = {"phase": "Bound", "lastPhaseTransitionTime": "2021-01-01T00:00:00Z"}
    pvs.prepare_status_update(chosen, old)
    assert chosen["status"]["lastPhaseTransitionTime"] == "2021-01-01T00:00:00Z"


def _apiservice(**spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "n"}, "spec": {"groupPriorityMinimum": 1, **spec}}


def test_apiservice_condition_is_the_servers() -> None:
    apis = strategy("apiregistration.k8s.io", "APIService")
    local = _apiservice(group="apps", version="v1")
    local["status"] = {"conditions": [{"type": "Available", "status": "False"}]}
    apis.prepare_for_create(local)
    (condition,) = local["status"]["conditions"]
    assert (condition["status"], condition["reason"]) == ("True", "Local")
    stamp = condition["lastTransitionTime"]

    update = copy.deepcopy(local)
    update["status"] = {}
    apis.prepare_status_update(update, local)
    assert update["status"] == local["status"]  # same status: same transition time

    remote = copy.deepcopy(local)
    remote["spec"]["service"] = {"namespace": "ns", "name": "svc"}
    apis.prepare_for_update(remote, local)
    (condition,) = remote["status"]["conditions"]
    assert (condition["status"], condition["reason"]) == ("False", "AggregationNotSupported")
    assert condition["lastTransitionTime"] >= stamp
    unserved = available_condition(_apiservice(group="example.com", version="v1"))
    assert (unserved["status"], unserved["reason"]) == ("False", "NotServed")


def test_local_apiservices_cover_every_served_group_version() -> None:
    services = local_api_services()
    names = [s["metadata"]["name"] for s in services]
    assert len(names) == len(set(names))
    served = {(r.group, r.version) for r in RESOURCES}
    assert {(s["spec"]["group"], s["spec"]["version"]) for s in services} == served
    assert "v1." in names and "v2.autoscaling" in names
    info = by_gvk("apiregistration.k8s.io", "v1", "APIService")
    assert info is not None and not info.namespaced
    for s in services:
        assert "service" not in s["spec"]
        assert available_condition(s)["status"] == "True"
