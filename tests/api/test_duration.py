"""Go duration humanizing and RFC 3339 time helpers (``skiff.api.duration``).

Covers ``human_duration`` / ``short_human_duration`` against the boundaries of apimachinery's
``HumanDuration`` / ``ShortHumanDuration``, the ``Age`` cell helper, and parsing/formatting of
``metav1.Time`` / ``metav1.MicroTime``. Excludes the printers that use them (test_printers.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from skiff.api.duration import (
    age,
    format_micro_time,
    format_time,
    human_duration,
    parse_time,
    short_human_duration,
)

M = 60
H = 60 * M
D = 24 * H
Y = 365 * D


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        pytest.param(-2.0, "<invalid>", id="two-seconds-in-future"),
        pytest.param(-1.5, "0s", id="skew-tolerated"),
        pytest.param(-1.0, "0s", id="minus-one-second"),
        pytest.param(0, "0s", id="zero"),
        pytest.param(0.9, "0s", id="sub-second"),
        pytest.param(1, "1s", id="one-second"),
        pytest.param(45, "45s", id="45s"),
        pytest.param(119.99, "119s", id="just-under-2m"),
        pytest.param(2 * M, "2m", id="2m-exact"),
        pytest.param(2 * M + 1, "2m1s", id="2m1s"),
        pytest.param(5 * M + 3, "5m3s", id="5m3s"),
        pytest.param(10 * M - 1, "9m59s", id="9m59s"),
        pytest.param(10 * M, "10m", id="10m"),
        pytest.param(25 * M + 30, "25m", id="25m-drops-seconds"),
        pytest.param(3 * H - 1, "179m", id="179m"),
        pytest.param(3 * H, "3h", id="3h"),
        pytest.param(3 * H + 4 * M, "3h4m", id="3h4m"),
        pytest.param(8 * H - 1, "7h59m", id="7h59m"),
        pytest.param(8 * H, "8h", id="8h"),
        pytest.param(15 * H + 59 * M, "15h", id="15h-drops-minutes"),
        pytest.param(48 * H - 1, "47h", id="47h"),
        pytest.param(2 * D, "2d", id="2d"),
        pytest.param(3 * D + 4 * H, "3d4h", id="3d4h"),
        pytest.param(8 * D - 1, "7d23h", id="7d23h"),
        pytest.param(8 * D, "8d", id="8d"),
        pytest.param(45 * D + 5 * H, "45d", id="45d"),
        pytest.param(2 * Y - 1, "729d", id="729d"),
        pytest.param(2 * Y, "2y", id="2y"),
        pytest.param(2 * Y + 100 * D, "2y100d", id="2y100d"),
        pytest.param(8 * Y - 1, "7y364d", id="7y364d"),
        pytest.param(8 * Y, "8y", id="8y"),
        pytest.param(10 * Y + 200 * D, "10y", id="10y"),
    ],
)
def test_human_duration(seconds: float, expected: str) -> None:
    assert human_duration(seconds) == expected
    assert human_duration(timedelta(seconds=seconds)) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        pytest.param(-2, "<invalid>", id="future"),
        pytest.param(-1, "0s", id="skew"),
        pytest.param(59, "59s", id="59s"),
        pytest.param(60, "1m", id="1m"),
        pytest.param(H - 1, "59m", id="59m"),
        pytest.param(H, "1h", id="1h"),
        pytest.param(D - 1, "23h", id="23h"),
        pytest.param(D, "1d", id="1d"),
        pytest.param(Y - 1, "364d", id="364d"),
        pytest.param(3 * Y + 5 * D, "3y", id="3y"),
    ],
)
def test_short_human_duration(seconds: float, expected: str) -> None:
    assert short_human_duration(seconds) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("2024-03-05T07:08:09Z", datetime(2024, 3, 5, 7, 8, 9, tzinfo=UTC), id="utc"),
        pytest.param(
            "2024-03-05t07:08:09z", datetime(2024, 3, 5, 7, 8, 9, tzinfo=UTC), id="lowercase"
        ),
        pytest.param(
            "2024-03-05T07:08:09.123456Z",
            datetime(2024, 3, 5, 7, 8, 9, 123456, tzinfo=UTC),
            id="micro",
        ),
        pytest.param(
            "2024-03-05T07:08:09.123456789Z",
            datetime(2024, 3, 5, 7, 8, 9, 123456, tzinfo=UTC),
            id="nano-truncated",
        ),
        pytest.param(
            "2024-03-05T09:08:09+02:00", datetime(2024, 3, 5, 7, 8, 9, tzinfo=UTC), id="offset"
        ),
        pytest.param(
            "2024-03-05T00:30:00-01:00",
            datetime(2024, 3, 5, 1, 30, tzinfo=UTC),
            id="negative-offset",
        ),
    ],
)
def test_parse_time(text: str, expected: datetime) -> None:
    parsed = parse_time(text)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2024-03-05",
        "2024-03-05 07:08:09Z",
        "2024-03-05T07:08:09",
        "2024-13-05T07:08:09Z",
        "garbage",
    ],
    ids=["empty", "date-only", "space", "no-zone", "bad-month", "garbage"],
)
def test_parse_time_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="parsing time"):
        parse_time(text)


def test_format_time_is_utc_seconds_with_z() -> None:
    t = datetime(2024, 3, 5, 9, 8, 9, 999999, tzinfo=timezone(timedelta(hours=2)))
    assert format_time(t) == "2024-03-05T07:08:09Z"
    assert format_micro_time(t) == "2024-03-05T07:08:09.999999Z"
    # A naive datetime is taken as UTC.
    assert format_time(datetime(2024, 1, 1)) == "2024-01-01T00:00:00Z"
    assert format_micro_time(datetime(2024, 1, 1)) == "2024-01-01T00:00:00.000000Z"


def test_round_trip() -> None:
    text = "2030-12-31T23:59:59Z"
    assert format_time(parse_time(text)) == text


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        pytest.param(None, "<unknown>", id="unset"),
        pytest.param("", "<unknown>", id="empty"),
        pytest.param("not-a-time", "<unknown>", id="unparsable"),
        pytest.param("2025-01-01T11:54:57Z", "5m3s", id="5m3s"),
        pytest.param("2025-01-01T12:00:05Z", "<invalid>", id="future"),
    ],
)
def test_age(timestamp: str | None, expected: str) -> None:
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert age(timestamp, now) == expected
