"""CronJob schedule parsing (``skiff.api.validation.cron``): accepted language and error texts.

Covers 5-field specs with lists, ranges, steps and names, the ``@`` descriptors and ``@every``;
excludes computing fire times (the CronJob controller's job).
"""

from __future__ import annotations

import pytest

from skiff.api.validation.cron import CronError, parse_schedule

VALID = [
    "* * * * *",
    "*/15 0-6,22 1 jan-mar mon-fri",
    "0 12 * * SUN",
    "5/10 * ? * *",
    "@hourly",
    "@midnight",
    "@every 1h30m",
    "TZ=UTC 0 0 * * *",
]


@pytest.mark.parametrize("spec", VALID)
def test_valid_schedules(spec: str) -> None:
    parse_schedule(spec)


def test_parsed_values() -> None:
    fields = parse_schedule("*/20 1-3 * feb mon,wed")
    assert fields is not None
    assert fields[0] == {0, 20, 40}
    assert fields[1] == {1, 2, 3}
    assert fields[3] == {2}
    assert fields[4] == {1, 3}
    # "N/step" runs from N to the field maximum.
    minute = parse_schedule("50/5 * * * *")
    assert minute is not None and minute[0] == {50, 55}


INVALID = [
    ("", "empty spec string"),
    ("* * * * * *", "expected exactly 5 fields, found 6: [* * * * * *]"),
    ("x * * * *", 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'),
    ("* 24 * * *", "end of range (24) above maximum (23): 24"),
    ("* * 0 * *", "beginning of range (0) below minimum (1): 0"),
    ("5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"),
    ("*/0 * * * *", "step of range should be a positive number: */0"),
    ("1-2-3 * * * *", "too many hyphens: 1-2-3"),
    ("*/2/3 * * * *", "too many slashes: */2/3"),
    ("@often", "unrecognized descriptor: @often"),
    ("@every soon", 'failed to parse duration @every soon: time: invalid duration "soon"'),
]


@pytest.mark.parametrize(("spec", "message"), INVALID, ids=[m for _, m in INVALID])
def test_invalid_schedules(spec: str, message: str) -> None:
    with pytest.raises(CronError) as exc:
        parse_schedule(spec)
    assert str(exc.value) == message
