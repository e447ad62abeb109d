"""batch/v1 validation (``pkg/apis/batch/validation``): Jobs and CronJobs.

A Job's selector is required and matches its template; when the selector was generated
(``manualSelector`` not true) the template carries the ``controller-uid`` labels of the
Job's uid. The template's restart policy is ``OnFailure`` or ``Never``. On update the
selector, the template, ``completionMode`` and ``completions`` (outside the elastic
Indexed case) keep their values. A CronJob needs a parseable schedule and a job
template that would make a valid Job.
"""

from __future__ import annotations

import zoneinfo
from typing import Any

from croniter import croniter

from kubelite.api import errors
from kubelite.api.meta import JSON, dig
from kubelite.api.names import FIELD_IMMUTABLE_MSG
from kubelite.api.selectors import label_selector_from_dict
from kubelite.api.validation.apps import _template_labels_match, _validate_label_selector
from kubelite.api.validation.core import validate_pod_template
from kubelite.api.validation.field import (
    Errors,
    GoValue,
    dict_at,
    format_label_selector_struct,
    int_at,
    nonnegative,
)

CONTROLLER_UID = "batch.kubernetes.io/controller-uid"
JOB_NAME = "batch.kubernetes.io/job-name"
LEGACY_CONTROLLER_UID = "controller-uid"
LEGACY_JOB_NAME = "job-name"
MAX_PARALLELISM_INDEXED = 100000
MAX_COMPLETIONS_PER_INDEX = 100000
CONCURRENCY_POLICIES = ["Allow", "Forbid", "Replace"]


def generate_selector(job: JSON) -> None:
    """``generateSelector``: label the template with the Job's uid and name and select
    on the uid, unless ``manualSelector`` is true. Labels already set keep their values
    (validation reports a mismatch)."""
    spec = job.get("spec")
    if not isinstance(spec, dict) or spec.get("manualSelector") is True:
        return
    meta = job.get("metadata") or {}
    uid, name = str(meta.get("uid") or ""), str(meta.get("name") or "")
    template = spec.setdefault("template", {})
    if not isinstance(template, dict):
        return
    tmeta = template.setdefault("metadata", {})
    if not isinstance(tmeta, dict):
        return
    labels = tmeta.get("labels")
    if not isinstance(labels, dict):
        labels = tmeta["labels"] = {}
    for key, value in ((LEGACY_CONTROLLER_UID, uid), (LEGACY_JOB_NAME, name),
                       (CONTROLLER_UID, uid), (JOB_NAME, name)):
        labels.setdefault(key, value)
    if spec.get("selector") is None:
        spec["selector"] = {"matchLabels": {CONTROLLER_UID: uid}}


def _has_label(tmeta: JSON, path: str, key: str, value: str, errs: Errors) -> None:
    """``ValidateHasLabel``."""
    labels = tmeta.get("labels") if isinstance(tmeta.get("labels"), dict) else {}
    actual = (labels or {}).get(key)
    if actual is None:
        errs.required(f"{path}.labels", f"must be '{value}'")
    elif actual != value:
        errs.invalid(f"{path}.labels", actual, f"must be '{value}'")


def _validate_generated_selector(job: JSON, errs: Errors) -> None:
    spec = dict_at(job, "spec")
    if spec.get("manualSelector") is True or not isinstance(spec.get("selector"), dict):
        return
    uid = str(dig(job, "metadata", "uid") or "")
    if not uid:
        errs.required("metadata.uid")
    tmeta = dict_at(dict_at(spec, "template"), "metadata")
    _has_label(tmeta, "spec.template.metadata", LEGACY_CONTROLLER_UID, uid, errs)
    _has_label(tmeta, "spec.template.metadata", CONTROLLER_UID, uid, errs)
    selector = spec["selector"]
    try:
        matches = label_selector_from_dict(selector).matches({CONTROLLER_UID: uid})
    except errors.StatusError:
        errs.invalid("spec.selector", GoValue(format_label_selector_struct(selector)),
                     "invalid label selector.")
        return
    if not matches:
        errs.invalid("spec.selector", GoValue(format_label_selector_struct(selector)),
                     "`selector` not auto-generated")


def validate_job_spec(spec: JSON, path: str, errs: Errors) -> None:
    """``validateJobSpec`` (also for a CronJob's job template)."""
    for key in ("parallelism", "completions", "activeDeadlineSeconds", "backoffLimit",
                "ttlSecondsAfterFinished", "backoffLimitPerIndex", "maxFailedIndexes"):
        nonnegative(int_at(spec, key), f"{path}.{key}", errs)
    mode = spec.get("completionMode")
    if mode is not None:
        if mode not in ("NonIndexed", "Indexed"):
            errs.not_supported(f"{path}.completionMode", mode, ["NonIndexed", "Indexed"])
        elif mode == "Indexed":
            if spec.get("completions") is None:
                errs.required(f"{path}.completions", "when completion mode is Indexed")
            parallelism = int_at(spec, "parallelism")
            if parallelism is not None and parallelism > MAX_PARALLELISM_INDEXED:
                errs.invalid(f"{path}.parallelism", parallelism,
                             f"must be less than or equal to {MAX_PARALLELISM_INDEXED} "
                             "when completion mode is Indexed")
    if spec.get("backoffLimitPerIndex") is not None and mode != "Indexed":
        errs.forbidden(f"{path}.backoffLimitPerIndex",
                       "requires indexed completion mode")
    if spec.get("maxFailedIndexes") is not None and spec.get("backoffLimitPerIndex") is None:
        errs.required(f"{path}.backoffLimitPerIndex", "when maxFailedIndexes is specified")
    _validate_pod_failure_policy(spec, f"{path}.podFailurePolicy", errs)
    if spec.get("successPolicy") is not None and mode != "Indexed":
        errs.invalid(f"{path}.successPolicy", GoValue("<successPolicy>"),
                     "requires indexed completion mode")
    policy = spec.get("podReplacementPolicy")
    if policy is not None:
        if policy not in ("TerminatingOrFailed", "Failed"):
            errs.not_supported(f"{path}.podReplacementPolicy", policy,
                               ["TerminatingOrFailed", "Failed"])
        elif spec.get("podFailurePolicy") and policy != "Failed":
            errs.not_supported(f"{path}.podReplacementPolicy", policy, ["Failed"])
    selector = spec.get("selector")
    if not isinstance(selector, dict):
        errs.required(f"{path}.selector")
    else:
        _validate_label_selector(selector, f"{path}.selector", errs)
    if _template_labels_match(spec, errs, path):
        template = spec.get("template")
        validate_pod_template(template, f"{path}.template", errs)
        restart = dig(template, "spec", "restartPolicy")
        if restart not in ("OnFailure", "Never"):
            errs.not_supported(f"{path}.template.spec.restartPolicy", restart,
                               ["OnFailure", "Never"])


POD_FAILURE_ACTIONS = ["Count", "FailIndex", "FailJob", "Ignore"]


def _validate_pod_failure_policy(spec: JSON, path: str, errs: Errors) -> None:
    """The rules' actions and exit-code operators (``validatePodFailurePolicy``)."""
    policy = spec.get("podFailurePolicy")
    if not isinstance(policy, dict):
        return
    for i, rule in enumerate(policy.get("rules") or []):
        rpath = f"{path}.rules[{i}]"
        action = (rule or {}).get("action")
        if action not in POD_FAILURE_ACTIONS:
            errs.not_supported(f"{rpath}.action", action, POD_FAILURE_ACTIONS)
        elif action == "FailIndex" and spec.get("backoffLimitPerIndex") is None:
            errs.invalid(f"{rpath}.action", action,
                         "requires the backoffLimitPerIndex to be set")
        codes = (rule or {}).get("onExitCodes")
        has_conditions = bool((rule or {}).get("onPodConditions"))
        if isinstance(codes, dict):
            if has_conditions:
                errs.forbidden(rpath, "specifying both OnExitCodes and OnPodConditions is "
                               "not supported")
            op = codes.get("operator")
            if op not in ("In", "NotIn"):
                errs.not_supported(f"{rpath}.onExitCodes.operator", op, ["In", "NotIn"])
        elif not has_conditions:
            errs.required(rpath, "specifying one of OnExitCodes and OnPodConditions is required")


def validate_job(job: JSON, errs: Errors) -> None:
    """``ValidateJob``: the generated selector, then the spec."""
    _validate_generated_selector(job, errs)
    validate_job_spec(dict_at(job, "spec"), "spec", errs)


def _immutable(new: JSON, old: JSON, key: str, path: str, errs: Errors,
               shown: Any = None) -> None:
    if new.get(key) != old.get(key):
        errs.invalid(path, new.get(key) if shown is None else shown, FIELD_IMMUTABLE_MSG)


def validate_job_update(new: JSON, old: JSON, errs: Errors) -> None:
    """``ValidateJobSpecUpdate``: what a Job keeps once created."""
    ns, os = dict_at(new, "spec"), dict_at(old, "spec")
    sel = ns.get("selector")
    _immutable(ns, os, "selector", "spec.selector", errs, GoValue(
        format_label_selector_struct(sel if isinstance(sel, dict) else None)))
    _immutable(ns, os, "completionMode", "spec.completionMode", errs)
    _immutable(ns, os, "podFailurePolicy", "spec.podFailurePolicy", errs,
               GoValue("<podFailurePolicy>"))
    _immutable(ns, os, "backoffLimitPerIndex", "spec.backoffLimitPerIndex", errs)
    elastic = (ns.get("completionMode") == "Indexed" and ns.get("completions") is not None
               and ns.get("completions") == ns.get("parallelism")
               and os.get("completions") == os.get("parallelism"))
    if ns.get("completions") != os.get("completions") and not elastic:
        if ns.get("completionMode") == "Indexed":
            errs.invalid("spec.completions", ns.get("completions"),
                         "can only be modified in tandem with spec.parallelism")
        else:
            errs.invalid("spec.completions", ns.get("completions"), FIELD_IMMUTABLE_MSG)
    if ns.get("template") != os.get("template") and not os.get("suspend"):
        errs.invalid("spec.template", GoValue("core.PodTemplateSpec{...}"),
                     FIELD_IMMUTABLE_MSG)


def validate_schedule(schedule: Any, path: str, errs: Errors) -> None:
    """A standard five-field cron line or an ``@hourly``-style macro; ``TZ=`` inside the
    schedule is refused as kube refuses it (``timeZone`` is the field for it)."""
    if not isinstance(schedule, str) or not schedule:
        errs.required(path)
        return
    if "TZ=" in schedule or "CRON_TZ=" in schedule:
        errs.invalid(path, schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone "
                     "field instead")
        return
    problem = schedule_problem(schedule)
    if problem is not None:
        errs.invalid(path, schedule, problem)


MACROS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")


def schedule_problem(schedule: str) -> str | None:
    """Why ``schedule`` does not parse, in robfig/cron's words where they are known
    (field count, descriptors), else croniter's; None when it parses."""
    fields = schedule.split()
    if schedule.startswith("@"):
        if schedule.strip() not in MACROS and not schedule.startswith("@every "):
            return f"unrecognized descriptor: {schedule}"
        return None if schedule.strip() in MACROS else "@every is not supported"
    if len(fields) != 5:
        return f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]"
    if not croniter.is_valid(schedule):
        try:
            croniter(schedule)
        except (ValueError, KeyError) as exc:
            return str(exc) or "unparseable schedule"
        return "unparseable schedule"
    return None


def validate_time_zone(tz: Any, path: str, errs: Errors) -> None:
    if tz is None:
        return
    if not isinstance(tz, str) or tz.strip() != tz or not tz:
        errs.invalid(path, tz, "unknown time zone " + str(tz))
        return
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        errs.invalid(path, tz, f"unknown time zone {tz}")


def validate_cron_job(obj: JSON, errs: Errors) -> None:
    """``ValidateCronJobCreate``: name length, schedule, time zone, policy, template."""
    name = str(dig(obj, "metadata", "name") or "")
    if len(name) > 52:
        errs.invalid("metadata.name", name, "must be no more than 52 characters")
    spec = dict_at(obj, "spec")
    validate_schedule(spec.get("schedule"), "spec.schedule", errs)
    validate_time_zone(spec.get("timeZone"), "spec.timeZone", errs)
    policy = spec.get("concurrencyPolicy")
    if policy not in CONCURRENCY_POLICIES:
        if policy is None:
            errs.required("spec.concurrencyPolicy")
        else:
            errs.not_supported("spec.concurrencyPolicy", policy, CONCURRENCY_POLICIES)
    for key in ("startingDeadlineSeconds", "successfulJobsHistoryLimit",
                "failedJobsHistoryLimit"):
        nonnegative(int_at(spec, key), f"spec.{key}", errs)
    job_spec = dict_at(dict_at(spec, "jobTemplate"), "spec")
    if job_spec.get("manualSelector") is True:
        validate_job_spec(job_spec, "spec.jobTemplate.spec", errs)
        return
    # the selector is generated per Job: validate the template without one
    template = dict_at(job_spec, "template")
    validate_pod_template(template, "spec.jobTemplate.spec.template", errs)
    restart = dig(template, "spec", "restartPolicy")
    if restart not in ("OnFailure", "Never"):
        errs.not_supported("spec.jobTemplate.spec.template.spec.restartPolicy", restart,
                           ["OnFailure", "Never"])
    for key in ("parallelism", "completions", "activeDeadlineSeconds", "backoffLimit",
                "ttlSecondsAfterFinished"):
        nonnegative(int_at(job_spec, key), f"spec.jobTemplate.spec.{key}", errs)
