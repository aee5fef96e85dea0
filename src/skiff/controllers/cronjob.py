"""CronJob: create a Job at each scheduled time.

Kubernetes 1.32's ``pkg/controller/cronjob`` (the v2 controller), on the injected clock:

- the schedule (`skiff.controllers.cron`) is read in ``spec.timeZone`` (UTC when unset;
  kube-controller-manager uses its own local zone, which in a container is UTC); a legacy
  ``TZ=``/``CRON_TZ=`` prefix still works with an ``UnsupportedSchedule`` warning (the API refuses
  it on new objects);
- each sync looks for the most recent unmet time after ``status.lastScheduleTime`` (else the
  creation time, moved up to ``now - startingDeadlineSeconds``); none -> look again at the next
  time (+100 ms); more than 100 missed -> ``TooManyMissedTimes``; a time older than
  ``startingDeadlineSeconds`` -> ``MissSchedule`` and nothing runs;
- ``concurrencyPolicy``: ``Allow``; ``Forbid`` skips a run while a Job is active
  (``JobAlreadyActive``); ``Replace`` deletes the active Jobs first;
- the Job is ``<cronjob>-<scheduled time in minutes since the epoch>``, with the template's
  labels and annotations, the ``batch.kubernetes.io/cronjob-scheduled-timestamp`` annotation
  (RFC 3339 in the zone) and a controller ownerReference;
- ``status.active`` follows the Jobs (``SawCompletedJob`` when one finishes, ``MissingJob`` when
  one vanished), ``lastScheduleTime``, ``lastSuccessfulTime``;
- finished Jobs beyond ``successfulJobsHistoryLimit`` / ``failedJobsHistoryLimit`` are deleted,
  oldest start first (``SuccessfulDelete``);
- ``suspend`` stops new runs (the active ones go on).
"""

from __future__ import annotations

import logging
import zoneinfo
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from email.utils import format_datetime
from typing import Any

from skiff.api.duration import format_time, parse_time
from skiff.client import (
    AlreadyExists,
    ApiError,
    FrozenDict,
    NotFound,
    WorkQueue,
    object_key,
    resolve,
    thaw,
)
from skiff.controllers.base import ControllerContext, meta_of, run_workers, split_key
from skiff.controllers.cron import CronError, Schedule, most_recent_schedule_time, parse
from skiff.controllers.podutil import controller_ref, owner_reference

__all__ = [
    "SCHEDULED_TIMESTAMP_ANNOTATION",
    "CronJobController",
    "job_name",
    "next_schedule_delay",
    "scheduled_time",
]

log = logging.getLogger("skiff.controllers.cronjob")

CRONJOBS = resolve(("batch/v1", "CronJob"))
JOBS = resolve(("batch/v1", "Job"))
SCHEDULED_TIMESTAMP_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"
TOO_MANY_MISSED = 100
NEXT_SCHEDULE_DELTA = 0.1


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return parse_time(str(value)).astimezone(UTC)
    except ValueError:
        return None


def _earliest(cronjob: Mapping[str, Any], now: datetime, *, with_deadline: bool) -> datetime:
    status = cronjob.get("status") or {}
    earliest = (
        _time(status.get("lastScheduleTime"))
        or _time(meta_of(cronjob).get("creationTimestamp"))
        or now
    )
    deadline = (cronjob.get("spec") or {}).get("startingDeadlineSeconds")
    if with_deadline and isinstance(deadline, int):
        earliest = max(earliest, now - timedelta(seconds=deadline))
    return earliest


def scheduled_time(
    cronjob: Mapping[str, Any], schedule: Schedule, now: datetime
) -> tuple[datetime | None, int]:
    """The run to start now (upstream ``nextScheduleTime``) and how many were missed; raises
    `CronError` for a schedule that never fires or fires under a second apart."""
    return most_recent_schedule_time(schedule, _earliest(cronjob, now, with_deadline=True), now)


def next_schedule_delay(
    cronjob: Mapping[str, Any], schedule: Schedule, now: datetime
) -> float | None:
    """Seconds until the sync after this one (upstream ``nextScheduleTimeDuration``): the next
    time after the most recent one (or after the earliest time considered), plus 100 ms."""
    earliest = _earliest(cronjob, now, with_deadline=False)
    try:
        recent, missed = most_recent_schedule_time(schedule, earliest, now)
    except CronError:
        recent, missed = now, 0
    base = recent if recent is not None else (earliest if missed == 0 else now)
    nxt = schedule.next(base)
    if nxt is None:
        return None
    return (nxt - now).total_seconds() + NEXT_SCHEDULE_DELTA


def job_name(cronjob_name: str, when: datetime) -> str:
    """``<cronjob>-<minutes since the epoch>`` (``getJobName``)."""
    return f"{cronjob_name}-{int(when.timestamp()) // 60}"


def _rfc3339(when: datetime, zone: tzinfo) -> str:
    local = when.astimezone(zone)
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    offset = local.utcoffset() or timedelta(0)
    if not offset:
        return text + "Z"
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{text}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _finished(job: Mapping[str, Any]) -> str | None:
    """``Complete`` or ``Failed`` (the condition that finished it), or None."""
    for cond in (job.get("status") or {}).get("conditions") or ():
        if cond.get("type") in ("Complete", "Failed") and cond.get("status") == "True":
            return str(cond.get("type"))
    return None


def _job_ref(job: Mapping[str, Any]) -> dict[str, Any]:
    meta = meta_of(job)
    return {
        "kind": "Job",
        "namespace": meta.get("namespace"),
        "name": meta.get("name"),
        "uid": meta.get("uid"),
        "apiVersion": "batch/v1",
        "resourceVersion": meta.get("resourceVersion"),
    }


class CronJobController:
    name = "cronjob-controller"

    def __init__(self, ctx: ControllerContext) -> None:
        self.client = ctx.client
        self.clock = ctx.clock
        self.recorder = ctx.recorder
        self.workers = ctx.options.workers
        self.queue: WorkQueue[str] = WorkQueue(name=self.name, clock=ctx.clock)
        self.cronjobs = ctx.factory.informer(CRONJOBS)
        self.jobs = ctx.factory.informer(JOBS)
        self.cronjobs.add_handler(
            on_add=lambda c: self.queue.add(object_key(c)),
            on_update=lambda _o, n: self.queue.add(object_key(n)),
        )
        self.jobs.add_handler(
            on_add=self._job_event,
            on_update=lambda _o, n: self._job_event(n),
            on_delete=self._job_event,
        )

    def _job_event(self, job: FrozenDict) -> None:
        ref = controller_ref(job)
        if ref is None or ref.get("kind") != "CronJob":
            return
        self.queue.add(f"{meta_of(job).get('namespace') or ''}/{ref.get('name')}")

    async def run(self) -> None:
        try:
            await run_workers(self.queue, self.sync, self.workers, name=self.name)
        finally:
            self.queue.shut_down()

    def _event(self, cronjob: Mapping[str, Any], type_: str, reason: str, message: str) -> None:
        self.recorder.event(cronjob, type_, reason, message)

    async def sync(self, key: str) -> None:
        namespace, name = split_key(key)
        cronjob = self.cronjobs.lister.get(name, namespace=namespace)
        if cronjob is None:
            return
        uid = meta_of(cronjob).get("uid")
        jobs = [
            j
            for j in self.jobs.lister.list(namespace=namespace)
            if (controller_ref(j) or {}).get("uid") == uid
        ]
        status: dict[str, Any] = thaw(cronjob.get("status") or {})
        original = thaw(status)
        requeue: float | None = None
        try:
            cronjob, requeue = await self._sync(cronjob, jobs, status)
        finally:
            if not meta_of(cronjob).get("deletionTimestamp"):
                await self._cleanup(cronjob, jobs, status)
            if not status.get("active"):
                status.pop("active", None)
            if status != original:
                body = thaw(cronjob)
                body["status"] = status
                try:
                    await self.client.update_status(CRONJOBS, body, namespace=namespace)
                except NotFound:
                    return
        if requeue is not None:
            self.queue.add_after(key, max(0.01, requeue))

    async def _sync(
        self, cronjob: FrozenDict, jobs: list[FrozenDict], status: dict[str, Any]
    ) -> tuple[FrozenDict, float | None]:
        meta = meta_of(cronjob)
        namespace = str(meta.get("namespace") or "")
        spec = cronjob.get("spec") or {}
        active: list[dict[str, Any]] = status.setdefault("active", [])
        children: set[str] = set()
        for job in jobs:
            job_uid = str(meta_of(job).get("uid"))
            job_label = str(meta_of(job).get("name"))
            children.add(job_uid)
            found = any(r.get("uid") == job_uid for r in active)
            finished = _finished(job)
            if not found and finished is None:
                # the cache may not show our own status write yet: ask the server
                try:
                    fresh = await self.client.get(
                        CRONJOBS, str(meta.get("name")), namespace=namespace
                    )
                except NotFound:
                    return cronjob, None
                fresh_active = (fresh.get("status") or {}).get("active") or []
                if any(r.get("uid") == job_uid for r in fresh_active):
                    active[:] = [dict(r) for r in fresh_active]
                    for k in ("lastScheduleTime", "lastSuccessfulTime"):
                        if (fresh.get("status") or {}).get(k):
                            status[k] = fresh["status"][k]
                    continue
                self._event(
                    cronjob,
                    "Warning",
                    "UnexpectedJob",
                    f"Saw a job that the controller did not create or forgot: {job_label}",
                )
            elif found and finished is not None:
                active[:] = [r for r in active if r.get("uid") != job_uid]
                self._event(
                    cronjob,
                    "Normal",
                    "SawCompletedJob",
                    f"Saw completed job: {job_label}, condition: {finished}",
                )
            elif finished == "Complete":
                done = _time((job.get("status") or {}).get("completionTime"))
                last = _time(status.get("lastSuccessfulTime"))
                if done is not None and (last is None or done > last):
                    status["lastSuccessfulTime"] = format_time(done)
        for ref in list(active):
            if ref.get("uid") in children:
                continue
            try:
                got = await self.client.get(JOBS, str(ref.get("name")), namespace=namespace)
                missing = meta_of(got).get("uid") != ref.get("uid")
            except NotFound:
                missing = True
            if missing:
                active.remove(ref)
                self._event(
                    cronjob, "Normal", "MissingJob", f"Active job went missing: {ref.get('name')}"
                )

        if meta.get("deletionTimestamp"):
            return cronjob, None
        schedule_text = str(spec.get("schedule") or "")
        time_zone = spec.get("timeZone")
        if time_zone:
            try:
                zoneinfo.ZoneInfo(str(time_zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError) as e:
                self._event(
                    cronjob, "Warning", "UnknownTimeZone", f'invalid timeZone: "{time_zone}": {e}'
                )
                return cronjob, None
        if spec.get("suspend"):
            return cronjob, None
        if "TZ" in schedule_text:
            self._event(
                cronjob,
                "Warning",
                "UnsupportedSchedule",
                f'CRON_TZ or TZ used in schedule "{schedule_text}" is not officially supported, '
                "see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ "
                "for more details",
            )
        try:
            schedule = parse(schedule_text, None if "TZ" in schedule_text else time_zone)
        except CronError as e:
            self._event(
                cronjob,
                "Warning",
                "UnparseableSchedule",
                f'unparseable schedule: "{schedule_text}" : {e}',
            )
            return cronjob, None
        now = datetime.fromtimestamp(self.clock.time(), UTC)
        view = {"metadata": meta, "spec": spec, "status": status}
        try:
            when, missed = scheduled_time(view, schedule, now)
        except CronError as e:
            self._event(
                cronjob, "Warning", "InvalidSchedule", f"invalid schedule: {schedule_text} : {e}"
            )
            return cronjob, None
        if when is None:
            return cronjob, next_schedule_delay(view, schedule, now)
        if missed > TOO_MANY_MISSED:
            self._event(
                cronjob,
                "Warning",
                "TooManyMissedTimes",
                "too many missed start times. Set or decrease .spec.startingDeadlineSeconds "
                "or check clock skew",
            )
        deadline = spec.get("startingDeadlineSeconds")
        if isinstance(deadline, int) and when + timedelta(seconds=deadline) < now:
            self._event(
                cronjob,
                "Warning",
                "MissSchedule",
                f"Missed scheduled time to start a job: {format_datetime(when)}",
            )
            return cronjob, next_schedule_delay(view, schedule, now)
        name = job_name(str(meta.get("name")), when)
        if (
            any(r.get("name") == name for r in active)
            or _time(status.get("lastScheduleTime")) == when
        ):
            return cronjob, next_schedule_delay(view, schedule, now)
        policy = spec.get("concurrencyPolicy") or "Allow"
        if policy == "Forbid" and active:
            self._event(
                cronjob,
                "Normal",
                "JobAlreadyActive",
                "Not starting job because prior execution is running and concurrency policy "
                "is Forbid",
            )
            return cronjob, next_schedule_delay(view, schedule, now)
        if policy == "Replace":
            for ref in list(active):
                await self._delete_job(cronjob, str(ref.get("name")), namespace)
                active.remove(ref)
        try:
            created = await self.client.create(
                JOBS, self._job_body(cronjob, name, when, schedule), namespace=namespace
            )
        except AlreadyExists:
            try:
                created = await self.client.get(JOBS, name, namespace=namespace)
            except NotFound:
                raise
            if (controller_ref(created) or {}).get("uid") != meta.get("uid"):
                raise
        except ApiError as e:
            self._event(cronjob, "Warning", "FailedCreate", f"Error creating job: {e.message}")
            raise
        else:
            self._event(cronjob, "Normal", "SuccessfulCreate", f"Created job {name}")
        if _finished(created) is None:
            active.append(_job_ref(created))
        status["lastScheduleTime"] = format_time(when)
        return cronjob, next_schedule_delay(view, schedule, now)

    def _job_body(
        self, cronjob: Mapping[str, Any], name: str, when: datetime, schedule: Schedule
    ) -> dict[str, Any]:
        meta = meta_of(cronjob)
        template = thaw((cronjob.get("spec") or {}).get("jobTemplate") or {})
        tmeta = template.get("metadata") or {}
        annotations = dict(tmeta.get("annotations") or {})
        annotations[SCHEDULED_TIMESTAMP_ANNOTATION] = _rfc3339(when, schedule.zone)
        body_meta: dict[str, Any] = {
            "name": name,
            "namespace": meta.get("namespace"),
            "annotations": annotations,
            "ownerReferences": [owner_reference(cronjob, api_version="batch/v1", kind="CronJob")],
        }
        if tmeta.get("labels"):
            body_meta["labels"] = dict(tmeta["labels"])
        return {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": body_meta,
            "spec": template.get("spec") or {},
        }

    async def _delete_job(self, cronjob: Mapping[str, Any], name: str, namespace: str) -> bool:
        try:
            await self.client.delete(
                JOBS, name, namespace=namespace, propagation_policy="Background"
            )
        except NotFound:
            return True
        except ApiError as e:
            self._event(cronjob, "Warning", "FailedDelete", f"Deleted job: {e.message}")
            return False
        self._event(cronjob, "Normal", "SuccessfulDelete", f"Deleted job {name}")
        return True

    async def _cleanup(
        self, cronjob: Mapping[str, Any], jobs: list[FrozenDict], status: dict[str, Any]
    ) -> None:
        """Delete the oldest finished Jobs beyond the history limits (``cleanupFinishedJobs``)."""
        spec = cronjob.get("spec") or {}
        namespace = str(meta_of(cronjob).get("namespace") or "")
        for kind, limit_key in (
            ("Complete", "successfulJobsHistoryLimit"),
            ("Failed", "failedJobsHistoryLimit"),
        ):
            limit = spec.get(limit_key)
            if not isinstance(limit, int):
                continue
            finished = [j for j in jobs if _finished(j) == kind]
            if len(finished) <= limit:
                continue

            def started(job: Mapping[str, Any]) -> tuple[int, float, str]:
                start = _time((job.get("status") or {}).get("startTime"))
                name = str(meta_of(job).get("name"))
                return (1, 0.0, name) if start is None else (0, start.timestamp(), name)

            finished.sort(key=started)
            for job in finished[: len(finished) - limit]:
                name = str(meta_of(job).get("name"))
                if await self._delete_job(cronjob, name, namespace):
                    status["active"] = [
                        r for r in status.get("active") or [] if r.get("name") != name
                    ]
