"""batch/v1 defaulting (``pkg/apis/batch/v1/defaults.go``): Jobs and CronJobs.

Job: completions and parallelism 1 when both are unset (parallelism 1 when only it is),
``backoffLimit`` 6 (the int32 maximum with ``backoffLimitPerIndex``), ``completionMode``
NonIndexed, ``suspend`` and ``manualSelector`` false, ``podReplacementPolicy``
TerminatingOrFailed (Failed with a ``podFailurePolicy``), the Job's labels from its
template when it has none. CronJob: ``concurrencyPolicy`` Allow, ``suspend`` false,
history limits 3 and 1, and its job template defaulted as a Job spec.
"""

from __future__ import annotations

from kubelite.api.defaults import _default_ptr, _ensure, _template
from kubelite.api.meta import JSON

INT32_MAX = 2**31 - 1


def default_job_spec(spec: JSON) -> None:
    """The defaults of a ``JobSpec`` (in a Job or a CronJob's job template)."""
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
        spec["parallelism"] = 1
    _default_ptr(spec, "parallelism", 1)
    if spec.get("backoffLimit") is None:
        spec["backoffLimit"] = (INT32_MAX if spec.get("backoffLimitPerIndex") is not None
                                else 6)
    _default_ptr(spec, "completionMode", "NonIndexed")
    _default_ptr(spec, "suspend", False)
    _default_ptr(spec, "manualSelector", False)
    _default_ptr(spec, "podReplacementPolicy",
                 "Failed" if spec.get("podFailurePolicy") else "TerminatingOrFailed")
    policy = spec.get("podFailurePolicy")
    if isinstance(policy, dict):
        for rule in policy.get("rules") or []:
            for pattern in (rule or {}).get("onPodConditions") or []:
                if isinstance(pattern, dict):
                    _default_ptr(pattern, "status", "True")
    _template(spec)


def default_job(obj: JSON) -> None:
    spec = _ensure(obj, "spec")
    if spec is None:
        return
    default_job_spec(spec)
    template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels")
    meta = _ensure(obj, "metadata")
    if meta is not None and template_labels and not meta.get("labels"):
        meta["labels"] = dict(template_labels)
    _ensure(obj, "status")


def default_cron_job(obj: JSON) -> None:
    spec = _ensure(obj, "spec")
    if spec is None:
        return
    _default_ptr(spec, "concurrencyPolicy", "Allow")
    _default_ptr(spec, "suspend", False)
    _default_ptr(spec, "successfulJobsHistoryLimit", 3)
    _default_ptr(spec, "failedJobsHistoryLimit", 1)
    template = _ensure(spec, "jobTemplate")
    if template is not None:
        tmeta = _ensure(template, "metadata")
        if tmeta is not None:
            tmeta.setdefault("creationTimestamp", None)
        job_spec = _ensure(template, "spec")
        if job_spec is not None:
            default_job_spec(job_spec)
    _ensure(obj, "status")
