"""Jobs and CronJobs through real kubectl against a real server and controller-manager (Job,
CronJob and ttl-after-finished controllers). A stand-in kubelet thread runs every pod of the test
namespace to completion (phase Succeeded, container exit code 0), as a node agent would.

Covers: `kubectl create job` + `kubectl wait --for=condition=complete` and what `kubectl get job`
shows (Complete, 1/1) and the Job's events; `kubectl create cronjob` with an ``@every 2s``
schedule: the controller starts Jobs that complete (``lastSuccessfulTime``), each Job owned by
the CronJob and named ``<cronjob>-<minutes since the epoch>``; `kubectl create job --from=cronjob/`.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from skiff.testing.cluster import Kubectl, ServerProcess
from skiff.testing.kubelet import kubelet_thread


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    """A server whose controller-manager runs every controller (the shared one's list is
    narrower)."""
    data = Path(tempfile.mkdtemp(prefix="skiff-it-jobs-"))
    proc = ServerProcess(data_dir=data, controller_manager=True)
    try:
        proc.start()
        yield proc
    finally:
        proc.stop()
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
def kubelet(server: ServerProcess, ns: str) -> Iterator[None]:
    """Run every pod of ``ns`` to success; confirm deletions (grace 0)."""
    with kubelet_thread(
        server.url, server.token, namespace=ns, ca_file=server.ca_file, outcome="succeeded"
    ):
        yield


@pytest.mark.usefixtures("kubelet")
def test_job_completes_and_kubectl_waits(kubectl: Kubectl, ns: str) -> None:
    kubectl("create", "job", "hello", "--image=busybox:1.36", "-n", ns)
    out = kubectl(
        "wait", "--for=condition=complete", "job/hello", "-n", ns, "--timeout=60s", timeout=90
    )
    assert "job.batch/hello condition met" in out
    row = kubectl("get", "job", "hello", "-n", ns, "--no-headers").split()
    assert row[:3] == ["hello", "Complete", "1/1"]
    job = json.loads(kubectl("get", "job", "hello", "-n", ns, "-o", "json"))
    assert job["status"]["succeeded"] == 1 and job["status"]["completionTime"]
    pods = json.loads(kubectl("get", "pods", "-n", ns, "-l", "job-name=hello", "-o", "json"))
    (pod,) = pods["items"]
    assert pod["metadata"].get("finalizers") in (None, [])  # counted and released
    events = kubectl(
        "get", "events", "-n", ns, "--field-selector", "involvedObject.name=hello", "-o", "json"
    )
    reasons = {e["reason"] for e in json.loads(events)["items"]}
    assert {"SuccessfulCreate", "Completed"} <= reasons


@pytest.mark.usefixtures("kubelet")
def test_cronjob_runs_jobs_to_completion(kubectl: Kubectl, ns: str) -> None:
    kubectl("create", "cronjob", "often", "--image=busybox:1.36", "--schedule=@every 2s", "-n", ns)
    deadline = time.monotonic() + 30
    while True:
        cj = json.loads(kubectl("get", "cronjob", "often", "-n", ns, "-o", "json"))
        if (cj.get("status") or {}).get("lastSuccessfulTime"):
            break
        assert time.monotonic() < deadline, f"no successful run: {cj.get('status')}"
        time.sleep(0.2)
    kubectl("patch", "cronjob", "often", "-n", ns, "-p", '{"spec":{"suspend":true}}')
    jobs = json.loads(kubectl("get", "jobs", "-n", ns, "-o", "json"))["items"]
    scheduled = [j for j in jobs if j["metadata"]["name"].startswith("often-")]
    assert scheduled
    for job in scheduled:
        (ref,) = job["metadata"]["ownerReferences"]
        assert (ref["kind"], ref["name"], ref["uid"]) == ("CronJob", "often", cj["metadata"]["uid"])
        stamp = job["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"]
        minutes = int(job["metadata"]["name"].rsplit("-", 1)[1])
        assert stamp.endswith("Z") and minutes > 29_000_000
    # a Job made by hand from the CronJob's template (kubectl builds it) completes too
    kubectl("create", "job", "manual", "--from=cronjob/often", "-n", ns)
    out = kubectl(
        "wait", "--for=condition=complete", "job/manual", "-n", ns, "--timeout=60s", timeout=90
    )
    assert "condition met" in out
