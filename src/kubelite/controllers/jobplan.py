"""The Job controller's plan: pure, from a Job, its pods and ``now`` to what to do.

Contracts (as kube-controller-manager's job controller, ``syncJob``):
- pods are tracked with the ``batch.kubernetes.io/job-tracking`` finalizer: a finished pod
  that still has it is first recorded by uid in ``status.uncountedTerminatedPods``; only
  once that status is written is its finalizer removed (``remove_finalizers``), and a uid
  whose pod has lost the finalizer (or is gone) moves from there into
  ``status.succeeded`` / ``status.failed``. A pod is therefore counted exactly once, also
  across a restart of the controller (the count is in the stored status, never in memory);
- a pod being deleted that has not succeeded counts as failed (podReplacementPolicy
  TerminatingOrFailed replaces it at once; Failed waits until it is gone);
- the Job meets its failure criteria when a new failure brings ``failed`` above
  ``backoffLimit`` (BackoffLimitExceeded; with restartPolicy OnFailure container restarts
  count too) or when it has been active ``activeDeadlineSeconds`` (DeadlineExceeded); its
  success criteria when ``completions`` pods (Indexed: indexes) succeeded, or, without
  ``completions``, when one pod succeeded and none is active. Meeting them adds
  FailureTarget / SuccessCriteriaMet, deletes the active pods, and once none is left
  running or uncounted, adds Failed / Complete (with ``completionTime``);
- pods are created up to ``parallelism`` (never beyond the work left), after a failure
  only once the back-off has passed: 10 s doubling per failure since the last success,
  capped at 6 minutes, from the last failure's finish time;
- Indexed Jobs create the lowest indexes not succeeded and not running; each pod carries
  the index as annotation and label ``batch.kubernetes.io/job-completion-index``, hostname
  ``JOB-INDEX`` and ``JOB_COMPLETION_INDEX`` in every container's environment;
- a suspended Job deletes its active pods and has condition Suspended; resuming resets
  ``startTime``;
- a finished Job with ``ttlSecondsAfterFinished`` is deleted (``delete_job``) at its finish
  time plus the TTL.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field

from kubelite.api.meta import JSON
from kubelite.api.meta_time import parse_time, rfc3339
from kubelite.controllers.jobpolicy import (
    FAIL_INDEX,
    FAIL_JOB,
    IGNORE,
    format_indexes,
    match_pod_failure_policy,
    matched_success_rule,
    parse_indexes,
)
from kubelite.controllers.pods import is_ready, meta, phase, restart_count, uid

TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
INDEX_KEY = "batch.kubernetes.io/job-completion-index"
INDEX_ENV = "JOB_COMPLETION_INDEX"
FAILURE_COUNT_KEY = "batch.kubernetes.io/job-index-failure-count"
BACKOFF_BASE = 10.0
BACKOFF_MAX = 360.0
MAX_UNCOUNTED = 500

BACKOFF_REASON = "BackoffLimitExceeded"
BACKOFF_MESSAGE = "Job has reached the specified backoff limit"
DEADLINE_REASON = "DeadlineExceeded"
DEADLINE_MESSAGE = "Job was active longer than specified deadline"
COMPLETIONS_REASON = "CompletionsReached"
COMPLETIONS_MESSAGE = "Reached expected number of succeeded pods"


@dataclass(frozen=True)
class Event:
    type: str
    reason: str
    message: str


@dataclass
class JobPlan:
    """What one sync does, in this order: write ``status`` (when it differs from the
    stored one), remove the tracking finalizer from ``remove_finalizers``, delete
    ``delete``, create one pod per entry of ``create`` (an index, or None), record
    ``events``, delete the Job itself when ``delete_job``, and sync again after
    ``requeue_after`` seconds. ``index_failures``: the failures so far of each index
    (with ``backoffLimitPerIndex``), for the annotation of its next pod."""

    status: JSON = field(default_factory=dict)
    remove_finalizers: list[JSON] = field(default_factory=list)
    delete: list[JSON] = field(default_factory=list)
    create: list[int | None] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    delete_job: bool = False
    requeue_after: float | None = None
    index_failures: dict[int, int] = field(default_factory=dict)  # per-index jobs


def spec_of(job: JSON) -> JSON:
    s: JSON = job.get("spec") or {}
    return s


def is_indexed(job: JSON) -> bool:
    return spec_of(job).get("completionMode") == "Indexed"


def has_finalizer(pod: JSON) -> bool:
    return TRACKING_FINALIZER in (meta(pod).get("finalizers") or [])


def pod_index(pod: JSON) -> int | None:
    """The completion index of an Indexed Job's pod (None when missing or malformed)."""
    value = (meta(pod).get("annotations") or {}).get(INDEX_KEY)
    if value is None:
        value = (meta(pod).get("labels") or {}).get(INDEX_KEY)
    try:
        return int(str(value)) if value is not None else None
    except ValueError:
        return None


def finished_condition(job: JSON) -> JSON | None:
    """The Complete or Failed condition when it is True."""
    for c in (job.get("status") or {}).get("conditions") or []:
        if c.get("type") in ("Complete", "Failed") and c.get("status") == "True":
            return dict(c)
    return None


def _condition(status: JSON, kind: str) -> JSON | None:
    for c in status.get("conditions") or []:
        if c.get("type") == kind:
            return dict(c)
    return None


def _true(status: JSON, kind: str) -> bool:
    c = _condition(status, kind)
    return c is not None and c.get("status") == "True"


def _set_condition(status: JSON, kind: str, value: str, reason: str, message: str,
                   now: dt.datetime) -> bool:
    """Set a condition; returns whether it changed (``lastTransitionTime`` on a change of
    status only, as ``ensureJobConditionStatus``)."""
    conds: list[JSON] = [dict(c) for c in status.get("conditions") or []]
    for c in conds:
        if c.get("type") == kind:
            if c.get("status") == value and c.get("reason") == reason \
                    and c.get("message") == message:
                return False
            if c.get("status") != value:
                c["lastTransitionTime"] = rfc3339(now)
            c.update(status=value, reason=reason, message=message,
                     lastProbeTime=rfc3339(now))
            status["conditions"] = conds
            return True
    conds.append({"type": kind, "status": value, "lastProbeTime": rfc3339(now),
                  "lastTransitionTime": rfc3339(now), "reason": reason, "message": message})
    status["conditions"] = conds
    return True


def time_at(value: object) -> dt.datetime | None:
    """An RFC 3339 field as a datetime (None when unset or malformed)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_time(value)
    except ValueError:
        return None


def finish_time(pod: JSON) -> dt.datetime | None:
    """When a pod finished: its last container's finish, else its deletion or creation."""
    status = pod.get("status") or {}
    times = [time_at(((s.get("state") or {}).get("terminated") or {}).get("finishedAt"))
             for s in status.get("containerStatuses") or []]
    known = [t for t in times if t is not None]
    if known:
        return max(known)
    return time_at(meta(pod).get("deletionTimestamp")) or \
        time_at(meta(pod).get("creationTimestamp"))


def is_succeeded(pod: JSON) -> bool:
    return phase(pod) == "Succeeded"


def is_failed(pod: JSON) -> bool:
    """Failed, or being deleted without having succeeded."""
    return phase(pod) == "Failed" or (bool(meta(pod).get("deletionTimestamp"))
                                      and phase(pod) != "Succeeded")


def is_terminating(pod: JSON) -> bool:
    return bool(meta(pod).get("deletionTimestamp")) and phase(pod) not in ("Succeeded",
                                                                           "Failed")


def is_active(pod: JSON) -> bool:
    return phase(pod) not in ("Succeeded", "Failed") and not meta(pod).get("deletionTimestamp")


def backoff_delay(failures: int) -> float:
    """Seconds to wait before a new pod after ``failures`` failures in a row."""
    if failures <= 0:
        return 0.0
    return float(min(BACKOFF_BASE * 2 ** (failures - 1), BACKOFF_MAX))


def failure_count(pod: JSON) -> int:
    """The failures of its index before this pod (``job-index-failure-count``)."""
    try:
        return int(str((meta(pod).get("annotations") or {}).get(FAILURE_COUNT_KEY) or 0))
    except ValueError:
        return 0


def _backoff_remaining(pods: list[JSON], now: dt.datetime) -> float:
    """The back-off left from the failures among ``pods`` after their last success."""
    finished = sorted(((finish_time(p) or now, phase(p) == "Failed") for p in pods
                       if phase(p) in ("Succeeded", "Failed")), key=lambda x: x[0])
    failures = 0
    last_failure: dt.datetime | None = None
    for when, failed in finished:
        if failed:
            failures += 1
            last_failure = when
        else:
            failures = 0
            last_failure = None
    if last_failure is None:
        return 0.0
    left = (last_failure + dt.timedelta(seconds=backoff_delay(failures)) - now)
    return max(0.0, left.total_seconds())


def _int(value: object, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def plan_job(job: JSON, pods: list[JSON], now: dt.datetime) -> JobPlan:
    """The plan for ``job`` given the pods it controls (see the module contract)."""
    spec = spec_of(job)
    old: JSON = copy.deepcopy(job.get("status") or {})
    status: JSON = copy.deepcopy(old)
    p = JobPlan(status=status)
    by_uid = {uid(x): x for x in pods}

    # -- finalizer tracking: record, then count --------------------------------------
    indexed = is_indexed(job)
    completions_spec = spec.get("completions")
    completions = _int(completions_spec, 0)
    uncounted = status.get("uncountedTerminatedPods") or {}
    unc_ok = [str(u) for u in uncounted.get("succeeded") or []]
    unc_fail = [str(u) for u in uncounted.get("failed") or []]
    succeeded = _int(status.get("succeeded"), 0)
    failed = _int(status.get("failed"), 0)
    stored_indexes = parse_indexes(status.get("completedIndexes"), completions) \
        if indexed else set()
    indexes = set(stored_indexes)
    keep_ok: list[str] = []
    keep_fail: list[str] = []
    # finalizers come off only for what the stored status already records
    for uids, keep, is_ok in ((unc_ok, keep_ok, True), (unc_fail, keep_fail, False)):
        for u in uids:
            pod = by_uid.get(u)
            if pod is None or not has_finalizer(pod):
                if is_ok:
                    succeeded += 1
                else:
                    failed += 1
            else:
                keep.append(u)
                p.remove_finalizers.append(pod)
    recorded = set(unc_ok) | set(unc_fail)
    new_failure = False
    replace_terminating = spec.get("podReplacementPolicy") != "Failed"
    with_policy = bool(spec.get("podFailurePolicy"))

    def ignored(pod: JSON) -> bool:
        return with_policy and phase(pod) == "Failed" and \
            match_pod_failure_policy(job, pod)[0] == IGNORE

    fail_job: str | None = None
    fail_index: set[int] = set()
    for pod in pods:
        if not has_finalizer(pod) or uid(pod) in recorded:
            continue
        if len(keep_ok) + len(keep_fail) >= MAX_UNCOUNTED:
            break
        if is_succeeded(pod):
            idx = pod_index(pod) if indexed else None
            if not indexed:
                keep_ok.append(uid(pod))
            elif idx is None or not 0 <= idx < completions or idx in stored_indexes:
                p.remove_finalizers.append(pod)  # counted by its index already
            else:
                indexes.add(idx)
        elif phase(pod) == "Failed" or (is_terminating(pod) and replace_terminating):
            action, why = match_pod_failure_policy(job, pod) \
                if with_policy and phase(pod) == "Failed" else ("Count", "")
            if action == IGNORE:
                p.remove_finalizers.append(pod)  # never counted
                continue
            keep_fail.append(uid(pod))
            new_failure = True
            if action == FAIL_JOB and fail_job is None:
                fail_job = why
            idx = pod_index(pod)
            if action == FAIL_INDEX and idx is not None:
                fail_index.add(idx)
    status["uncountedTerminatedPods"] = {
        k: v for k, v in (("succeeded", keep_ok), ("failed", keep_fail)) if v}
    if indexed:
        succeeded = len(indexes)
        status["completedIndexes"] = format_indexes(indexes)
    total_ok = succeeded + len(keep_ok)
    total_failed = failed + len(keep_fail)
    per_index = spec.get("backoffLimitPerIndex") if indexed else None
    failed_indexes: set[int] = set()
    if isinstance(per_index, int):
        failed_indexes = parse_indexes(status.get("failedIndexes"), completions) | fail_index
        for pod in pods:
            idx = pod_index(pod)
            if idx is None or not 0 <= idx < completions:
                continue
            failed_now = (phase(pod) == "Failed" and not ignored(pod)) or \
                (is_terminating(pod) and replace_terminating)
            n = failure_count(pod) + (1 if failed_now else 0)
            p.index_failures[idx] = max(p.index_failures.get(idx, 0), n)
            if n > per_index:
                failed_indexes.add(idx)
        failed_indexes -= indexes
        status["failedIndexes"] = format_indexes(failed_indexes)

    active = [x for x in pods if is_active(x)]
    terminating = [x for x in pods if is_terminating(x)]
    status["active"] = len(active)
    status["ready"] = sum(1 for x in active if is_ready(x))
    status["terminating"] = len(terminating)
    status["succeeded"] = succeeded
    status["failed"] = failed
    done_indexes = indexes

    finished = finished_condition(job)
    if finished is not None:
        return _plan_finished(job, pods, finished, p, now)

    suspended = spec.get("suspend") is True
    if suspended:
        if not _true(status, "FailureTarget") and not _true(status, "SuccessCriteriaMet"):
            if _set_condition(status, "Suspended", "True", "JobSuspended", "Job suspended",
                              now) and not _true(old, "Suspended"):
                p.events.append(Event("Normal", "Suspended", "Job suspended"))
            p.delete = list(active)
            status.pop("startTime", None)
            return _finish(p, old)
    elif _true(status, "Suspended"):
        _set_condition(status, "Suspended", "False", "JobResumed", "Job resumed", now)
        p.events.append(Event("Normal", "Resumed", "Job resumed"))
        status.pop("startTime", None)
    if not status.get("startTime"):
        status["startTime"] = rfc3339(now)
    start = time_at(status.get("startTime")) or now

    # -- failure and success criteria ------------------------------------------------
    backoff_limit = _int(spec.get("backoffLimit"), 6)
    restart_policy = ((spec.get("template") or {}).get("spec") or {}).get("restartPolicy")
    restarts = sum(restart_count(x) for x in active) if restart_policy == "OnFailure" else 0
    if not _true(status, "FailureTarget") and not _true(status, "SuccessCriteriaMet"):
        deadline = spec.get("activeDeadlineSeconds")
        max_failed = spec.get("maxFailedIndexes")
        rule = matched_success_rule(job, indexes) if indexed else None
        if fail_job is not None:
            _set_condition(status, "FailureTarget", "True", "PodFailurePolicy", fail_job, now)
        elif isinstance(max_failed, int) and len(failed_indexes) > max_failed:
            _set_condition(status, "FailureTarget", "True", "MaxFailedIndexesExceeded",
                           "Job has exceeded the specified maximal number of failed indexes",
                           now)
        elif failed_indexes and len(indexes | failed_indexes) >= completions:
            _set_condition(status, "FailureTarget", "True", "FailedIndexes",
                           "Job has failed indexes", now)
        elif (new_failure and total_failed > backoff_limit) or \
                (restart_policy == "OnFailure" and backoff_limit >= 0 and restarts > 0
                 and restarts + total_failed > backoff_limit):
            _set_condition(status, "FailureTarget", "True", BACKOFF_REASON, BACKOFF_MESSAGE,
                           now)
        elif isinstance(deadline, int) and now >= start + dt.timedelta(seconds=deadline):
            _set_condition(status, "FailureTarget", "True", DEADLINE_REASON,
                           DEADLINE_MESSAGE, now)
        elif isinstance(deadline, int):
            left = (start + dt.timedelta(seconds=deadline) - now).total_seconds()
            p.requeue_after = left
        done = (total_ok >= completions) if completions_spec is not None else \
            (total_ok > 0 and not active)
        if not _true(status, "FailureTarget") and rule is not None:
            _set_condition(status, "SuccessCriteriaMet", "True", "SuccessPolicy",
                           f"Matched rules at index {rule}", now)
        elif not _true(status, "FailureTarget") and done:
            _set_condition(status, "SuccessCriteriaMet", "True", COMPLETIONS_REASON,
                           COMPLETIONS_MESSAGE, now)
    if _true(status, "FailureTarget") or _true(status, "SuccessCriteriaMet"):
        p.delete = list(active)
        if not active and not terminating and not keep_ok and not keep_fail and \
                not any(has_finalizer(x) for x in pods):
            _finish_job(status, old, p, now)
        return _finish(p, old)

    # -- creations -------------------------------------------------------------------
    parallelism = _int(spec.get("parallelism"), 1)
    busy = len(active) + (len(terminating) if spec.get("podReplacementPolicy") == "Failed"
                          else 0)
    if indexed:
        running = {pod_index(x) for x in active}
        if spec.get("podReplacementPolicy") == "Failed":
            running |= {pod_index(x) for x in terminating}
        pending = [i for i in range(completions) if i not in done_indexes
                   and i not in running and i not in failed_indexes]
        if isinstance(per_index, int):  # each index waits out its own back-off
            p.delete = [x for x in active if pod_index(x) in failed_indexes]
            waits = {i: _backoff_remaining([x for x in pods if pod_index(x) == i
                                            and not ignored(x)], now) for i in pending}
            later = [w for w in waits.values() if w > 0]
            if later:
                p.requeue_after = min([*later, *([p.requeue_after] if p.requeue_after else [])])
            pending = [i for i in pending if waits[i] <= 0]
        want: list[int | None] = list(pending[:max(0, parallelism - busy)])
    else:
        left = (completions - total_ok) if completions_spec is not None else \
            (parallelism if total_ok == 0 else 0)
        want = [None] * max(0, min(parallelism, left) - busy)
        # a NonIndexed Job with more active pods than it needs deletes the newest
        excess = len(active) - (parallelism if completions_spec is None
                                else min(parallelism, max(left, 0)))
        if excess > 0:
            p.delete = sorted(active, key=lambda x: str(meta(x).get("creationTimestamp")),
                              reverse=True)[:excess]
    if want and not isinstance(per_index, int):
        wait = _backoff_remaining([x for x in pods if not ignored(x)], now)
        if wait > 0:
            p.requeue_after = min(wait, p.requeue_after or wait)
            want = []
    p.create = want
    return _finish(p, old)


def _finish_job(status: JSON, old: JSON, p: JobPlan, now: dt.datetime) -> None:
    """Turn FailureTarget / SuccessCriteriaMet into Failed / Complete."""
    target = _condition(status, "FailureTarget")
    if target is not None and target.get("status") == "True":
        reason, message = str(target.get("reason")), str(target.get("message"))
        _set_condition(status, "Failed", "True", reason, message, now)
        p.events.append(Event("Warning", reason, message))
    else:
        met = _condition(status, "SuccessCriteriaMet") or {}
        _set_condition(status, "Complete", "True",
                       str(met.get("reason") or COMPLETIONS_REASON),
                       str(met.get("message") or COMPLETIONS_MESSAGE), now)
        status["completionTime"] = rfc3339(now)
        p.events.append(Event("Normal", "Completed", "Job completed"))


def _plan_finished(job: JSON, pods: list[JSON], finished: JSON, p: JobPlan,
                   now: dt.datetime) -> JobPlan:
    """A finished Job: its remaining pods lose the finalizer, active ones are deleted,
    and the TTL after finishing runs out."""
    p.delete = [x for x in pods if is_active(x)]
    p.remove_finalizers = [x for x in pods if has_finalizer(x)]
    ttl = spec_of(job).get("ttlSecondsAfterFinished")
    if isinstance(ttl, int) and not meta(job).get("deletionTimestamp"):
        at = time_at(p.status.get("completionTime")) or \
            time_at(finished.get("lastTransitionTime"))
        expires = (at or now) + dt.timedelta(seconds=ttl)
        if now >= expires:
            p.delete_job = True
        else:
            p.requeue_after = (expires - now).total_seconds()
    return _finish(p, job.get("status") or {})


def _finish(p: JobPlan, old: JSON) -> JobPlan:
    if not p.status.get("failed"):
        p.status.pop("failed", None)
    if not p.status.get("succeeded"):
        p.status.pop("succeeded", None)
    if not p.status.get("active"):
        p.status.pop("active", None)
    return p
