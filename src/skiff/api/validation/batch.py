"""Validation for batch/v1 Job and CronJob (``pkg/apis/batch/validation``)."""

from __future__ import annotations

import zoneinfo
from typing import Any

from skiff.api.field import FieldError

from ._meta import selector_is_empty, selector_matches, validate_label_selector
from ._util import ErrorList, as_dict, immutable, nonnegative
from .cron import CronError, parse_schedule
from .names import DNS1035_LABEL_MAX_LENGTH
from .pod import validate_pod_template

__all__ = [
    "validate_cron_job",
    "validate_job",
    "validate_job_update",
]

# A CronJob's name plus an 11-character suffix names its Jobs, which must stay DNS-1035 labels.
_CRON_JOB_NAME_MAX = DNS1035_LABEL_MAX_LENGTH - 11


def _validate_job_spec(spec: dict[str, Any], path: str, *, in_template: bool) -> ErrorList:
    errs: ErrorList = []
    for key in (
        "parallelism",
        "completions",
        "activeDeadlineSeconds",
        "backoffLimit",
        "ttlSecondsAfterFinished",
        "backoffLimitPerIndex",
        "maxFailedIndexes",
    ):
        errs += nonnegative(spec.get(key), f"{path}.{key}")
    template = as_dict(spec.get("template"))
    labels = as_dict(template.get("metadata")).get("labels")
    selector = spec.get("selector")
    if in_template:
        if spec.get("manualSelector") is True:
            errs.append(FieldError.not_supported(f"{path}.manualSelector", True, ["nil", "false"]))
    elif selector is None:
        errs.append(FieldError.required(f"{path}.selector"))
    else:
        errs += validate_label_selector(selector, f"{path}.selector")
        if not selector_is_empty(selector) and not selector_matches(selector, labels):
            errs.append(
                FieldError.invalid(
                    f"{path}.template.metadata.labels",
                    labels or {},
                    "`selector` does not match template `labels`",
                )
            )
    mode = spec.get("completionMode")
    if mode is not None and mode not in ("NonIndexed", "Indexed"):
        errs.append(
            FieldError.not_supported(f"{path}.completionMode", mode, ["NonIndexed", "Indexed"])
        )
    if mode == "Indexed" and spec.get("completions") is None:
        errs.append(FieldError.required(f"{path}.completions", "when completion mode is Indexed"))
    replacement = spec.get("podReplacementPolicy")
    if replacement is not None and replacement not in ("TerminatingOrFailed", "Failed"):
        errs.append(
            FieldError.not_supported(
                f"{path}.podReplacementPolicy", replacement, ["Failed", "TerminatingOrFailed"]
            )
        )
    if not template:
        errs.append(FieldError.required(f"{path}.template"))
        return errs
    errs += validate_pod_template(template, f"{path}.template")
    policy = as_dict(template.get("spec")).get("restartPolicy")
    if policy not in ("OnFailure", "Never"):
        errs.append(
            FieldError.not_supported(
                f"{path}.template.spec.restartPolicy", policy, ["OnFailure", "Never"]
            )
        )
    return errs


def validate_job(obj: dict[str, Any]) -> ErrorList:
    return _validate_job_spec(as_dict(obj.get("spec")), "spec", in_template=False)


def validate_job_update(new: dict[str, Any], old: dict[str, Any]) -> ErrorList:
    """A Job's selector, template and completion mode never change after creation.

    Upstream lets a suspended Job that never started change scheduling directives of its
    template; skiff keeps the template fully immutable (stricter, never less safe).
    """
    new_spec, old_spec = as_dict(new.get("spec")), as_dict(old.get("spec"))
    errs = immutable(new_spec.get("selector"), old_spec.get("selector"), "spec.selector")
    errs += immutable(new_spec.get("template"), old_spec.get("template"), "spec.template")
    errs += immutable(
        new_spec.get("completionMode"), old_spec.get("completionMode"), "spec.completionMode"
    )
    indexed_elastic = new_spec.get("completionMode") == "Indexed" and new_spec.get(
        "completions"
    ) == new_spec.get("parallelism")
    if not indexed_elastic:
        errs += immutable(
            new_spec.get("completions"), old_spec.get("completions"), "spec.completions"
        )
    return errs


def _validate_time_zone(tz: Any, path: str) -> ErrorList:
    if tz is None:
        return []
    if not isinstance(tz, str) or not tz:
        return [FieldError.invalid(path, tz, "timeZone must be nil or non-empty string")]
    if tz.lower() == "local":
        return [
            FieldError.invalid(
                path,
                tz,
                "timeZone must be an explicit time zone as defined in "
                "https://www.iana.org/time-zones",
            )
        ]
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return [FieldError.invalid(path, tz, f"unknown time zone {tz}")]
    return []


def validate_cron_job(obj: dict[str, Any]) -> ErrorList:
    errs: ErrorList = []
    name = as_dict(obj.get("metadata")).get("name") or ""
    if len(name) > _CRON_JOB_NAME_MAX:
        errs.append(
            FieldError.invalid(
                "metadata.name", name, f"must be no more than {_CRON_JOB_NAME_MAX} characters"
            )
        )
    spec = as_dict(obj.get("spec"))
    schedule = spec.get("schedule") or ""
    time_zone = spec.get("timeZone")
    if not schedule:
        errs.append(FieldError.required("spec.schedule"))
    else:
        if "TZ" in schedule:
            detail = (
                "cannot use both timeZone field and TZ or CRON_TZ in schedule"
                if time_zone is not None
                else "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
            )
            errs.append(FieldError.invalid("spec.schedule", schedule, detail))
        else:
            try:
                parse_schedule(schedule)
            except CronError as exc:
                errs.append(FieldError.invalid("spec.schedule", schedule, str(exc)))
    errs += _validate_time_zone(time_zone, "spec.timeZone")
    policy = spec.get("concurrencyPolicy")
    if policy in (None, ""):
        errs.append(FieldError.required("spec.concurrencyPolicy"))
    elif policy not in ("Allow", "Forbid", "Replace"):
        errs.append(
            FieldError.not_supported(
                "spec.concurrencyPolicy", policy, ["Allow", "Forbid", "Replace"]
            )
        )
    for key in ("startingDeadlineSeconds", "successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        errs += nonnegative(spec.get(key), f"spec.{key}")
    job_template = as_dict(spec.get("jobTemplate"))
    if not job_template:
        errs.append(FieldError.required("spec.jobTemplate"))
    else:
        errs += _validate_job_spec(
            as_dict(job_template.get("spec")), "spec.jobTemplate.spec", in_template=True
        )
    suspend = spec.get("suspend")
    if suspend is not None and not isinstance(suspend, bool):
        errs.append(FieldError.invalid("spec.suspend", suspend, "must be a boolean"))
    return errs
