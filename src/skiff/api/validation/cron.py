"""Cron schedule parsing as CronJob validation needs it (standard 5-field specs + descriptors).

Kubernetes validates ``spec.schedule`` with ``robfig/cron/v3``'s ``ParseStandard``; this module
accepts the same language and reports errors in the same words, so ``kubectl`` users see the
message they would from a real cluster. ``next_fire`` is left to the CronJob controller.
"""

from __future__ import annotations

import re

__all__ = ["CronError", "parse_schedule"]


class CronError(ValueError):
    """The schedule string is not valid; ``str(err)`` is the robfig/cron message."""


_DESCRIPTORS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
_MONTHS = {
    name: i + 1
    for i, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
    )
}
_DOWS = {name: i for i, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
# (min, max, names) for minute, hour, day of month, month, day of week.
_BOUNDS: tuple[tuple[int, int, dict[str, int]], ...] = (
    (0, 59, {}),
    (0, 23, {}),
    (1, 31, {}),
    (1, 12, _MONTHS),
    (0, 6, _DOWS),
)
_DURATION_RE = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?(?:ns|us|µs|ms|s|m|h))+")


def _parse_int(expr: str) -> int:
    if not re.fullmatch(r"[+-]?[0-9]+", expr):
        raise CronError(
            f'failed to parse int from {expr}: strconv.Atoi: parsing "{expr}": invalid syntax'
        )
    n = int(expr)
    if n < 0:
        raise CronError(f"negative number ({n}) not allowed: {expr}")
    return n


def _parse_int_or_name(expr: str, names: dict[str, int]) -> int:
    if expr.lower() in names:
        return names[expr.lower()]
    return _parse_int(expr)


def _parse_range(expr: str, lo: int, hi: int, names: dict[str, int]) -> set[int]:
    range_and_step = expr.split("/")
    low_and_high = range_and_step[0].split("-")
    single_digit = len(low_and_high) == 1
    if low_and_high[0] in ("*", "?"):
        start, end = lo, hi
    else:
        start = _parse_int_or_name(low_and_high[0], names)
        if len(low_and_high) == 1:
            end = start
        elif len(low_and_high) == 2:
            end = _parse_int_or_name(low_and_high[1], names)
        else:
            raise CronError(f"too many hyphens: {expr}")
    if len(range_and_step) == 1:
        step = 1
    elif len(range_and_step) == 2:
        step = _parse_int(range_and_step[1])
        # "N/step" means "from N to the maximum, every step".
        if single_digit and low_and_high[0] not in ("*", "?"):
            end = hi
    else:
        raise CronError(f"too many slashes: {expr}")
    if start < lo:
        raise CronError(f"beginning of range ({start}) below minimum ({lo}): {expr}")
    if end > hi:
        raise CronError(f"end of range ({end}) above maximum ({hi}): {expr}")
    if start > end:
        raise CronError(f"beginning of range ({start}) beyond end of range ({end}): {expr}")
    if step == 0:
        raise CronError(f"step of range should be a positive number: {expr}")
    return set(range(start, end + 1, step))


def parse_schedule(spec: str) -> list[set[int]] | None:
    """Parse a standard cron spec; returns the five value sets (None for ``@every``).

    Raises ``CronError`` with robfig/cron's wording when the spec is malformed.
    """
    spec = spec.strip()
    if not spec:
        raise CronError("empty spec string")
    if spec.startswith(("TZ=", "CRON_TZ=")):
        _, _, spec = spec.partition(" ")
        spec = spec.strip()
    if spec.startswith("@"):
        if spec in _DESCRIPTORS:
            return None
        if spec.startswith("@every "):
            duration = spec[len("@every ") :].strip()
            if not _DURATION_RE.fullmatch(duration):
                raise CronError(
                    f'failed to parse duration {spec}: time: invalid duration "{duration}"'
                )
            return None
        raise CronError(f"unrecognized descriptor: {spec}")
    fields = spec.split()
    if len(fields) != 5:
        raise CronError(f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]")
    out: list[set[int]] = []
    for field, (lo, hi, names) in zip(fields, _BOUNDS, strict=True):
        values: set[int] = set()
        for part in field.split(","):
            values |= _parse_range(part, lo, hi, names)
        out.append(values)
    return out
