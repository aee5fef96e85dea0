"""Job and ttl-after-finished (skiff.controllers.job, skiff.controllers.ttlafterfinished) against
an in-process API server on a FakeClock, with the test standing in for the kubelet: it moves pods
to Running, Succeeded or Failed through ``pods/status`` (containerStatuses with exit codes).

Covers: the pure decisions (back-off delays, completed-index intervals, which indexes to create,
podFailurePolicy matching incl. DisruptionTarget, restarts against the back-off limit with
``restartPolicy: OnFailure``, successPolicy rules, when a Job expires); a NonIndexed Job with
completions 3 / parallelism 2 (pod labels, owner, tracking finalizer, status, conditions,
events); back-off between failures and ``BackoffLimitExceeded``; an Indexed Job (names,
annotation/label, hostname, env, completedIndexes); backoffLimitPerIndex (failure-count
annotation, failedIndexes, ``FailedIndexes``); a successPolicy stopping the other indexes;
podFailurePolicy Ignore (DisruptionTarget)
then FailJob on an exit code; activeDeadlineSeconds; suspend and resume; ttlSecondsAfterFinished
deleting the Job and its pods; an orphaned pod losing the tracking finalizer.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from skiff.controllers import ControllerManager
from skiff.controllers.job import (
    INDEX_ANNOTATION,
    INDEX_FAILURE_COUNT_ANNOTATION,
    TRACKING_FINALIZER,
    backoff_delay,
    format_indexes,
    indexes_to_create,
    match_pod_failure_policy,
    match_success_policy,
    parse_indexes,
    past_backoff_limit_on_failure,
)
from skiff.controllers.ttlafterfinished import expires_at
from skiff.testing.clock import FakeClock
from skiff.testing.cluster import running_controller_manager

PODS = "/api/v1/namespaces/default/pods"
JOBS = "/apis/batch/v1/namespaces/default/jobs"
EVENTS = "/api/v1/namespaces/default/events"
MERGE = {"Content-Type": "application/merge-patch+json"}


# ---------------------------------------------------------------------- pure decisions


def test_backoff_doubles_from_one_second_to_a_minute() -> None:
    assert [backoff_delay(n) for n in range(9)] == [0, 1, 2, 4, 8, 16, 32, 60, 60]
    assert backoff_delay(10_000) == 60
    assert backoff_delay(3, base=10, cap=360) == 40


def test_index_intervals() -> None:
    assert format_indexes({0, 1, 2, 5, 7, 8}) == "0-2,5,7-8"
    assert format_indexes(set()) == ""
    assert parse_indexes("0-2,5,7-8") == {0, 1, 2, 5, 7, 8}
    assert parse_indexes("1,3-9", limit=5) == {1, 3, 4}
    assert parse_indexes(None) == set()
    assert parse_indexes(format_indexes({3, 4, 10})) == {3, 4, 10}
    assert indexes_to_create(5, {0, 2}, 2) == [1, 3]
    assert indexes_to_create(3, {0, 1, 2}, 2) == []
    assert indexes_to_create(4, set(), 10) == [0, 1, 2, 3]


def _failed_pod(
    exit_codes: dict[str, int], conditions: tuple[str, ...] = (), init: dict[str, int] | None = None
) -> dict[str, Any]:
    def statuses(codes: dict[str, int]) -> list[dict[str, Any]]:
        return [{"name": n, "state": {"terminated": {"exitCode": c}}} for n, c in codes.items()]

    status: dict[str, Any] = {
        "phase": "Failed",
        "containerStatuses": statuses(exit_codes),
        "conditions": [{"type": c, "status": "True"} for c in conditions],
    }
    if init:
        status["initContainerStatuses"] = statuses(init)
    return {"metadata": {"name": "p", "namespace": "ns"}, "status": status}


POLICY = {
    "rules": [
        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
        {
            "action": "FailJob",
            "onExitCodes": {"containerName": "main", "operator": "In", "values": [42]},
        },
        {"action": "Count", "onExitCodes": {"operator": "NotIn", "values": [1, 2]}},
    ]
}


def test_pod_failure_policy_matching() -> None:
    hit = match_pod_failure_policy(POLICY, _failed_pod({"main": 137}, ("DisruptionTarget",)))
    assert hit is not None and (hit.action, hit.index) == ("Ignore", 0)
    assert hit.message == "Pod ns/p has condition DisruptionTarget matching Ignore rule at index 0"
    hit = match_pod_failure_policy(POLICY, _failed_pod({"sidecar": 0, "main": 42}))
    assert hit is not None and hit.action == "FailJob"
    assert hit.message == (
        "Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 1"
    )
    # the rule names another container: the next rule (NotIn 1,2) matches
    hit = match_pod_failure_policy(POLICY, _failed_pod({"sidecar": 42}))
    assert hit is not None and (hit.action, hit.index) == ("Count", 2)
    assert match_pod_failure_policy(POLICY, _failed_pod({"main": 1})) is None
    # exit code 0 never matches, not even NotIn
    assert match_pod_failure_policy(POLICY, _failed_pod({"main": 0})) is None
    # init containers are looked at too
    hit = match_pod_failure_policy(POLICY, _failed_pod({}, init={"main": 42}))
    assert hit is not None and hit.action == "FailJob"
    assert match_pod_failure_policy(None, _failed_pod({"main": 42})) is None


def test_success_policy_rules() -> None:
    policy = {
        "rules": [
            {"succeededIndexes": "0-1"},
            {"succeededIndexes": "2-9", "succeededCount": 3},
            {"succeededCount": 4},
        ]
    }
    assert match_success_policy(policy, {0}) is None
    assert match_success_policy(policy, {0, 1}) == 0
    assert match_success_policy(policy, {2, 5}) is None
    assert match_success_policy(policy, {2, 5, 9}) == 1
    assert match_success_policy(policy, {1, 2, 5, 10}) == 2
    assert match_success_policy(None, {0, 1}) is None


def test_restarts_count_against_the_backoff_limit_with_on_failure() -> None:
    def running(restarts: int, init: int = 0) -> dict[str, Any]:
        return {
            "status": {
                "phase": "Running",
                "containerStatuses": [{"restartCount": restarts}],
                "initContainerStatuses": [{"restartCount": init}],
            }
        }

    spec: dict[str, Any] = {
        "backoffLimit": 3,
        "template": {"spec": {"restartPolicy": "OnFailure"}},
    }
    assert not past_backoff_limit_on_failure(spec, [running(1), running(1)])
    assert past_backoff_limit_on_failure(spec, [running(1), running(1, init=1)])
    finished = {"status": {"phase": "Failed", "containerStatuses": [{"restartCount": 9}]}}
    assert not past_backoff_limit_on_failure(spec, [finished])
    assert past_backoff_limit_on_failure({**spec, "backoffLimit": 0}, [running(1)])
    never = {**spec, "template": {"spec": {"restartPolicy": "Never"}}}
    assert not past_backoff_limit_on_failure(never, [running(9)])


def test_ttl_expiry_time() -> None:
    job: dict[str, Any] = {
        "metadata": {},
        "spec": {"ttlSecondsAfterFinished": 100},
        "status": {
            "completionTime": "2025-06-15T15:00:00Z",
            "conditions": [{"type": "Complete", "status": "True"}],
        },
    }
    assert expires_at(job) == 1_750_000_000 - 400 + 100  # 15:00:00Z is 1749999600
    failed = {
        "metadata": {},
        "spec": {"ttlSecondsAfterFinished": 0},
        "status": {
            "conditions": [
                {"type": "Failed", "status": "True", "lastTransitionTime": "2025-06-15T15:00:00Z"}
            ]
        },
    }
    assert expires_at(failed) == 1_749_999_600
    assert expires_at({"metadata": {}, "spec": {}, "status": job["status"]}) is None
    assert expires_at({"metadata": {}, "spec": {"ttlSecondsAfterFinished": 5}}) is None


# ---------------------------------------------------------------------- against an API server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def manager(url: str, token: str, clock: FakeClock) -> AsyncIterator[ControllerManager]:
    async with running_controller_manager(
        url,
        token,
        controllers=(
            "job-controller",
            "ttl-after-finished-controller",
            "garbage-collector-controller",
            "serviceaccount-controller",
        ),
        clock=clock,
    ) as m:
        yield m


async def _until(
    check: Callable[[], Awaitable[bool]],
    *,
    clock: FakeClock | None = None,
    step: float = 0.0,
    within: float = 15.0,
) -> None:
    """Poll ``check``; with ``step``, fake time moves on that much per poll (so retries and
    back-off on the fake clock make progress)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await check():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        if clock is not None and step:
            clock.advance(step)
        await asyncio.sleep(0.02)


def _job(name: str, **spec: Any) -> dict[str, Any]:
    template_spec = spec.pop("pod_spec", {})
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "main", "image": "busybox:1.36"}],
                    **template_spec,
                }
            },
            **spec,
        },
    }


async def _get_job(api: httpx.AsyncClient, name: str) -> dict[str, Any]:
    r = await api.get(f"{JOBS}/{name}")
    r.raise_for_status()
    job: dict[str, Any] = r.json()
    return job


async def _pods(api: httpx.AsyncClient, job: str, *, all_: bool = False) -> list[dict[str, Any]]:
    r = await api.get(PODS, params={"labelSelector": f"batch.kubernetes.io/job-name={job}"})
    r.raise_for_status()
    items: list[dict[str, Any]] = r.json()["items"]
    if all_:
        return items
    return [
        p
        for p in items
        if not p["metadata"].get("deletionTimestamp")
        and p.get("status", {}).get("phase") not in ("Succeeded", "Failed")
    ]


async def _finish(
    api: httpx.AsyncClient,
    name: str,
    exit_code: int,
    *,
    conditions: tuple[str, ...] = (),
) -> None:
    body = {
        "status": {
            "phase": "Succeeded" if exit_code == 0 else "Failed",
            "conditions": [{"type": c, "status": "True"} for c in conditions],
            "containerStatuses": [
                {
                    "name": "main",
                    "image": "busybox:1.36",
                    "imageID": "",
                    "ready": False,
                    "restartCount": 0,
                    "state": {"terminated": {"exitCode": exit_code, "reason": "Completed"}},
                }
            ],
        }
    }
    r = await api.patch(f"{PODS}/{name}/status", json=body, headers=MERGE)
    r.raise_for_status()


def _cond(job: dict[str, Any], type_: str) -> dict[str, Any] | None:
    for c in job.get("status", {}).get("conditions") or ():
        if c["type"] == type_ and c["status"] == "True":
            return dict(c)
    return None


async def _reasons(api: httpx.AsyncClient, name: str) -> list[str]:
    r = await api.get(EVENTS, params={"fieldSelector": f"involvedObject.name={name}"})
    r.raise_for_status()
    return [e["reason"] for e in r.json()["items"]]


async def _active(api: httpx.AsyncClient, job: str, n: int) -> list[dict[str, Any]]:
    async def check() -> bool:
        return len(await _pods(api, job)) == n

    await _until(check)
    return await _pods(api, job)


async def _job_cond(
    api: httpx.AsyncClient, name: str, type_: str, clock: FakeClock | None = None
) -> dict[str, Any]:
    async def check() -> bool:
        return _cond(await _get_job(api, name), type_) is not None

    await _until(check, clock=clock, step=0.2)
    return await _get_job(api, name)


@pytest.mark.usefixtures("manager")
async def test_job_completes_with_completions_3_parallelism_2(api: httpx.AsyncClient) -> None:
    r = await api.post(JOBS, json=_job("work", completions=3, parallelism=2))
    assert r.status_code == 201, r.text
    uid = r.json()["metadata"]["uid"]
    pods = await _active(api, "work", 2)
    for pod in pods:
        meta = pod["metadata"]
        assert meta["name"].startswith("work-")
        assert TRACKING_FINALIZER in meta["finalizers"]
        assert meta["labels"]["batch.kubernetes.io/controller-uid"] == uid
        assert meta["labels"]["controller-uid"] == uid
        assert meta["labels"]["job-name"] == "work"
        (ref,) = meta["ownerReferences"]
        assert ref == {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "name": "work",
            "uid": uid,
            "controller": True,
            "blockOwnerDeletion": True,
        }
    job = await _get_job(api, "work")
    assert job["status"]["active"] == 2 and job["status"]["startTime"]

    await _finish(api, pods[0]["metadata"]["name"], 0)

    # one more pod for the third completion, never more than parallelism
    async def third() -> bool:
        names = {p["metadata"]["name"] for p in await _pods(api, "work")}
        return len(names) == 2 and pods[0]["metadata"]["name"] not in names

    await _until(third)
    for pod in await _pods(api, "work"):
        await _finish(api, pod["metadata"]["name"], 0)
    job = await _job_cond(api, "work", "Complete")
    status = job["status"]
    assert status["succeeded"] == 3
    assert "failed" not in status and "active" not in status
    assert status["completionTime"] and status["uncountedTerminatedPods"] == {}
    assert _cond(job, "SuccessCriteriaMet") is not None
    complete = _cond(job, "Complete")
    assert complete is not None and complete["reason"] == "CompletionsReached"
    assert complete["message"] == "Reached expected number of succeeded pods"
    # every pod was counted and released
    for pod in await _pods(api, "work", all_=True):
        assert TRACKING_FINALIZER not in (pod["metadata"].get("finalizers") or [])

    async def events() -> bool:
        reasons = await _reasons(api, "work")
        return "Completed" in reasons and "SuccessfulCreate" in reasons

    await _until(events)


@pytest.mark.usefixtures("manager")
async def test_backoff_then_backoff_limit_exceeded(
    api: httpx.AsyncClient, clock: FakeClock
) -> None:
    r = await api.post(JOBS, json=_job("flaky", backoffLimit=1))
    assert r.status_code == 201, r.text
    (pod,) = await _active(api, "flaky", 1)
    await _finish(api, pod["metadata"]["name"], 1)

    async def counted() -> bool:
        return (await _get_job(api, "flaky")).get("status", {}).get("failed") == 1

    await _until(counted)
    # the failure was counted in the same sync that would have created the replacement:
    # the 1 s back-off holds it on the fake clock
    assert await _pods(api, "flaky") == []

    async def replaced() -> bool:
        return len(await _pods(api, "flaky")) == 1

    await _until(replaced, clock=clock, step=0.2)  # fake time passes the 1 s back-off
    (pod,) = await _pods(api, "flaky")
    await _finish(api, pod["metadata"]["name"], 1)
    job = await _job_cond(api, "flaky", "Failed", clock)
    assert job["status"]["failed"] == 2
    failed = _cond(job, "Failed")
    assert failed is not None and failed["reason"] == "BackoffLimitExceeded"
    assert failed["message"] == "Job has reached the specified backoff limit"
    target = _cond(job, "FailureTarget")
    assert target is not None and target["reason"] == "BackoffLimitExceeded"
    assert "completionTime" not in job["status"]

    async def event() -> bool:
        return "BackoffLimitExceeded" in await _reasons(api, "flaky")

    await _until(event)


@pytest.mark.usefixtures("manager")
async def test_indexed_job(api: httpx.AsyncClient, clock: FakeClock) -> None:
    r = await api.post(
        JOBS, json=_job("idx", completions=3, parallelism=3, completionMode="Indexed")
    )
    assert r.status_code == 201, r.text
    pods = await _active(api, "idx", 3)
    by_index: dict[int, dict[str, Any]] = {}
    for pod in pods:
        meta = pod["metadata"]
        ix = int(meta["annotations"][INDEX_ANNOTATION])
        assert meta["labels"][INDEX_ANNOTATION] == str(ix)
        assert meta["name"].startswith(f"idx-{ix}-")
        assert pod["spec"]["hostname"] == f"idx-{ix}"
        env = pod["spec"]["containers"][0]["env"]
        assert {
            "name": "JOB_COMPLETION_INDEX",
            "valueFrom": {
                "fieldRef": {
                    "apiVersion": "v1",
                    "fieldPath": f"metadata.annotations['{INDEX_ANNOTATION}']",
                }
            },
        } in env or any(e["name"] == "JOB_COMPLETION_INDEX" for e in env)
        by_index[ix] = pod
    assert sorted(by_index) == [0, 1, 2]

    await _finish(api, by_index[1]["metadata"]["name"], 0)

    async def one_done() -> bool:
        return (await _get_job(api, "idx")).get("status", {}).get("completedIndexes") == "1"

    await _until(one_done)
    # a failed index gets a new pod with the same index
    await _finish(api, by_index[2]["metadata"]["name"], 3)

    async def replaced() -> bool:
        again = [
            p
            for p in await _pods(api, "idx")
            if p["metadata"]["annotations"][INDEX_ANNOTATION] == "2"
        ]
        return len(again) == 1 and again[0]["metadata"]["name"] != by_index[2]["metadata"]["name"]

    await _until(replaced, clock=clock, step=0.5)  # after the 1 s back-off (fake clock)
    for pod in await _pods(api, "idx"):
        await _finish(api, pod["metadata"]["name"], 0)
    job = await _job_cond(api, "idx", "Complete")
    assert job["status"]["completedIndexes"] == "0-2"
    assert job["status"]["succeeded"] == 3 and job["status"]["failed"] == 1


@pytest.mark.usefixtures("manager")
async def test_success_policy_stops_the_rest(api: httpx.AsyncClient) -> None:
    r = await api.post(
        JOBS,
        json=_job(
            "leader",
            completions=3,
            parallelism=3,
            completionMode="Indexed",
            successPolicy={"rules": [{"succeededIndexes": "0"}]},
        ),
    )
    assert r.status_code == 201, r.text
    pods = await _active(api, "leader", 3)
    (zero,) = [p for p in pods if p["metadata"]["annotations"][INDEX_ANNOTATION] == "0"]
    await _finish(api, zero["metadata"]["name"], 0)
    job = await _job_cond(api, "leader", "Complete")
    complete = _cond(job, "Complete")
    assert complete is not None and complete["reason"] == "SuccessPolicy"
    assert complete["message"] == "Matched rules at index 0"
    assert await _pods(api, "leader") == []
    assert job["status"]["completedIndexes"] == "0" and job["status"]["succeeded"] == 1


@pytest.mark.usefixtures("manager")
async def test_backoff_limit_per_index(api: httpx.AsyncClient, clock: FakeClock) -> None:
    r = await api.post(
        JOBS,
        json=_job(
            "per", completions=2, parallelism=2, completionMode="Indexed", backoffLimitPerIndex=1
        ),
    )
    assert r.status_code == 201, r.text
    pods = await _active(api, "per", 2)
    by_index = {int(p["metadata"]["annotations"][INDEX_ANNOTATION]): p for p in pods}
    assert by_index[0]["metadata"]["annotations"][INDEX_FAILURE_COUNT_ANNOTATION] == "0"
    await _finish(api, by_index[1]["metadata"]["name"], 0)
    await _finish(api, by_index[0]["metadata"]["name"], 1)

    async def retried() -> bool:
        now = await _pods(api, "per")
        return len(now) == 1 and now[0]["metadata"]["name"] != by_index[0]["metadata"]["name"]

    await _until(retried, clock=clock, step=0.5)
    (retry,) = await _pods(api, "per")
    assert retry["metadata"]["annotations"][INDEX_ANNOTATION] == "0"
    assert retry["metadata"]["annotations"][INDEX_FAILURE_COUNT_ANNOTATION] == "1"
    await _finish(api, retry["metadata"]["name"], 1)  # index 0 is out of retries
    job = await _job_cond(api, "per", "Failed", clock)
    failed = _cond(job, "Failed")
    assert failed is not None and failed["reason"] == "FailedIndexes"
    assert failed["message"] == "Job has failed indexes"
    assert job["status"]["failedIndexes"] == "0"
    assert job["status"]["completedIndexes"] == "1"
    assert job["status"]["failed"] == 2 and job["status"]["succeeded"] == 1


@pytest.mark.usefixtures("manager")
async def test_pod_failure_policy_ignore_then_fail_job(
    api: httpx.AsyncClient, clock: FakeClock
) -> None:
    r = await api.post(JOBS, json=_job("pfp", backoffLimit=6, podFailurePolicy=POLICY))
    assert r.status_code == 201, r.text
    (pod,) = await _active(api, "pfp", 1)
    # evicted (DisruptionTarget): ignored, not counted, replaced at once
    await _finish(api, pod["metadata"]["name"], 137, conditions=("DisruptionTarget",))

    async def replaced() -> bool:
        now = await _pods(api, "pfp")
        return len(now) == 1 and now[0]["metadata"]["name"] != pod["metadata"]["name"]

    await _until(replaced)
    assert "failed" not in (await _get_job(api, "pfp"))["status"]
    (pod,) = await _pods(api, "pfp")
    await _finish(api, pod["metadata"]["name"], 42)
    job = await _job_cond(api, "pfp", "Failed", clock)
    failed = _cond(job, "Failed")
    assert failed is not None and failed["reason"] == "PodFailurePolicy"
    name = pod["metadata"]["name"]
    assert failed["message"] == (
        f"Container main for pod default/{name} failed with exit code 42 matching FailJob rule"
        " at index 1"
    )
    assert job["status"]["failed"] == 1


@pytest.mark.usefixtures("manager")
async def test_active_deadline_seconds(api: httpx.AsyncClient, clock: FakeClock) -> None:
    r = await api.post(JOBS, json=_job("slow", activeDeadlineSeconds=30, parallelism=2))
    assert r.status_code == 201, r.text
    await _active(api, "slow", 2)
    clock.advance(29)
    assert _cond(await _get_job(api, "slow"), "FailureTarget") is None
    clock.advance(1.5)
    job = await _job_cond(api, "slow", "Failed", clock)
    failed = _cond(job, "Failed")
    assert failed is not None and failed["reason"] == "DeadlineExceeded"
    assert failed["message"] == "Job was active longer than specified deadline"
    assert await _pods(api, "slow") == []
    assert job["status"]["failed"] == 2  # the pods deleted at the deadline count as failed

    async def event() -> bool:
        return "DeadlineExceeded" in await _reasons(api, "slow")

    await _until(event)


@pytest.mark.usefixtures("manager")
async def test_suspend_and_resume(api: httpx.AsyncClient) -> None:
    r = await api.post(JOBS, json=_job("later", suspend=True))
    assert r.status_code == 201, r.text
    job = await _job_cond(api, "later", "Suspended")
    assert await _pods(api, "later") == [] and "startTime" not in job["status"]
    r = await api.patch(f"{JOBS}/later", json={"spec": {"suspend": False}}, headers=MERGE)
    r.raise_for_status()
    await _active(api, "later", 1)
    job = await _get_job(api, "later")
    (cond,) = [c for c in job["status"]["conditions"] if c["type"] == "Suspended"]
    assert cond["status"] == "False" and cond["reason"] == "JobResumed"
    assert job["status"]["startTime"]
    # suspending again deletes the running pod; that is not a failure
    r = await api.patch(f"{JOBS}/later", json={"spec": {"suspend": True}}, headers=MERGE)
    r.raise_for_status()
    await _active(api, "later", 0)
    await _job_cond(api, "later", "Suspended")

    async def released() -> bool:
        return await _pods(api, "later", all_=True) == []

    await _until(released)
    assert "failed" not in (await _get_job(api, "later"))["status"]


@pytest.mark.usefixtures("manager")
async def test_ttl_after_finished_deletes_job_and_pods(
    api: httpx.AsyncClient, clock: FakeClock
) -> None:
    r = await api.post(JOBS, json=_job("brief", ttlSecondsAfterFinished=10))
    assert r.status_code == 201, r.text
    (pod,) = await _active(api, "brief", 1)
    await _finish(api, pod["metadata"]["name"], 0)
    await _job_cond(api, "brief", "Complete")
    assert (await api.get(f"{JOBS}/brief")).status_code == 200
    clock.advance(10.5)

    async def gone() -> bool:
        job_gone = (await api.get(f"{JOBS}/brief")).status_code == 404
        return job_gone and await _pods(api, "brief", all_=True) == []

    await _until(gone, clock=clock, step=0.5)


@pytest.mark.usefixtures("manager")
async def test_orphaned_pod_loses_the_tracking_finalizer(api: httpx.AsyncClient) -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "stray", "finalizers": [TRACKING_FINALIZER, "example.com/keep"]},
        "spec": {"containers": [{"name": "main", "image": "busybox:1.36"}]},
    }
    r = await api.post(PODS, json=pod)
    assert r.status_code == 201, r.text

    async def released() -> bool:
        got = (await api.get(f"{PODS}/stray")).json()
        return bool(got["metadata"].get("finalizers") == ["example.com/keep"])

    await _until(released)
    r = await api.patch(f"{PODS}/stray", json={"metadata": {"finalizers": None}}, headers=MERGE)
    r.raise_for_status()
