"""CronJob (skiff.controllers.cronjob) and its schedules (skiff.controllers.cron).

Covers: next run times for standard specs, names, steps and descriptors, robfig/cron's
day-of-month/day-of-week rule, ``@every``, time zones incl. both DST transitions, a schedule
that never fires, legacy ``TZ=`` prefixes and unknown zones; the missed-run computation
(most recent time, count, startingDeadlineSeconds, more than 100 missed), the requeue delay and
Job names. Against an in-process API server on a FakeClock (Jobs finished by the test, no Job
controller): a Job per minute with the scheduled-timestamp annotation and owner, status
active/lastScheduleTime/lastSuccessfulTime, Forbid (``JobAlreadyActive``), Replace, history
limits and suspend.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from skiff.controllers import ControllerManager
from skiff.controllers.cron import CronError, most_recent_schedule_time, parse
from skiff.controllers.cronjob import job_name, next_schedule_delay, scheduled_time
from skiff.testing.clock import FakeClock
from skiff.testing.cluster import running_controller_manager

CRONJOBS = "/apis/batch/v1/namespaces/default/cronjobs"
JOBS = "/apis/batch/v1/namespaces/default/jobs"
EVENTS = "/api/v1/namespaces/default/events"
MERGE = {"Content-Type": "application/merge-patch+json"}


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def _runs(schedule: str, start: datetime, n: int, zone: str | None = None) -> list[datetime]:
    sched = parse(schedule, zone)
    out: list[datetime] = []
    t: datetime | None = start
    for _ in range(n):
        assert t is not None
        t = sched.next(t)
        assert t is not None
        out.append(t)
    return out


# ---------------------------------------------------------------------- schedules


def test_standard_fields_names_steps_and_descriptors() -> None:
    start = _utc(2026, 1, 1, 0, 0)  # a Thursday
    assert _runs("*/20 * * * *", start, 3) == [
        _utc(2026, 1, 1, 0, 20),
        _utc(2026, 1, 1, 0, 40),
        _utc(2026, 1, 1, 1, 0),
    ]
    assert _runs("5 9-17/4 * * mon-fri", start, 4) == [
        _utc(2026, 1, 1, 9, 5),
        _utc(2026, 1, 1, 13, 5),
        _utc(2026, 1, 1, 17, 5),
        _utc(2026, 1, 2, 9, 5),
    ]
    assert _runs("0 0 1 feb,AUG *", start, 2) == [_utc(2026, 2, 1), _utc(2026, 8, 1)]
    assert _runs("@hourly", start, 1) == [_utc(2026, 1, 1, 1)]
    assert _runs("@daily", start, 1) == [_utc(2026, 1, 2)]
    assert _runs("@weekly", start, 1) == [_utc(2026, 1, 4)]  # Sunday
    assert _runs("@monthly", start, 1) == [_utc(2026, 2, 1)]
    assert _runs("@yearly", start, 1) == [_utc(2027, 1, 1)]
    # strictly after: a time on the schedule is not its own next run; seconds are dropped
    assert _runs("0 * * * *", _utc(2026, 1, 1, 5, 0), 1) == [_utc(2026, 1, 1, 6)]
    assert _runs("* * * * *", _utc(2026, 1, 1, 5, 0, 30), 1) == [_utc(2026, 1, 1, 5, 1)]


def test_day_of_month_or_day_of_week() -> None:
    start = _utc(2026, 2, 1)  # a Sunday
    # both restricted: either matches (Friday the 6th, then the 13th, a Friday too, then the 20th)
    assert [t.day for t in _runs("0 0 13 * 5", start, 3)] == [6, 13, 20]
    # day of month is "*": only Fridays
    assert [t.day for t in _runs("0 0 * * 5", start, 2)] == [6, 13]
    # "*/2" has a step, so it is not "*" for this rule: odd days or Mondays
    assert [t.day for t in _runs("0 0 */2 * 1", start, 3)] == [2, 3, 5]
    assert [t.day for t in _runs("0 0 ? * 1", start, 2)] == [2, 9]


def test_every() -> None:
    assert _runs("@every 1h30m", _utc(2026, 1, 1, 0, 0, 10), 2) == [
        _utc(2026, 1, 1, 1, 30, 10),
        _utc(2026, 1, 1, 3, 0, 10),
    ]
    assert parse("@every 500ms").every == 1.0


def test_time_zones_and_dst() -> None:
    # Europe/Berlin: 09:00 local is 08:00Z in winter, 07:00Z in summer
    assert _runs("0 9 * * *", _utc(2026, 1, 10), 1, "Europe/Berlin") == [_utc(2026, 1, 10, 8)]
    assert _runs("0 9 * * *", _utc(2026, 7, 10), 1, "Europe/Berlin") == [_utc(2026, 7, 10, 7)]
    # New York springs forward on 2026-03-08 (02:00 -> 03:00): 02:30 does not exist that day
    runs = _runs("30 2 * * *", _utc(2026, 3, 7, 12), 2, "America/New_York")
    assert runs == [_utc(2026, 3, 9, 6, 30), _utc(2026, 3, 10, 6, 30)]
    # ... an hourly schedule goes from 01:00 EST to 03:00 EDT, one hour later
    runs = _runs("0 * * * *", _utc(2026, 3, 8, 5, 30), 2, "America/New_York")
    assert runs == [_utc(2026, 3, 8, 6), _utc(2026, 3, 8, 7)]
    # and falls back on 2026-11-01 (02:00 -> 01:00): 01:30 happens twice, both run
    runs = _runs("30 1 * * *", _utc(2026, 10, 31, 12), 3, "America/New_York")
    assert runs == [_utc(2026, 11, 1, 5, 30), _utc(2026, 11, 1, 6, 30), _utc(2026, 11, 2, 6, 30)]
    # every minute straight through the repeated hour: 01:59 EDT, 01:00 EST, 01:01 EST
    runs = _runs("* * * * *", _utc(2026, 11, 1, 5, 58), 3, "America/New_York")
    assert runs == [_utc(2026, 11, 1, 5, 59), _utc(2026, 11, 1, 6, 0), _utc(2026, 11, 1, 6, 1)]
    # a legacy TZ= prefix names the zone as well
    assert _runs("TZ=Asia/Tokyo 0 9 * * *", _utc(2025, 12, 31, 12), 1) == [_utc(2026, 1, 1)]


def test_bad_schedules() -> None:
    assert parse("0 0 30 2 *").next(_utc(2026, 1, 1)) is None  # February 30th never comes
    with pytest.raises(CronError, match="expected exactly 5 fields"):
        parse("* * * *")
    with pytest.raises(CronError, match="end of range"):
        parse("0 24 * * *")
    with pytest.raises(CronError, match="bad location"):
        parse("0 0 * * *", "Mars/Olympus_Mons")


def test_missed_runs() -> None:
    hourly = parse("0 * * * *")
    created = _utc(2026, 1, 1, 10, 0)
    # nothing due yet
    assert most_recent_schedule_time(hourly, created, _utc(2026, 1, 1, 10, 59)) == (None, 0)
    assert most_recent_schedule_time(hourly, created, _utc(2026, 1, 1, 11, 0)) == (
        _utc(2026, 1, 1, 11),
        1,
    )
    # 11:00, 12:00, 13:00 missed; the most recent one runs
    recent, missed = most_recent_schedule_time(hourly, created, _utc(2026, 1, 1, 13, 30))
    assert (recent, missed) == (_utc(2026, 1, 1, 13), 3)
    every_minute = parse("* * * * *")
    recent, missed = most_recent_schedule_time(every_minute, created, _utc(2026, 1, 3, 10, 0))
    assert recent == _utc(2026, 1, 3, 10, 0) and missed > 100
    # an irregular schedule still finds the exact most recent time
    irregular = parse("30 6-16/4 * * 1-5")
    recent, _ = most_recent_schedule_time(irregular, _utc(2026, 1, 1), _utc(2026, 1, 9, 12))
    assert recent == _utc(2026, 1, 9, 10, 30)


def _cronjob_obj(**spec: Any) -> dict[str, Any]:
    status = spec.pop("status", {})
    return {
        "metadata": {"name": "cj", "creationTimestamp": "2026-01-01T10:00:00Z"},
        "spec": {"schedule": "0 * * * *", **spec},
        "status": status,
    }


def test_scheduled_time_and_requeue_delay() -> None:
    hourly = parse("0 * * * *")
    now = _utc(2026, 1, 1, 13, 30)
    assert scheduled_time(_cronjob_obj(), hourly, now) == (_utc(2026, 1, 1, 13), 3)
    # startingDeadlineSeconds: nothing older than now - 600 s is considered
    assert scheduled_time(_cronjob_obj(startingDeadlineSeconds=600), hourly, now) == (None, 0)
    done = _cronjob_obj(status={"lastScheduleTime": "2026-01-01T13:00:00Z"})
    assert scheduled_time(done, hourly, now) == (None, 0)
    assert next_schedule_delay(done, hourly, now) == pytest.approx(30 * 60 + 0.1)
    # overdue: the next time after the most recent one
    assert next_schedule_delay(_cronjob_obj(), hourly, now) == pytest.approx(30 * 60 + 0.1)
    assert job_name("cj", _utc(2026, 1, 1, 13)) == "cj-29454540"
    assert int(_utc(2026, 1, 1, 13).timestamp()) == 29454540 * 60


# ---------------------------------------------------------------------- against an API server


def _minute_after(t: float) -> float:
    return (int(t) // 60 + 1) * 60


@pytest.fixture
def clock() -> FakeClock:
    # the API server stamps creationTimestamp in real time: start the fake wall clock now
    return FakeClock(wall_start=datetime.now(UTC).timestamp())


@pytest.fixture
async def manager(url: str, token: str, clock: FakeClock) -> AsyncIterator[ControllerManager]:
    async with running_controller_manager(
        url, token, controllers=("cronjob-controller",), clock=clock
    ) as m:
        yield m


async def _until(
    check: Callable[[], Awaitable[bool]], clock: FakeClock, *, within: float = 15.0
) -> None:
    """Poll ``check``; fake time creeps on by 10 ms per poll, so retries after a conflict (5 ms
    back-off on the fake clock) happen, while minute boundaries only come from `_tick`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await check():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        clock.advance(0.01)
        await asyncio.sleep(0.02)


def _cronjob(name: str, schedule: str = "* * * * *", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name},
        "spec": {
            "schedule": schedule,
            "jobTemplate": {
                "metadata": {"labels": {"team": "a"}, "annotations": {"note": "x"}},
                "spec": {
                    "template": {
                        "spec": {
                            "restartPolicy": "Never",
                            "containers": [{"name": "c", "image": "busybox:1.36"}],
                        }
                    }
                },
            },
            **spec,
        },
    }


async def _jobs(api: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    r = await api.get(JOBS)
    r.raise_for_status()
    return {
        j["metadata"]["name"]: j
        for j in r.json()["items"]
        if not j["metadata"].get("deletionTimestamp")
    }


async def _cj(api: httpx.AsyncClient, name: str) -> dict[str, Any]:
    r = await api.get(f"{CRONJOBS}/{name}")
    r.raise_for_status()
    obj: dict[str, Any] = r.json()
    return obj


async def _reasons(api: httpx.AsyncClient, name: str) -> list[str]:
    r = await api.get(EVENTS, params={"fieldSelector": f"involvedObject.name={name}"})
    r.raise_for_status()
    return [e["reason"] for e in r.json()["items"]]


async def _complete(api: httpx.AsyncClient, name: str, when: float, ok: bool = True) -> None:
    stamp = datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    r = await api.get(f"{JOBS}/{name}")
    r.raise_for_status()
    job = r.json()
    job["status"] = {
        "startTime": stamp,
        "conditions": [
            {
                "type": "SuccessCriteriaMet" if ok else "FailureTarget",
                "status": "True",
                "lastTransitionTime": stamp,
            },
            {"type": "Complete" if ok else "Failed", "status": "True", "lastTransitionTime": stamp},
        ],
    }
    if ok:
        job["status"]["completionTime"] = stamp
        job["status"]["succeeded"] = 1
    else:
        job["status"]["failed"] = 1
    r = await api.put(f"{JOBS}/{name}/status", json=job)
    r.raise_for_status()


async def _tick(
    clock: FakeClock,
    api: httpx.AsyncClient,
    expect: Callable[[Any], bool],
    *,
    requeued: bool = True,
) -> Any:
    """Move the fake clock to the next minute boundary (+1 s) and wait for ``expect(jobs)``.

    With ``requeued``, first wait until the controller sleeps towards that minute (a worker that
    has not started its clock sleep yet would otherwise measure from the new time)."""
    target = clock.monotonic() + _minute_after(clock.time()) - clock.time() + 1
    if requeued:

        async def sleeping() -> bool:
            deadline = clock.next_deadline()
            return deadline is not None and deadline <= target

        await _until(sleeping, clock)
    clock.set(target)
    jobs: dict[str, dict[str, Any]] = {}

    async def check() -> bool:
        nonlocal jobs
        jobs = await _jobs(api)
        return bool(expect(jobs))

    await _until(check, clock)
    return jobs


def _minute_name(name: str, clock: FakeClock) -> str:
    return f"{name}-{int(clock.time()) // 60}"


@pytest.mark.usefixtures("manager")
async def test_cronjob_forbid_replace_and_history(api: httpx.AsyncClient, clock: FakeClock) -> None:
    r = await api.post(
        CRONJOBS,
        json=_cronjob("tick", concurrencyPolicy="Forbid", successfulJobsHistoryLimit=1),
    )
    assert r.status_code == 201, r.text
    cj_uid = r.json()["metadata"]["uid"]
    jobs = await _tick(clock, api, lambda js: len(js) == 1)
    first = _minute_name("tick", clock)
    job = jobs[first]
    assert job["metadata"]["labels"] == {"team": "a"}
    scheduled = datetime.fromtimestamp(int(clock.time()) // 60 * 60, UTC)
    assert job["metadata"]["annotations"] == {
        "note": "x",
        "batch.kubernetes.io/cronjob-scheduled-timestamp": scheduled.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    (ref,) = job["metadata"]["ownerReferences"]
    assert (ref["kind"], ref["name"], ref["uid"], ref["controller"]) == (
        "CronJob",
        "tick",
        cj_uid,
        True,
    )

    async def active_is(names: list[str]) -> bool:
        status = (await _cj(api, "tick")).get("status") or {}
        return [a["name"] for a in status.get("active") or []] == names

    await _until(lambda: active_is([first]), clock)
    status = (await _cj(api, "tick"))["status"]
    assert status["lastScheduleTime"] == scheduled.strftime("%Y-%m-%dT%H:%M:%SZ")

    # Forbid: the next minute passes without a new Job while the first one runs
    await _tick(clock, api, lambda js: True)

    async def refused() -> bool:
        return "JobAlreadyActive" in await _reasons(api, "tick")

    await _until(refused, clock)
    assert list(await _jobs(api)) == [first]

    # it completes: SawCompletedJob, and the run Forbid held back starts at once (no
    # startingDeadlineSeconds: a late start is still a start), named after its own minute
    held = _minute_name("tick", clock)
    await _complete(api, first, clock.time())
    await _until(lambda: active_is([held]), clock)
    second = held
    assert set(await _jobs(api)) == {first, second}
    assert "SawCompletedJob" in await _reasons(api, "tick")

    async def last_success() -> bool:
        return bool(((await _cj(api, "tick")).get("status") or {}).get("lastSuccessfulTime"))

    await _until(last_success, clock)

    # history limit 1: once the second completes, the first is deleted
    await _complete(api, second, clock.time())
    await _until(lambda: active_is([]), clock)

    async def pruned() -> bool:
        return list(await _jobs(api)) == [second]

    await _until(pruned, clock)

    # Replace: a running Job is deleted for the next one
    r = await api.patch(
        f"{CRONJOBS}/tick", json={"spec": {"concurrencyPolicy": "Replace"}}, headers=MERGE
    )
    r.raise_for_status()
    await _tick(clock, api, lambda js: len(js) == 2)
    third = _minute_name("tick", clock)
    await _until(lambda: active_is([third]), clock)
    await _tick(clock, api, lambda js: third not in js and len(js) == 2)
    fourth = _minute_name("tick", clock)
    await _until(lambda: active_is([fourth]), clock)
    assert "SuccessfulDelete" in await _reasons(api, "tick")

    # suspend: no new runs
    r = await api.patch(f"{CRONJOBS}/tick", json={"spec": {"suspend": True}}, headers=MERGE)
    r.raise_for_status()

    async def suspended_seen() -> bool:
        return bool((await _cj(api, "tick"))["spec"]["suspend"])

    await _until(suspended_seen, clock)
    before = set(await _jobs(api))
    await _tick(clock, api, lambda js: True, requeued=False)
    # the suspended CronJob's sync writes nothing; a second CronJob proves the controller ran
    r = await api.post(CRONJOBS, json=_cronjob("probe"))
    assert r.status_code == 201, r.text
    await _tick(clock, api, lambda js: any(n.startswith("probe-") for n in js))
    assert {n for n in await _jobs(api) if n.startswith("tick-")} == before
