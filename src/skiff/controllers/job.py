"""Job: run pods until ``completions`` of them succeed, or give up.

Kubernetes 1.32's ``pkg/controller/job`` (with its default features: pod-finalizer tracking,
delayed terminal conditions, podReplacementPolicy, backoffLimitPerIndex):

- **pods**: created from the template with a controller ownerReference, the API server's
  selector labels (``batch.kubernetes.io/controller-uid``/``job-name`` and the legacy keys are put
  on the template by the Job strategy, unless ``manualSelector``) and the tracking finalizer
  ``batch.kubernetes.io/job-tracking``; a Job's pods are those whose controller reference is the
  Job (orphans are not adopted; an orphan that still carries the finalizer loses it);
- **NonIndexed**: up to ``min(parallelism, completions - succeeded)`` pods run (no
  ``completions``: ``parallelism`` until one succeeds, then none new), named ``<job>-<rand>``;
- **Indexed**: each index ``0..completions-1`` gets a pod ``<job>-<index>-<rand>`` with the
  ``batch.kubernetes.io/job-completion-index`` annotation and label, ``hostname <job>-<index>``
  and ``JOB_COMPLETION_INDEX`` from that annotation (downward API); lowest missing indexes first;
  duplicates and pods of finished indexes are deleted; ``status.completedIndexes`` /
  ``failedIndexes`` are interval lists ("1,3-5");
- **tracking**: a finished pod's uid goes to ``status.uncountedTerminatedPods`` (written first),
  then its finalizer is removed, then it moves into ``succeeded``/``failed`` - a pod is counted
  exactly once even across restarts; a pod being deleted counts as failed unless
  ``podReplacementPolicy: Failed`` (then it is ``terminating`` and not replaced until Failed);
- **failure**: ``failed > backoffLimit`` -> ``BackoffLimitExceeded``; ``activeDeadlineSeconds``
  after ``startTime`` -> ``DeadlineExceeded``; a ``podFailurePolicy`` rule (`match_pod_failure_policy`)
  may fail the Job (``PodFailurePolicy``), ignore the failure, count it, or fail the index;
  ``backoffLimitPerIndex`` fails an index after that many retries (``maxFailedIndexes`` ->
  ``MaxFailedIndexesExceeded``; finished with failed indexes -> ``FailedIndexes``);
- **successPolicy** (Indexed): the first rule met by the completed indexes gives
  ``SuccessCriteriaMet`` (``SuccessPolicy``, "Matched rules at index N"), the rest is stopped;
- **terminal conditions are delayed**: first ``FailureTarget`` / ``SuccessCriteriaMet``; active
  pods are deleted; once no pod is active or terminating and nothing is uncounted, ``Failed`` /
  ``Complete`` (+ ``completionTime``) with the same reason and message;
- **back-off**: after N consecutive failures a new pod waits ``1 s * 2^(N-1)`` (at most 60 s;
  Kubernetes: 10 s to 6 min), on the injected clock;
- **suspend**: active pods are deleted, condition ``Suspended`` (``JobSuspended``); resuming sets
  it False (``JobResumed``) and restarts ``startTime``.

Events: ``SuccessfulCreate``/``SuccessfulDelete`` (``Created pod: x``), ``FailedCreate``,
``Completed`` (``Job completed``), ``Suspended``/``Resumed``, and a Warning named after the
failure reason (``BackoffLimitExceeded``, ``DeadlineExceeded``, ``PodFailurePolicy``, ...).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from skiff.client import (
    ApiError,
    Conflict,
    FrozenDict,
    NotFound,
    WorkQueue,
    freeze,
    object_key,
    resolve,
    thaw,
)
from skiff.controllers.base import (
    ControllerContext,
    epoch_of,
    meta_of,
    run_workers,
    split_key,
    time_stamp,
)
from skiff.controllers.expectations import Expectations
from skiff.controllers.podutil import (
    controller_ref,
    is_pod_active,
    owner_reference,
    pod_ready,
    pods_to_delete,
)

__all__ = [
    "INDEX_ANNOTATION",
    "INDEX_FAILURE_COUNT_ANNOTATION",
    "TRACKING_FINALIZER",
    "JobController",
    "PolicyMatch",
    "backoff_delay",
    "format_indexes",
    "indexes_to_create",
    "is_finished",
    "match_pod_failure_policy",
    "match_success_policy",
    "parse_indexes",
    "past_backoff_limit_on_failure",
]

log = logging.getLogger("skiff.controllers.job")

PODS = resolve(("v1", "Pod"))
JOBS = resolve(("batch/v1", "Job"))
TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index"
INDEX_FAILURE_COUNT_ANNOTATION = "batch.kubernetes.io/job-index-failure-count"
BURST = 500
ORPHAN_PREFIX = "pod:"
"""Queue keys of orphaned pods (``pod:<namespace>/<name>``; a Job key never contains ':')."""
BACKOFF_BASE = 1.0
BACKOFF_MAX = 60.0

MSG_COMPLETIONS = "Reached expected number of succeeded pods"
MSG_BACKOFF = "Job has reached the specified backoff limit"
MSG_DEADLINE = "Job was active longer than specified deadline"
MSG_MAX_FAILED_INDEXES = "Job has exceeded the specified maximal number of failed indexes"
MSG_FAILED_INDEXES = "Job has failed indexes"


# ---------------------------------------------------------------------- pure decisions


def backoff_delay(failures: int, *, base: float = BACKOFF_BASE, cap: float = BACKOFF_MAX) -> float:
    """How long a new pod waits after ``failures`` consecutive failures (0 after none)."""
    if failures <= 0:
        return 0.0
    return float(min(cap, base * 2 ** min(failures - 1, 30)))


def parse_indexes(text: str | None, limit: int | None = None) -> set[int]:
    """``"1,3-5"`` -> ``{1, 3, 4, 5}`` (indexes at or beyond ``limit`` dropped; junk ignored)."""
    out: set[int] = set()
    for part in (text or "").split(","):
        lo, _, hi = part.strip().partition("-")
        try:
            first = int(lo)
            last = int(hi) if hi else first
        except ValueError:
            continue
        if limit is not None:
            last = min(last, limit - 1)
        out.update(range(first, last + 1))
    return out


def format_indexes(indexes: Iterable[int]) -> str:
    """``{1, 3, 4, 5}`` -> ``"1,3-5"`` (ascending intervals, as ``status.completedIndexes``)."""
    parts: list[str] = []
    run: list[int] = []
    for ix in sorted(set(indexes)):
        if run and ix == run[-1] + 1:
            run.append(ix)
            continue
        if run:
            parts.append(str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}")
        run = [ix]
    if run:
        parts.append(str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}")
    return ",".join(parts)


def indexes_to_create(completions: int, taken: Iterable[int], count: int) -> list[int]:
    """The ``count`` lowest indexes below ``completions`` not in ``taken`` (completed, failed, or
    with a pod)."""
    busy = set(taken)
    out: list[int] = []
    for ix in range(completions):
        if len(out) >= count:
            break
        if ix not in busy:
            out.append(ix)
    return out


@dataclass(frozen=True)
class PolicyMatch:
    action: str
    """``FailJob``, ``FailIndex``, ``Ignore`` or ``Count``."""
    message: str
    index: int


def _exit_code_matches(rule: Mapping[str, Any], pod: Mapping[str, Any]) -> tuple[str, int] | None:
    req = rule.get("onExitCodes") or {}
    container = req.get("containerName")
    operator = req.get("operator")
    values = {int(v) for v in req.get("values") or ()}
    status = pod.get("status") or {}
    for key in ("containerStatuses", "initContainerStatuses"):
        for cs in status.get(key) or ():
            if container and cs.get("name") != container:
                continue
            terminated = (cs.get("state") or {}).get("terminated")
            if not terminated:
                continue
            code = int(terminated.get("exitCode") or 0)
            if code == 0:  # a success never matches (upstream: "excluding 0")
                continue
            if (operator == "In" and code in values) or (
                operator == "NotIn" and code not in values
            ):
                return str(cs.get("name") or ""), code
    return None


def match_pod_failure_policy(
    policy: Mapping[str, Any] | None, pod: Mapping[str, Any]
) -> PolicyMatch | None:
    """The first ``podFailurePolicy`` rule matching a failed ``pod`` (``matchPodFailurePolicy``):
    an ``onExitCodes`` rule matches a terminated container's non-zero exit code (of the named
    container, if any); an ``onPodConditions`` rule matches a pod condition of that type and
    status (e.g. ``DisruptionTarget``). None when no rule matches (the failure then counts)."""
    if not policy:
        return None
    meta = meta_of(pod)
    who = f"{meta.get('namespace')}/{meta.get('name')}"
    conditions = {
        (str(c.get("type")), str(c.get("status")))
        for c in (pod.get("status") or {}).get("conditions") or ()
    }
    for index, rule in enumerate(policy.get("rules") or ()):
        action = str(rule.get("action") or "")
        if rule.get("onExitCodes"):
            hit = _exit_code_matches(rule, pod)
            if hit is not None:
                name, code = hit
                return PolicyMatch(
                    action,
                    f"Container {name} for pod {who} failed with exit code {code} matching "
                    f"{action} rule at index {index}",
                    index,
                )
        for pattern in rule.get("onPodConditions") or ():
            ctype = str(pattern.get("type"))
            if (ctype, str(pattern.get("status") or "True")) in conditions:
                return PolicyMatch(
                    action,
                    f"Pod {who} has condition {ctype} matching {action} rule at index {index}",
                    index,
                )
    return None


def past_backoff_limit_on_failure(
    spec: Mapping[str, Any], pods: Sequence[Mapping[str, Any]]
) -> bool:
    """``restartPolicy: OnFailure`` restarts containers in place, so their restarts are the
    failures: the restart counts of the Pending/Running pods reach ``backoffLimit`` (any restart
    when it is 0) - upstream ``pastBackoffLimitOnFailure``."""
    template = (spec.get("template") or {}).get("spec") or {}
    if template.get("restartPolicy") != "OnFailure":
        return False
    restarts = 0
    for pod in pods:
        status = pod.get("status") or {}
        if status.get("phase", "Pending") not in ("Pending", "Running"):
            continue
        for key in ("initContainerStatuses", "containerStatuses"):
            restarts += sum(int(cs.get("restartCount") or 0) for cs in status.get(key) or ())
    limit = _int(spec.get("backoffLimit"), 6)
    return restarts > 0 if limit == 0 else restarts >= limit


def match_success_policy(policy: Mapping[str, Any] | None, completed: set[int]) -> int | None:
    """The index of the first ``successPolicy`` rule the completed indexes satisfy, or None
    (Indexed Jobs). A rule with ``succeededIndexes`` needs ``succeededCount`` of those indexes
    (all of them without a count); one with only ``succeededCount`` needs that many anywhere."""
    for index, rule in enumerate((policy or {}).get("rules") or ()):
        count = rule.get("succeededCount")
        wanted = rule.get("succeededIndexes")
        if wanted is not None:
            among = parse_indexes(str(wanted))
            done = len(among & completed)
            if (done >= int(count)) if isinstance(count, int) else (among <= completed):
                return index
        elif isinstance(count, int) and len(completed) >= count:
            return index
    return None


def _condition(conditions: Sequence[Mapping[str, Any]], type_: str) -> Mapping[str, Any] | None:
    for c in conditions:
        if c.get("type") == type_:
            return c
    return None


def _is_true(conditions: Sequence[Mapping[str, Any]], type_: str) -> bool:
    c = _condition(conditions, type_)
    return c is not None and c.get("status") == "True"


def is_finished(job: Mapping[str, Any]) -> bool:
    conds = (job.get("status") or {}).get("conditions") or ()
    return _is_true(conds, "Complete") or _is_true(conds, "Failed")


def _set_condition(
    conditions: list[dict[str, Any]], type_: str, status: str, reason: str, message: str, now: float
) -> bool:
    """Add or change a condition; True if anything changed."""
    for c in conditions:
        if c.get("type") == type_:
            if c.get("status") == status and c.get("reason") == reason:
                return False
            c.update(status=status, reason=reason, message=message)
            c["lastProbeTime"] = c["lastTransitionTime"] = time_stamp(now)
            return True
    conditions.append(
        {
            "type": type_,
            "status": status,
            "lastProbeTime": time_stamp(now),
            "lastTransitionTime": time_stamp(now),
            "reason": reason,
            "message": message,
        }
    )
    return True


def _index_of(pod: Mapping[str, Any]) -> int | None:
    meta = meta_of(pod)
    raw = (meta.get("annotations") or {}).get(INDEX_ANNOTATION)
    if raw is None:
        raw = (meta.get("labels") or {}).get(INDEX_ANNOTATION)
    try:
        return int(str(raw)) if raw is not None else None
    except ValueError:
        return None


def _failure_count(pod: Mapping[str, Any]) -> int:
    raw = (meta_of(pod).get("annotations") or {}).get(INDEX_FAILURE_COUNT_ANNOTATION)
    try:
        return int(str(raw)) if raw is not None else 0
    except ValueError:
        return 0


def _int(value: Any, default: int) -> int:
    return int(value) if isinstance(value, int) else default


def _has_finalizer(pod: Mapping[str, Any]) -> bool:
    return TRACKING_FINALIZER in (meta_of(pod).get("finalizers") or ())


def _only_replace_failed(spec: Mapping[str, Any]) -> bool:
    return spec.get("podReplacementPolicy") == "Failed" or spec.get("podFailurePolicy") is not None


def _is_failed(pod: Mapping[str, Any], spec: Mapping[str, Any]) -> bool:
    """``isPodFailed``: phase Failed; or (unless only failed pods are replaced) being deleted
    before it succeeded - an orphan that never reaches Failed still counts."""
    phase = (pod.get("status") or {}).get("phase")
    if phase == "Failed":
        return True
    if _only_replace_failed(spec):
        return False
    return bool(meta_of(pod).get("deletionTimestamp")) and phase != "Succeeded"


def _is_terminating(pod: Mapping[str, Any]) -> bool:
    phase = (pod.get("status") or {}).get("phase")
    return bool(meta_of(pod).get("deletionTimestamp")) and phase not in ("Succeeded", "Failed")


@dataclass
class _Backoff:
    failures: int = 0
    last: float = 0.0


# ---------------------------------------------------------------------- the controller


class JobController:
    name = "job-controller"

    def __init__(self, ctx: ControllerContext) -> None:
        self.client = ctx.client
        self.clock = ctx.clock
        self.recorder = ctx.recorder
        self.workers = ctx.options.workers
        self.backoff_base = BACKOFF_BASE
        self.backoff_max = BACKOFF_MAX
        self.queue: WorkQueue[str] = WorkQueue(name=self.name, clock=ctx.clock)
        self.expectations = Expectations(ctx.clock)
        self._finalizers_removed: dict[str, set[str]] = {}
        self._backoff: dict[str, _Backoff] = {}
        self.jobs = ctx.factory.informer(JOBS)
        self.pods = ctx.factory.informer(PODS)
        self.jobs.add_handler(
            on_add=lambda j: self.queue.add(object_key(j)),
            on_update=lambda _o, n: self.queue.add(object_key(n)),
            on_delete=self._job_deleted,
        )
        self.pods.add_handler(
            on_add=self._pod_added, on_update=self._pod_updated, on_delete=self._pod_deleted
        )

    async def run(self) -> None:
        try:
            await run_workers(self.queue, self.sync, self.workers, name=self.name)
        finally:
            self.queue.shut_down()

    # ------------------------------------------------------------------ handlers

    def _job_deleted(self, job: FrozenDict) -> None:
        key = object_key(job)
        self.expectations.forget(key)
        self.queue.add(key)

    @staticmethod
    def _key_of(pod: Mapping[str, Any]) -> str | None:
        ref = controller_ref(pod)
        if (
            ref is None
            or ref.get("kind") != "Job"
            or not str(ref.get("apiVersion", "")).startswith("batch/")
        ):
            return None
        return f"{meta_of(pod).get('namespace') or ''}/{ref.get('name')}"

    def _orphan(self, pod: Mapping[str, Any]) -> None:
        """A pod with the tracking finalizer but no Job controlling it (released, or its Job
        deleted with ``propagationPolicy: Orphan``): its finalizer must go."""
        if _has_finalizer(pod):
            self.queue.add(ORPHAN_PREFIX + object_key(pod))

    def _pod_added(self, pod: FrozenDict) -> None:
        key = self._key_of(pod)
        if key is None:
            self._orphan(pod)
            return
        if meta_of(pod).get("deletionTimestamp"):
            self._pod_deleted(pod)
            return
        self.expectations.creation_observed(key)
        self.queue.add(key)

    def _pod_updated(self, old: FrozenDict, new: FrozenDict) -> None:
        if old is new:
            return
        key = self._key_of(new)
        old_key = self._key_of(old)
        if old_key is not None and old_key != key:
            self.queue.add(old_key)
        if key is None:
            self._orphan(new)
            return
        if meta_of(new).get("deletionTimestamp") and not meta_of(old).get("deletionTimestamp"):
            self.expectations.deletion_observed(key, object_key(new))
        self.queue.add(key)

    def _pod_deleted(self, pod: FrozenDict) -> None:
        key = self._key_of(pod)
        if key is None:
            return
        self.expectations.deletion_observed(key, object_key(pod))
        self.queue.add(key)

    # ------------------------------------------------------------------ sync

    async def sync(self, key: str) -> None:
        if key.startswith(ORPHAN_PREFIX):
            namespace, name = split_key(key[len(ORPHAN_PREFIX) :])
            pod = self.pods.lister.get(name, namespace=namespace)
            if pod is not None and _has_finalizer(pod) and self._key_of(pod) is None:
                await self._remove_finalizers([pod])
            return
        namespace, name = split_key(key)
        job = self.jobs.lister.get(name, namespace=namespace)
        mine = [
            p
            for p in self.pods.lister.list(namespace=namespace)
            if (ref := controller_ref(p)) is not None
            and ref.get("kind") == "Job"
            and ref.get("name") == name
        ]
        if job is None:
            # the Job is gone: its pods must not keep the tracking finalizer forever
            self.expectations.forget(key)
            self._finalizers_removed.pop(key, None)
            self._backoff.pop(key, None)
            await self._remove_finalizers([p for p in mine if _has_finalizer(p)])
            return
        uid = meta_of(job).get("uid")
        pods = [p for p in mine if (controller_ref(p) or {}).get("uid") == uid]
        stale = [p for p in mine if p not in pods and _has_finalizer(p)]
        if stale:  # a Job of the same name that was deleted
            await self._remove_finalizers(stale)
        if is_finished(job) or meta_of(job).get("deletionTimestamp"):
            await self._remove_finalizers([p for p in pods if _has_finalizer(p)])
            return
        await self._sync_job(key, job, pods)

    async def _sync_job(self, key: str, job: FrozenDict, pods: list[FrozenDict]) -> None:
        spec = job.get("spec") or {}
        old_status = job.get("status") or {}
        status: dict[str, Any] = thaw(old_status)
        conditions: list[dict[str, Any]] = status.setdefault("conditions", [])
        now = self.clock.time()
        events: list[tuple[str, str, str]] = []

        completions = spec.get("completions")
        completions = int(completions) if isinstance(completions, int) else None
        parallelism = _int(spec.get("parallelism"), 1)
        indexed = spec.get("completionMode") == "Indexed" and completions is not None
        backoff_limit = _int(spec.get("backoffLimit"), 6)
        per_index = spec.get("backoffLimitPerIndex")
        per_index = int(per_index) if isinstance(per_index, int) and indexed else None
        policy = spec.get("podFailurePolicy")
        suspended = bool(spec.get("suspend"))

        removed = self._finalizers_removed.setdefault(key, set())
        by_uid = {str(meta_of(p).get("uid")): p for p in pods}
        for gone_uid in [u for u in removed if u not in by_uid or not _has_finalizer(by_uid[u])]:
            removed.discard(gone_uid)
        uncounted_raw = status.get("uncountedTerminatedPods") or {}
        unc_succeeded: list[str] = list(uncounted_raw.get("succeeded") or [])
        unc_failed: list[str] = list(uncounted_raw.get("failed") or [])
        completed = parse_indexes(status.get("completedIndexes"), completions) if indexed else set()
        failed_ix = (
            parse_indexes(status.get("failedIndexes"), completions)
            if per_index is not None
            else set()
        )
        backoff = self._backoff.setdefault(key, _Backoff())
        # pods we delete because the Job is suspended or already succeeded are not failures
        uncounted_deletes = suspended or _is_true(conditions, "SuccessCriteriaMet")

        # 1. newly finished pods -> uncounted (or completed indexes); pick finalizers to remove
        failure: tuple[str, str] | None = None
        to_release: list[FrozenDict] = []
        flush = False
        for pod in pods:
            uid = str(meta_of(pod).get("uid"))
            if not _has_finalizer(pod) or uid in removed:
                continue
            phase = (pod.get("status") or {}).get("phase")
            if phase == "Succeeded":
                if indexed:
                    ix = _index_of(pod)
                    if ix is not None and ix < (completions or 0) and ix not in completed:
                        completed.add(ix)
                        flush = True
                elif uid not in unc_succeeded:
                    unc_succeeded.append(uid)
                    flush = True
                if uid not in unc_failed:
                    backoff.failures = 0
                to_release.append(pod)
            elif _is_failed(pod, spec):
                to_release.append(pod)
                if uid in unc_failed or (phase != "Failed" and uncounted_deletes):
                    continue
                match = match_pod_failure_policy(policy, pod) if phase == "Failed" else None
                action = match.action if match is not None else "Count"
                if action == "Ignore":
                    continue
                unc_failed.append(uid)
                flush = True
                backoff.failures += 1
                backoff.last = now
                if action == "FailJob" and failure is None and match is not None:
                    failure = ("PodFailurePolicy", match.message)
                ix = _index_of(pod)
                if per_index is not None and ix is not None:
                    if action == "FailIndex" or _failure_count(pod) + 1 > per_index:
                        failed_ix.add(ix)
                elif action == "FailIndex" and indexed and ix is not None:
                    failed_ix.add(ix)
        if flush:
            status["uncountedTerminatedPods"] = {
                k: v for k, v in (("succeeded", unc_succeeded), ("failed", unc_failed)) if v
            }
            if indexed:
                status["completedIndexes"] = format_indexes(completed)
            if per_index is not None:
                status["failedIndexes"] = format_indexes(failed_ix)
            if failure is not None:
                _set_condition(conditions, "FailureTarget", "True", *failure, now)
            job = await self._write_status(job, status)

        # 2. remove finalizers; 3. count what has left tracking
        released = await self._remove_finalizers(to_release)
        removed.update(released)
        gone = {
            u
            for u in (*unc_succeeded, *unc_failed)
            if u in released or u in removed or u not in by_uid or not _has_finalizer(by_uid[u])
        }
        succeeded = int(status.get("succeeded") or 0)
        failed = int(status.get("failed") or 0)
        succeeded += sum(1 for u in unc_succeeded if u in gone)
        failed += sum(1 for u in unc_failed if u in gone)
        unc_succeeded = [u for u in unc_succeeded if u not in gone]
        unc_failed = [u for u in unc_failed if u not in gone]
        if indexed:
            succeeded = len(completed)
        uncounted = bool(unc_succeeded or unc_failed)

        active = [p for p in pods if is_pod_active(p)]
        terminating = [p for p in pods if _is_terminating(p)]

        # 4. start time, suspension
        if suspended:
            if _set_condition(
                conditions, "Suspended", "True", "JobSuspended", "Job suspended", now
            ):
                events.append(("Normal", "Suspended", "Job suspended"))
        else:
            cond = _condition(conditions, "Suspended")
            if cond is not None and cond.get("status") == "True":
                _set_condition(conditions, "Suspended", "False", "JobResumed", "Job resumed", now)
                events.append(("Normal", "Resumed", "Job resumed"))
                status["startTime"] = time_stamp(now)
            if not status.get("startTime"):
                status["startTime"] = time_stamp(now)

        # 5. is it decided?
        target = _condition(conditions, "FailureTarget")
        met = _condition(conditions, "SuccessCriteriaMet")
        deadline_wait: float | None = None
        if target is None and met is None:
            decided: tuple[str, str] | None = None
            start = epoch_of(status.get("startTime"))
            ads = spec.get("activeDeadlineSeconds")
            if failure is not None:
                decided = failure
            elif failed + len(unc_failed) > backoff_limit or past_backoff_limit_on_failure(
                spec, active
            ):
                decided = ("BackoffLimitExceeded", MSG_BACKOFF)
            elif (
                per_index is not None
                and spec.get("maxFailedIndexes") is not None
                and len(failed_ix) > int(spec["maxFailedIndexes"])
            ):
                decided = ("MaxFailedIndexesExceeded", MSG_MAX_FAILED_INDEXES)
            elif isinstance(ads, int) and start is not None and not suspended:
                if now >= start + ads:
                    decided = ("DeadlineExceeded", MSG_DEADLINE)
                else:
                    deadline_wait = start + ads - now
            if decided is not None:
                _set_condition(conditions, "FailureTarget", "True", *decided, now)
            else:
                done: bool
                rule = (
                    match_success_policy(spec.get("successPolicy"), completed) if indexed else None
                )
                if rule is not None:
                    _set_condition(
                        conditions,
                        "SuccessCriteriaMet",
                        "True",
                        "SuccessPolicy",
                        f"Matched rules at index {rule}",
                        now,
                    )
                    done = False
                elif indexed:
                    assert completions is not None
                    done = len(completed) >= completions
                    if not done and failed_ix and len(completed) + len(failed_ix) >= completions:
                        _set_condition(
                            conditions,
                            "FailureTarget",
                            "True",
                            "FailedIndexes",
                            MSG_FAILED_INDEXES,
                            now,
                        )
                elif completions is not None:
                    done = succeeded >= completions
                else:
                    done = succeeded > 0 and not active
                if done:
                    _set_condition(
                        conditions,
                        "SuccessCriteriaMet",
                        "True",
                        "CompletionsReached",
                        MSG_COMPLETIONS,
                        now,
                    )
            target = _condition(conditions, "FailureTarget")
            met = _condition(conditions, "SuccessCriteriaMet")

        # 6. pods: stop everything once decided or suspended; otherwise run what is wanted
        requeue: float | None = deadline_wait
        failure_message: str | None = None
        if self.expectations.satisfied(key):
            if target is not None or met is not None or suspended:
                if active:
                    await self._delete(job, key, active)
                    terminating = [*terminating, *active]  # until their deletion is seen
                    active = []
            else:
                requeue_create, failure_message = await self._manage(
                    job,
                    key,
                    active,
                    terminating,
                    completed,
                    failed_ix,
                    succeeded=succeeded,
                    completions=completions,
                    parallelism=parallelism,
                    indexed=indexed,
                    per_index=per_index,
                    backoff=backoff,
                    now=now,
                )
                if requeue_create is not None:
                    requeue = requeue_create if requeue is None else min(requeue, requeue_create)

        # 7. the terminal condition once every pod is gone and counted
        if (
            (target is not None or met is not None)
            and not active
            and not terminating
            and not uncounted
        ):
            if target is not None:
                reason, message = str(target.get("reason")), str(target.get("message"))
                if _set_condition(conditions, "Failed", "True", reason, message, now):
                    events.append(("Warning", reason, message))
            else:
                assert met is not None
                reason, message = str(met.get("reason")), str(met.get("message"))
                if _set_condition(conditions, "Complete", "True", reason, message, now):
                    status["completionTime"] = time_stamp(now)
                    events.append(("Normal", "Completed", "Job completed"))

        status["active"] = len(active)
        status["ready"] = sum(1 for p in active if pod_ready(p))
        status["terminating"] = len(terminating)
        status["succeeded"] = succeeded
        status["failed"] = failed
        status["uncountedTerminatedPods"] = {
            k: v for k, v in (("succeeded", unc_succeeded), ("failed", unc_failed)) if v
        }
        if indexed:
            status["completedIndexes"] = format_indexes(completed)
        if per_index is not None:
            status["failedIndexes"] = format_indexes(failed_ix)
        for k in ("active", "succeeded", "failed"):
            if not status[k]:
                del status[k]
        if not conditions:
            del status["conditions"]
        if thaw(job.get("status") or {}) != status:
            await self._write_status(job, status)
        for type_, reason, message in events:
            self.recorder.event(job, type_, reason, message)
        if requeue is not None:
            self.queue.add_after(key, max(0.01, requeue))
        if failure_message is not None:
            raise _CreateFailed(failure_message)

    async def _write_status(self, job: Mapping[str, Any], status: dict[str, Any]) -> FrozenDict:
        body = thaw(job)
        body["status"] = status
        meta = meta_of(job)
        fresh = await self.client.update_status(
            JOBS, body, namespace=str(meta.get("namespace") or "")
        )
        frozen: FrozenDict = freeze(fresh)
        return frozen

    async def _manage(
        self,
        job: Mapping[str, Any],
        key: str,
        active: list[FrozenDict],
        terminating: list[FrozenDict],
        completed: set[int],
        failed_ix: set[int],
        *,
        succeeded: int,
        completions: int | None,
        parallelism: int,
        indexed: bool,
        per_index: int | None,
        backoff: _Backoff,
        now: float,
    ) -> tuple[float | None, str | None]:
        """Create or delete pods; returns (recheck after, create failure)."""
        spec = job.get("spec") or {}
        occupying = len(terminating) if _only_replace_failed(spec) else 0
        victims: list[Mapping[str, Any]] = []
        indexes: list[int | None] = []
        if indexed:
            assert completions is not None
            seen: set[int] = set()
            keep: list[FrozenDict] = []
            for pod in sorted(active, key=lambda p: str(meta_of(p).get("creationTimestamp"))):
                ix = _index_of(pod)
                if (
                    ix is None
                    or ix >= completions
                    or ix in completed
                    or ix in failed_ix
                    or ix in seen
                ):
                    victims.append(pod)
                else:
                    seen.add(ix)
                    keep.append(pod)
            if occupying:
                seen.update(ix for p in terminating if (ix := _index_of(p)) is not None)
            room = parallelism - len(keep) - occupying
            if len(keep) > parallelism:
                victims.extend(keep[parallelism:])
            want = indexes_to_create(completions, seen | completed | failed_ix, max(0, room))
            indexes = list(want)
        else:
            if completions is None:
                wanted = len(active) if succeeded > 0 else parallelism
            else:
                wanted = max(0, min(parallelism, completions - succeeded))
            diff = len(active) + occupying - wanted
            if diff > 0:
                victims = list(pods_to_delete(active, min(diff, len(active))))
            elif diff < 0:
                indexes = [None] * min(-diff, BURST)
        if victims:
            await self._delete(job, key, victims[:BURST])
        if not indexes:
            return None, None
        wait = (
            backoff.last
            + backoff_delay(backoff.failures, base=self.backoff_base, cap=self.backoff_max)
            - now
        )
        if backoff.failures and wait > 0:
            return wait, None
        failure_counts: dict[int, int] = {}
        if per_index is not None:
            for pod in self.pods.lister.list(namespace=str(meta_of(job).get("namespace") or "")):
                ref = controller_ref(pod)
                if ref is None or ref.get("uid") != meta_of(job).get("uid"):
                    continue
                ix = _index_of(pod)
                if ix is not None and (pod.get("status") or {}).get("phase") == "Failed":
                    failure_counts[ix] = max(failure_counts.get(ix, 0), _failure_count(pod) + 1)
        return None, await self._create(job, key, indexes[:BURST], failure_counts)

    def _pod_body(self, job: Mapping[str, Any], index: int | None, failures: int) -> dict[str, Any]:
        meta = meta_of(job)
        name = str(meta.get("name"))
        template = thaw((job.get("spec") or {}).get("template") or {})
        tmeta = template.get("metadata") or {}
        labels = dict(tmeta.get("labels") or {})
        annotations = dict(tmeta.get("annotations") or {})
        pod_spec: dict[str, Any] = template.get("spec") or {}
        generate = f"{name}-"
        if index is not None:
            generate = f"{name}-{index}-"
            labels[INDEX_ANNOTATION] = str(index)
            annotations[INDEX_ANNOTATION] = str(index)
            if (job.get("spec") or {}).get("backoffLimitPerIndex") is not None:
                annotations[INDEX_FAILURE_COUNT_ANNOTATION] = str(failures)
            pod_spec.setdefault("hostname", f"{name}-{index}")
            for key in ("initContainers", "containers"):
                for c in pod_spec.get(key) or ():
                    env = c.setdefault("env", [])
                    if not any(e.get("name") == "JOB_COMPLETION_INDEX" for e in env):
                        env.append(
                            {
                                "name": "JOB_COMPLETION_INDEX",
                                "valueFrom": {
                                    "fieldRef": {
                                        "fieldPath": f"metadata.annotations['{INDEX_ANNOTATION}']"
                                    }
                                },
                            }
                        )
        body_meta: dict[str, Any] = {
            "generateName": generate,
            "namespace": meta.get("namespace"),
            "labels": labels,
            "finalizers": [*(tmeta.get("finalizers") or ()), TRACKING_FINALIZER],
            "ownerReferences": [owner_reference(job, api_version="batch/v1", kind="Job")],
        }
        if annotations:
            body_meta["annotations"] = annotations
        return {"apiVersion": "v1", "kind": "Pod", "metadata": body_meta, "spec": pod_spec}

    async def _create(
        self,
        job: Mapping[str, Any],
        key: str,
        indexes: list[int | None],
        failure_counts: Mapping[int, int],
    ) -> str | None:
        namespace = str(meta_of(job).get("namespace") or "")
        self.expectations.expect_creations(key, len(indexes))
        pos = 0
        size = 1
        while pos < len(indexes):
            batch = indexes[pos : pos + size]
            pos += len(batch)
            size *= 2
            results = await asyncio.gather(
                *(
                    self.client.create(
                        PODS,
                        self._pod_body(job, ix, failure_counts.get(ix, 0) if ix is not None else 0),
                        namespace=namespace,
                    )
                    for ix in batch
                ),
                return_exceptions=True,
            )
            errors = [r for r in results if isinstance(r, BaseException)]
            for r in results:
                if isinstance(r, dict):
                    pod_name = (r.get("metadata") or {}).get("name")
                    self.recorder.event(
                        job, "Normal", "SuccessfulCreate", f"Created pod: {pod_name}"
                    )
            if errors:
                self.expectations.creation_failed(key, len(errors) + len(indexes) - pos)
                for err in errors:
                    if isinstance(err, asyncio.CancelledError):
                        raise err
                message = str(errors[0])
                self.recorder.event(job, "Warning", "FailedCreate", f"Error creating: {message}")
                return message
        return None

    async def _delete(
        self, job: Mapping[str, Any], key: str, victims: Sequence[Mapping[str, Any]]
    ) -> None:
        namespace = str(meta_of(job).get("namespace") or "")
        self.expectations.expect_deletions(key, [object_key(p) for p in victims])

        async def one(pod: Mapping[str, Any]) -> None:
            pod_name = str(meta_of(pod).get("name"))
            try:
                await self.client.delete(PODS, pod_name, namespace=namespace)
            except NotFound:
                self.expectations.deletion_observed(key, object_key(pod))
                return
            except ApiError as e:
                self.expectations.deletion_observed(key, object_key(pod))
                self.recorder.event(job, "Warning", "FailedDelete", f"Error deleting: {e.message}")
                raise
            self.recorder.event(job, "Normal", "SuccessfulDelete", f"Deleted pod: {pod_name}")

        results = await asyncio.gather(*(one(p) for p in victims), return_exceptions=True)
        for r in results:
            if isinstance(r, BaseException):
                raise r

    async def _remove_finalizers(self, pods: Sequence[Mapping[str, Any]]) -> set[str]:
        """Drop the tracking finalizer (pinned to the resourceVersion read); the uids done."""

        async def one(pod: Mapping[str, Any]) -> str | None:
            meta = meta_of(pod)
            rest = [f for f in meta.get("finalizers") or () if f != TRACKING_FINALIZER]
            patch = {
                "metadata": {
                    "finalizers": rest or None,
                    "resourceVersion": meta.get("resourceVersion"),
                }
            }
            try:
                await self.client.patch(
                    PODS, str(meta.get("name")), patch, namespace=str(meta.get("namespace") or "")
                )
            except NotFound:
                pass
            except Conflict:
                return None
            return str(meta.get("uid"))

        results = await asyncio.gather(*(one(p) for p in pods), return_exceptions=True)
        done: set[str] = set()
        error: BaseException | None = None
        for r in results:
            if isinstance(r, BaseException):
                error = r
            elif r is not None:
                done.add(r)
        if error is not None and not done:
            raise error
        return done


class _CreateFailed(Exception):
    """Creating pods failed; the sync is retried with back-off (status already written)."""
