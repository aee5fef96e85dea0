"""Human-readable durations and RFC 3339 timestamps, as the Kubernetes API prints and parses them.

``human_duration`` and ``short_human_duration`` reproduce apimachinery's
``pkg/util/duration.HumanDuration`` / ``ShortHumanDuration`` (the ``Age`` column of every ``kubectl
get`` table is computed by the server with the first). ``parse_time`` / ``format_time`` /
``format_micro_time`` are the wire forms of ``metav1.Time`` (second precision, always UTC with a
``Z``) and ``metav1.MicroTime`` (six fractional digits).

Pure functions; the printers in ``skiff.api.printers`` build on them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

__all__ = [
    "age",
    "format_micro_time",
    "format_time",
    "human_duration",
    "parse_time",
    "short_human_duration",
]

_NS_PER_SECOND = 1_000_000_000
_NS_PER_MINUTE = 60 * _NS_PER_SECOND
_NS_PER_HOUR = 60 * _NS_PER_MINUTE


def _to_ns(seconds: float | timedelta) -> int:
    if isinstance(seconds, timedelta):
        # timedelta is exact in microseconds; avoid float rounding for long durations.
        return (
            seconds.days * 86_400 + seconds.seconds
        ) * _NS_PER_SECOND + seconds.microseconds * 1_000
    return round(seconds * _NS_PER_SECOND)


def _trunc_div(a: int, b: int) -> int:
    """Integer division truncating toward zero, like Go's ``/`` on integers."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def human_duration(seconds: float | timedelta) -> str:
    """A succinct duration with ~2-3 significant figures (``45s``, ``5m3s``, ``3d4h``, ``2y100d``).

    Mirrors ``duration.HumanDuration``: a clock skew of up to one second into the future shows as
    ``0s``; anything further into the future is ``<invalid>``.
    """
    d = _to_ns(seconds)
    secs = _trunc_div(d, _NS_PER_SECOND)
    if secs < -1:
        return "<invalid>"
    if secs < 0:
        return "0s"
    if secs < 60 * 2:
        return f"{secs}s"
    minutes = d // _NS_PER_MINUTE
    if minutes < 10:
        s = (d // _NS_PER_SECOND) % 60
        return f"{minutes}m" if s == 0 else f"{minutes}m{s}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = d // _NS_PER_HOUR
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        years = hours // 24 // 365
        return f"{years}y" if dy == 0 else f"{years}y{dy}d"
    return f"{hours // 24 // 365}y"


def short_human_duration(seconds: float | timedelta) -> str:
    """One unit only (``45s``, ``5m``, ``3h``, ``12d``, ``2y``), as ``duration.ShortHumanDuration``."""
    d = _to_ns(seconds)
    secs = _trunc_div(d, _NS_PER_SECOND)
    if secs < -1:
        return "<invalid>"
    if secs < 0:
        return "0s"
    if secs < 60:
        return f"{secs}s"
    minutes = d // _NS_PER_MINUTE
    if minutes < 60:
        return f"{minutes}m"
    hours = d // _NS_PER_HOUR
    if hours < 24:
        return f"{hours}h"
    if hours < 24 * 365:
        return f"{hours // 24}d"
    return f"{hours // 24 // 365}y"


# RFC 3339 as Go's time.Parse(time.RFC3339, ...) accepts it: 'T' (or 't'), optional fraction of any
# length, 'Z'/'z' or a numeric offset.
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$"
)


def parse_time(text: str) -> datetime:
    """Parse an RFC 3339 timestamp into an aware UTC ``datetime``.

    Fractions beyond microseconds (Go keeps nanoseconds) are truncated. Raises ``ValueError`` on
    anything else.
    """
    m = _RFC3339.match(text)
    if m is None:
        raise ValueError(f"parsing time {text!r} as RFC3339: invalid format")
    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    frac = m.group(7) or ""
    micro = int((frac + "000000")[:6])
    offset = timedelta(0)
    if not m.group(8):
        offset = timedelta(hours=int(m.group(10)), minutes=int(m.group(11)))
        if m.group(9) == "-":
            offset = -offset
    try:
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC) - offset
    except (ValueError, OverflowError) as err:
        raise ValueError(f"parsing time {text!r}: {err}") from None


def _utc(t: datetime) -> datetime:
    # A naive datetime is taken to be UTC already (the project never stores local times).
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def format_time(t: datetime) -> str:
    """``metav1.Time`` wire form: RFC 3339 in UTC, whole seconds, ``Z`` suffix."""
    return _utc(t).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_micro_time(t: datetime) -> str:
    """``metav1.MicroTime`` wire form: RFC 3339 in UTC with exactly six fractional digits."""
    return _utc(t).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def age(timestamp: str | None, now: datetime) -> str:
    """The ``Age`` cell for an RFC 3339 timestamp: ``<unknown>`` when unset or unparsable.

    Mirrors the printers' ``translateTimestampSince``, which prints ``<unknown>`` for a zero time.
    """
    if not timestamp:
        return "<unknown>"
    try:
        then = parse_time(timestamp)
    except ValueError:
        return "<unknown>"
    return human_duration(_utc(now) - then)
