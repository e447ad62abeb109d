"""The CronJob controller's plan: pure, from a CronJob, the Jobs it controls and ``now``.

Contracts (as kube-controller-manager's cronjob controller v2, ``syncCronJob``):
- ``status.active`` lists the controlled Jobs that have not finished; a Job seen finished
  leaves it (event SawCompletedJob) and a Complete one moves ``lastSuccessfulTime``;
- schedules are standard cron lines or ``@hourly``-style macros (croniter), read in
  ``spec.timeZone`` (the controller's local zone when unset); the schedule time due is
  the latest one after ``lastScheduleTime`` (else the creation time, bounded below by
  ``now - startingDeadlineSeconds``) and not after ``now``. More than 100 missed start
  times give a TooManyMissedTimes event and one start, never a storm; a time older than
  ``startingDeadlineSeconds`` is missed (MissSchedule);
- ``concurrencyPolicy``: Allow starts regardless, Forbid skips while a Job is active
  (JobAlreadyActive), Replace deletes the active Jobs first;
- the Job is named ``CRONJOB-<minutes since the epoch of its schedule time>``, carries the
  job template's labels and annotations, the annotation
  ``batch.kubernetes.io/cronjob-scheduled-timestamp`` and a controller reference; finished
  Jobs beyond ``successfulJobsHistoryLimit`` / ``failedJobsHistoryLimit`` are deleted,
  oldest first;
- a suspended CronJob starts nothing; the next sync is due at the next schedule time.
"""

from __future__ import annotations

import copy
import datetime as dt
import zoneinfo
from dataclasses import dataclass, field

from croniter import croniter

from kubelite.api.meta import JSON, controller_ref
from kubelite.api.meta_time import rfc3339
from kubelite.controllers.jobplan import Event, finished_condition, time_at
from kubelite.controllers.pods import meta, uid

SCHEDULED_TIMESTAMP = "batch.kubernetes.io/cronjob-scheduled-timestamp"
MAX_MISSED = 100


@dataclass
class CronPlan:
    """In this order: delete ``delete`` (Replace and history), create ``create``, write
    ``status``, record ``events``, sync again after ``requeue_after`` seconds."""

    status: JSON = field(default_factory=dict)
    delete: list[JSON] = field(default_factory=list)
    create: JSON | None = None
    events: list[Event] = field(default_factory=list)
    requeue_after: float | None = None


def time_zone(cj: JSON) -> dt.tzinfo | None:
    """The CronJob's zone (the local one when unset; None when unknown)."""
    name = (cj.get("spec") or {}).get("timeZone")
    if name is None:
        return dt.datetime.now().astimezone().tzinfo
    try:
        return zoneinfo.ZoneInfo(str(name))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def next_after(schedule: str, t: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """The first schedule time strictly after ``t``."""
    nxt: dt.datetime = croniter(schedule, t.astimezone(tz)).get_next(dt.datetime)
    return nxt.astimezone(dt.UTC)


def most_recent(schedule: str, earliest: dt.datetime, now: dt.datetime,
                tz: dt.tzinfo) -> tuple[dt.datetime | None, int]:
    """The latest schedule time in (``earliest``, ``now``] and how many there are
    (counted up to ``MAX_MISSED + 1``)."""
    count = 0
    t = earliest
    while count <= MAX_MISSED:
        nxt = next_after(schedule, t, tz)
        if nxt > now:
            break
        count += 1
        t = nxt
    if count == 0:
        return None, 0
    if count > MAX_MISSED:  # jump to the latest without walking every one
        prev: dt.datetime = croniter(schedule, (now + dt.timedelta(seconds=1)).astimezone(
            tz)).get_prev(dt.datetime)
        t = prev.astimezone(dt.UTC)
    return t, count


def job_name(cj: JSON, scheduled: dt.datetime) -> str:
    """``NAME-<minutes since the epoch>`` (``getJobName``)."""
    return f"{meta(cj).get('name')}-{int(scheduled.timestamp()) // 60}"


def job_from_template(cj: JSON, scheduled: dt.datetime, tz: dt.tzinfo) -> JSON:
    """The Job a CronJob starts for ``scheduled`` (``getJobFromTemplate2``)."""
    template = copy.deepcopy((cj.get("spec") or {}).get("jobTemplate") or {})
    tmeta = template.get("metadata") or {}
    annotations = dict(tmeta.get("annotations") or {})
    annotations[SCHEDULED_TIMESTAMP] = scheduled.astimezone(tz).isoformat()
    jmeta: JSON = {"name": job_name(cj, scheduled), "namespace": meta(cj).get("namespace"),
                   "annotations": annotations,
                   "ownerReferences": [{**controller_ref(cj), "apiVersion": "batch/v1",
                                        "kind": "CronJob"}]}
    if tmeta.get("labels"):
        jmeta["labels"] = dict(tmeta["labels"])
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": jmeta,
            "spec": template.get("spec") or {}}


def _ref(job: JSON) -> JSON:
    return {"apiVersion": "batch/v1", "kind": "Job", "name": meta(job).get("name"),
            "namespace": meta(job).get("namespace"), "uid": uid(job),
            "resourceVersion": meta(job).get("resourceVersion")}


def _history(jobs: list[JSON], kind: str, limit: object) -> list[JSON]:
    """The finished Jobs of condition ``kind`` beyond ``limit``, oldest first."""
    if not isinstance(limit, int):
        return []
    done = [j for j in jobs if (finished_condition(j) or {}).get("type") == kind]
    done.sort(key=lambda j: str((j.get("status") or {}).get("startTime")
                                or meta(j).get("creationTimestamp") or ""))
    return done[:max(0, len(done) - limit)]


def plan_cron(cj: JSON, jobs: list[JSON], now: dt.datetime) -> CronPlan:
    """The plan for ``cj`` given the Jobs it controls (see the module contract)."""
    spec: JSON = cj.get("spec") or {}
    status: JSON = copy.deepcopy(cj.get("status") or {})
    p = CronPlan(status=status)
    by_uid = {uid(j): j for j in jobs}
    active: list[JSON] = []
    for ref in status.get("active") or []:
        j = by_uid.get(str(ref.get("uid")))
        if j is None:
            continue  # gone
        cond = finished_condition(j)
        if cond is None:
            active.append(_ref(j))
            continue
        p.events.append(Event("Normal", "SawCompletedJob",
                              f"Saw completed job: {meta(j).get('name')}, "
                              f"status: {cond.get('type')}"))
    listed = {str(r.get("uid")) for r in active}
    for j in jobs:
        if uid(j) not in listed and finished_condition(j) is None:
            active.append(_ref(j))
    for j in jobs:
        if (finished_condition(j) or {}).get("type") == "Complete":
            done = time_at((j.get("status") or {}).get("completionTime"))
            last = time_at(status.get("lastSuccessfulTime"))
            if done is not None and (last is None or done > last):
                status["lastSuccessfulTime"] = rfc3339(done)
    status["active"] = active
    if not active:
        status.pop("active")
    finished_old = [*_history(jobs, "Complete", spec.get("successfulJobsHistoryLimit")),
                    *_history(jobs, "Failed", spec.get("failedJobsHistoryLimit"))]
    p.delete = finished_old
    if meta(cj).get("deletionTimestamp") or spec.get("suspend") is True:
        return p
    tz = time_zone(cj)
    if tz is None:
        p.events.append(Event("Warning", "UnknownTimeZone",
                              f"invalid timeZone: {spec.get('timeZone')!r}"))
        return p
    schedule = str(spec.get("schedule") or "")
    if not croniter.is_valid(schedule):
        p.events.append(Event("Warning", "UnparseableSchedule",
                              f"unparseable schedule: {schedule!r}"))
        return p
    earliest = time_at(status.get("lastScheduleTime")) or \
        time_at(meta(cj).get("creationTimestamp")) or now
    deadline = spec.get("startingDeadlineSeconds")
    if isinstance(deadline, int):
        earliest = max(earliest, now - dt.timedelta(seconds=deadline))
    scheduled, count = most_recent(schedule, earliest, now, tz)
    p.requeue_after = (next_after(schedule, now, tz) - now).total_seconds() + 0.1
    if scheduled is None:
        return p
    if count > MAX_MISSED:
        p.events.append(Event("Warning", "TooManyMissedTimes",
                              f"too many missed start times: {count}. Set or decrease "
                              ".spec.startingDeadlineSeconds or check clock skew"))
    if isinstance(deadline, int) and scheduled + dt.timedelta(seconds=deadline) < now:
        p.events.append(Event("Warning", "MissSchedule",
                              f"Missed scheduled time to start a job: "
                              f"{scheduled.astimezone(tz).isoformat()}"))
        return p
    name = job_name(cj, scheduled)
    if any(r.get("name") == name for r in active) or \
            status.get("lastScheduleTime") == rfc3339(scheduled):
        return p
    policy = spec.get("concurrencyPolicy") or "Allow"
    if policy == "Forbid" and active:
        p.events.append(Event("Normal", "JobAlreadyActive", "Not starting job because prior "
                              "execution is running and concurrency policy is Forbid"))
        return p
    if policy == "Replace":
        for ref in active:
            j = by_uid.get(str(ref.get("uid")))
            if j is not None:
                p.delete.append(j)
        status.pop("active", None)
    p.create = job_from_template(cj, scheduled, tz)
    status["lastScheduleTime"] = rfc3339(scheduled)
    return p
