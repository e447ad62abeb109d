"""The printers of batch/v1: Jobs and CronJobs (``kubectl get jobs,cronjobs``).

As ``printJob`` / ``printCronJob`` of ``pkg/printers/internalversion`` (Kubernetes 1.32);
pure functions of the object and ``now``.
"""

from __future__ import annotations

import datetime as dt

from kubelite.api.meta import JSON, dig
from kubelite.apiserver.printers.humanize import human_duration, since
from kubelite.apiserver.printers.tables import (
    AGE_COL,
    CONTAINERS_COL,
    IMAGES_COL,
    Cells,
    Printer,
    age_cell,
    col,
    container_cells,
    format_selector,
    int_of,
    list_at,
    name_col,
    name_of,
    text_at,
    time_of,
)


def _has_condition(obj: JSON, kind: str) -> bool:
    return any(isinstance(c, dict) and c.get("type") == kind and c.get("status") == "True"
               for c in list_at(obj, "status", "conditions"))


def job_status_word(obj: JSON) -> str:
    """The Status cell: Complete, Failed, Terminating, Suspended, FailureTarget or Running."""
    if _has_condition(obj, "Complete"):
        return "Complete"
    if _has_condition(obj, "Failed"):
        return "Failed"
    if dig(obj, "metadata", "deletionTimestamp"):
        return "Terminating"
    if _has_condition(obj, "Suspended"):
        return "Suspended"
    if _has_condition(obj, "FailureTarget"):
        return "FailureTarget"
    return "Running"


def _completions(obj: JSON) -> str:
    succeeded = int_of(obj, "status", "succeeded")
    completions = dig(obj, "spec", "completions")
    if isinstance(completions, int):
        return f"{succeeded}/{completions}"
    parallelism = int_of(obj, "spec", "parallelism")
    if parallelism > 1:
        return f"{succeeded}/1 of {parallelism}"
    return f"{succeeded}/1"


def _duration(obj: JSON, now: dt.datetime) -> str:
    start = time_of(dig(obj, "status", "startTime"))
    if start is None:
        return ""
    end = time_of(dig(obj, "status", "completionTime")) or now
    return human_duration(end - start)


def _job_cells(obj: JSON, now: dt.datetime) -> Cells:
    names, images = container_cells(dig(obj, "spec", "template", "spec"))
    return [name_of(obj), job_status_word(obj), _completions(obj), _duration(obj, now),
            age_cell(obj, now), names, images, format_selector(dig(obj, "spec", "selector"))]


JOB = Printer(
    (
        name_col(),
        col("Status", "Status of the job."),
        col("Completions", "The desired number of successfully finished pods the job "
            "should be run with. When the job has no completions, it shows the number of "
            "succeeded pods out of one."),
        col("Duration", "Time required to complete the job."),
        AGE_COL, CONTAINERS_COL, IMAGES_COL,
        col("Selector", "A label query over pods that should match the pod count.",
            priority=1),
    ),
    _job_cells,
)


def _cron_job_cells(obj: JSON, now: dt.datetime) -> Cells:
    names, images = container_cells(dig(obj, "spec", "jobTemplate", "spec", "template",
                                        "spec"))
    suspend = dig(obj, "spec", "suspend")
    last = text_at(obj, "status", "lastScheduleTime")
    return [
        name_of(obj), text_at(obj, "spec", "schedule"),
        text_at(obj, "spec", "timeZone") or "<none>",
        "<unset>" if suspend is None else ("True" if suspend else "False"),
        len(list_at(obj, "status", "active")),
        since(last, now) if last else "<none>",
        age_cell(obj, now), names, images,
        format_selector(dig(obj, "spec", "jobTemplate", "spec", "selector")),
    ]


CRON_JOB = Printer(
    (
        name_col(),
        col("Schedule", "The schedule in Cron format, see "
            "https://en.wikipedia.org/wiki/Cron."),
        col("Timezone", "The time zone name for the given schedule, see "
            "https://en.wikipedia.org/wiki/List_of_tz_database_time_zones."),
        col("Suspend", "This flag tells the controller to suspend subsequent executions."),
        col("Active", "A list of pointers to currently running jobs.", type_="integer"),
        col("Last Schedule", "Information when was the last time the job was successfully "
            "scheduled."),
        AGE_COL, CONTAINERS_COL, IMAGES_COL,
        col("Selector", "A label query over pods that should match the pod count.",
            priority=1),
    ),
    _cron_job_cells,
)
