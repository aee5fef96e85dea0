"""Cron schedules for the CronJob controller: when a schedule fires next, and which run was missed.

Not a controller (no informers, no I/O). Parsing reuses the API's validator
(`skiff.api.validation.cron.parse_schedule`, robfig/cron v3 ``ParseStandard``'s language), so
what the API server accepts is exactly what runs here. Written here rather than taken from
croniter (in maintenance mode, and with different DST and day-of-month/day-of-week rules than
robfig/cron, which Kubernetes uses).

Semantics follow robfig/cron v3 ``SpecSchedule.Next`` as Kubernetes 1.32 uses it:

- day of month and day of week: when either field starts with ``*`` or ``?`` (without a step
  above 1) a day must match both, otherwise either (classic cron);
- times are wall-clock times in the schedule's zone: a time skipped by a DST jump forward does
  not fire that day; a time repeated by a jump back fires at both instants;
- ``@every <duration>`` fires every duration after the previous time, whole seconds;
- a schedule that never fires within five years has no next time (``None``).

`most_recent_schedule_time` is Kubernetes' ``mostRecentScheduleTime``
(pkg/controller/cronjob/utils.go): the latest unmet run not after ``now``, and how many were
missed (approximated by the interval between the next two runs, as upstream does).
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from skiff.api.validation.cron import CronError, parse_schedule

__all__ = [
    "CronError",
    "Schedule",
    "most_recent_schedule_time",
    "parse",
]

_DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]*)?)(ns|us|µs|ms|s|m|h)")
_YEARS_AHEAD = 5
_MAX_DST_SHIFT = timedelta(hours=3)
_HOUR = timedelta(hours=1)


def _go_duration(text: str) -> float:
    total = 0.0
    pos = 0
    for m in _DURATION_PART.finditer(text):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos != len(text) or not text:
        raise CronError(f'failed to parse duration @every {text}: time: invalid duration "{text}"')
    return total


def _wall(instant: datetime, zone: tzinfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def _star(field: str) -> bool:
    """robfig's ``starBit``: some part of the field is ``*``/``?`` with no step above 1."""
    for part in field.split(","):
        base, _, step = part.partition("/")
        if base in ("*", "?") and (not step or step == "1"):
            return True
    return False


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule in a time zone."""

    minutes: frozenset[int] = frozenset()
    hours: frozenset[int] = frozenset()
    days: frozenset[int] = frozenset()
    months: frozenset[int] = frozenset()
    weekdays: frozenset[int] = frozenset()  # 0 = Sunday
    day_star: bool = True
    zone: tzinfo = UTC
    every: float | None = None
    """``@every``: seconds between runs (then the sets are unused)."""

    def _day_matches(self, d: date) -> bool:
        dom = d.day in self.days
        dow = (d.isoweekday() % 7) in self.weekdays
        return dom and dow if self.day_star else dom or dow

    def _instants(self, wall: datetime) -> list[datetime]:
        """The UTC instants at which zone-local ``wall`` (naive) occurs: none in a DST gap,
        two in a DST overlap."""
        out: list[datetime] = []
        for fold in (0, 1):
            local = wall.replace(tzinfo=self.zone, fold=fold)
            instant = local.astimezone(UTC)
            back = instant.astimezone(self.zone).replace(tzinfo=None)
            if back == wall and instant not in out:
                out.append(instant)
        return sorted(out)

    def _walls_from(self, start: datetime) -> Iterator[datetime]:
        """Matching zone-local wall times (naive, whole minutes) from ``start`` on, ascending."""
        hours = sorted(self.hours)
        minutes = sorted(self.minutes)
        day = start.date()
        limit = date(min(start.year + _YEARS_AHEAD, 9999), 12, 31)
        while day <= limit:
            if day.month in self.months and self._day_matches(day):
                for h in hours:
                    for m in minutes:
                        wall = datetime(day.year, day.month, day.day, h, m)
                        if wall >= start:
                            yield wall
            day += timedelta(days=1)

    def next(self, after: datetime) -> datetime | None:
        """The first run strictly after ``after`` (aware), as an aware UTC datetime."""
        after = after.astimezone(UTC)
        if self.every is not None:
            base = after.replace(microsecond=0)
            return base + timedelta(seconds=self.every)
        local = after.astimezone(self.zone).replace(tzinfo=None, second=0, microsecond=0)
        # Wall times earlier than ``after``'s can still come later only in a DST overlap (the
        # clock goes back): near a change of offset look back and ahead by the largest shift.
        offsets = {(after + k * _HOUR).astimezone(self.zone).utcoffset() for k in range(-3, 4)}
        slack = _MAX_DST_SHIFT if len(offsets) > 1 else timedelta(0)
        best: datetime | None = None
        for wall in self._walls_from(local - slack):
            if best is not None and wall > _wall(best, self.zone) + slack:
                break
            for instant in self._instants(wall):
                if instant > after and (best is None or instant < best):
                    best = instant
        return best


def parse(schedule: str, time_zone: str | None = None) -> Schedule:
    """Parse ``schedule`` in ``time_zone`` (IANA name; None or "" = UTC). A ``TZ=``/``CRON_TZ=``
    prefix names the zone too (legacy; the API refuses it for new objects). Raises `CronError`
    (also for an unknown zone)."""
    spec = schedule.strip()
    zone_name = time_zone or ""
    if spec.startswith(("TZ=", "CRON_TZ=")):
        prefix, _, spec = spec.partition(" ")
        zone_name = prefix.partition("=")[2]
        spec = spec.strip()
    try:
        zone: tzinfo = zoneinfo.ZoneInfo(zone_name) if zone_name else UTC
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as e:
        raise CronError(f"provided bad location {zone_name}: {e}") from e
    parse_schedule(spec)  # robfig's errors
    if spec.startswith("@every "):
        seconds = _go_duration(spec[len("@every ") :].strip())
        # robfig: below one second rounds up to one; otherwise whole seconds
        return Schedule(zone=zone, every=max(1.0, float(int(seconds))))
    spec = _DESCRIPTORS.get(spec, spec)
    sets = parse_schedule(spec)
    assert sets is not None
    fields = spec.split()
    return Schedule(
        minutes=frozenset(sets[0]),
        hours=frozenset(sets[1]),
        days=frozenset(sets[2]),
        months=frozenset(sets[3]),
        weekdays=frozenset(sets[4]),
        day_star=_star(fields[2]) or _star(fields[4]),
        zone=zone,
    )


def most_recent_schedule_time(
    schedule: Schedule, earliest: datetime, now: datetime
) -> tuple[datetime | None, int]:
    """``(most recent run in (earliest, now], number of missed runs)`` - upstream's
    ``mostRecentScheduleTime`` after ``earliest`` was chosen (the last schedule time, else the
    creation time, moved up to ``now - startingDeadlineSeconds``). The count is upstream's
    approximation (elapsed time over the interval between the next two runs, plus one); 0 when
    nothing is due. Raises `CronError` for a schedule whose next two runs are under a second
    apart or that never fires."""
    t1 = schedule.next(earliest)
    if t1 is None or now < t1:
        return None, 0
    t2 = schedule.next(t1)
    if t2 is None or now < t2:
        return t1, 1
    interval = round((t2 - t1).total_seconds())
    if interval < 1:
        raise CronError("time difference between two schedules is less than 1 second")
    missed = int((now - t1).total_seconds()) // interval + 1
    # start a little before the estimate, then step with the schedule itself (irregular
    # schedules such as "30 6-16/4 * * 1-5" are not evenly spaced)
    t: datetime | None = schedule.next(t1 + timedelta(seconds=(missed - 2) * interval))
    recent: datetime | None = None
    while t is not None and t <= now:
        recent = t
        t = schedule.next(t)
    return recent, missed
