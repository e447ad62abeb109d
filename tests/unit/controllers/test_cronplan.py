"""The CronJob planner on fake time: which Job is due, concurrency policies, missed
starts and history, as whole plans."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kubelite.controllers.cronplan import job_name, most_recent, plan_cron

JSON = dict[str, Any]
NOW = dt.datetime(2026, 1, 1, 12, 0, 30, tzinfo=dt.UTC)
UTC = dt.UTC


def ts(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def at(minutes_ago: float) -> str:
    return ts(NOW - dt.timedelta(minutes=minutes_ago))


def cron(status: JSON | None = None, **spec: Any) -> JSON:
    base: JSON = {"schedule": "*/1 * * * *", "timeZone": "Etc/UTC",
                  "concurrencyPolicy": "Allow", "suspend": False,
                  "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1,
                  "jobTemplate": {"metadata": {"labels": {"app": "x"}},
                                  "spec": {"template": {"spec": {"containers": []}}}}}
    base.update(spec)
    return {"metadata": {"name": "hello", "namespace": "ns", "uid": "cj-uid",
                         "creationTimestamp": at(10)},
            "spec": base, "status": status or {}}


def a_job(name: str, finished: str | None = None, started: float = 5) -> JSON:
    status: JSON = {"startTime": at(started)}
    if finished:
        status["conditions"] = [{"type": finished, "status": "True"}]
        if finished == "Complete":
            status["completionTime"] = at(started - 0.5)
    return {"metadata": {"name": name, "namespace": "ns", "uid": f"uid-{name}",
                         "resourceVersion": "7"}, "status": status}


def ref(name: str) -> JSON:
    return {"apiVersion": "batch/v1", "kind": "Job", "name": name, "namespace": "ns",
            "uid": f"uid-{name}", "resourceVersion": "7"}


def summary(cj: JSON, jobs: list[JSON]) -> JSON:
    p = plan_cron(cj, jobs, NOW)
    return {"status": p.status, "create": p.create and p.create["metadata"]["name"],
            "delete": [j["metadata"]["name"] for j in p.delete],
            "events": [e.reason for e in p.events], "requeue": p.requeue_after}


MINUTE = "hello-29454480"  # 2026-01-01T12:00:00Z in minutes since the epoch
LAST = ts(dt.datetime(2026, 1, 1, 12, 0, tzinfo=UTC))
CASES: list[tuple[str, JSON, list[JSON], JSON]] = [
    ("the minute due starts a Job",
     cron(status={"lastScheduleTime": at(1.5)}), [],
     {"status": {"lastScheduleTime": LAST}, "create": MINUTE, "delete": [], "events": [],
      "requeue": 30.1}),
    ("already started for this minute: nothing",
     cron(status={"lastScheduleTime": LAST, "active": [ref(MINUTE)]}), [a_job(MINUTE)],
     {"status": {"lastScheduleTime": LAST, "active": [ref(MINUTE)]}, "create": None,
      "delete": [], "events": [], "requeue": 30.1}),
    ("Forbid with a Job running: skipped",
     cron(concurrencyPolicy="Forbid", status={"lastScheduleTime": at(1.5),
                                              "active": [ref("hello-1")]}), [a_job("hello-1")],
     {"status": {"lastScheduleTime": at(1.5), "active": [ref("hello-1")]}, "create": None,
      "delete": [], "events": ["JobAlreadyActive"], "requeue": 30.1}),
    ("Replace: the running Job is deleted, a new one started",
     cron(concurrencyPolicy="Replace", status={"lastScheduleTime": at(1.5),
                                               "active": [ref("hello-1")]}),
     [a_job("hello-1")],
     {"status": {"lastScheduleTime": LAST}, "create": MINUTE, "delete": ["hello-1"],
      "events": [], "requeue": 30.1}),
    ("a finished Job leaves active; Complete sets lastSuccessfulTime",
     cron(status={"lastScheduleTime": LAST, "active": [ref("hello-1")]}),
     [a_job("hello-1", "Complete", started=2)],
     {"status": {"lastScheduleTime": LAST, "lastSuccessfulTime": at(1.5)}, "create": None,
      "delete": [], "events": ["SawCompletedJob"], "requeue": 30.1}),
    ("suspended: nothing starts",
     cron(suspend=True, status={"lastScheduleTime": at(1.5)}), [],
     {"status": {"lastScheduleTime": at(1.5)}, "create": None, "delete": [], "events": [],
      "requeue": None}),
    ("past startingDeadlineSeconds: not started",
     cron(startingDeadlineSeconds=10, status={"lastScheduleTime": at(1.5)}), [],
     {"status": {"lastScheduleTime": at(1.5)}, "create": None, "delete": [],
      "events": [], "requeue": 30.1}),
    ("within startingDeadlineSeconds: started late",
     cron(startingDeadlineSeconds=60, status={"lastScheduleTime": at(1.5)}), [],
     {"status": {"lastScheduleTime": LAST}, "create": MINUTE, "delete": [], "events": [],
      "requeue": 30.1}),
    ("history: the oldest finished Jobs beyond the limits go",
     cron(failedJobsHistoryLimit=1, successfulJobsHistoryLimit=1,
          status={"lastScheduleTime": LAST}),
     [a_job("f1", "Failed", 9), a_job("f2", "Failed", 8), a_job("s1", "Complete", 7),
      a_job("s2", "Complete", 6)],
     {"status": {"lastScheduleTime": LAST, "lastSuccessfulTime": at(5.5)}, "create": None,
      "delete": ["s1", "f1"], "events": [], "requeue": 30.1}),
]


@pytest.mark.parametrize(("cj", "jobs", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_plan(cj: JSON, jobs: list[JSON], expected: JSON) -> None:
    assert summary(cj, jobs) == expected


def test_many_missed_starts_give_one_job_and_an_event() -> None:
    cj = cron(status={"lastScheduleTime": at(60 * 24)})
    s = summary(cj, [])
    assert s["create"] == MINUTE and s["events"] == ["TooManyMissedTimes"]


def test_schedule_in_a_time_zone_and_macros() -> None:
    paris = __import__("zoneinfo").ZoneInfo("Europe/Paris")
    t, n = most_recent("0 13 * * *", dt.datetime(2026, 1, 1, 0, 0, tzinfo=UTC),
                       dt.datetime(2026, 1, 1, 12, 30, tzinfo=UTC), paris)
    assert (t, n) == (dt.datetime(2026, 1, 1, 12, 0, tzinfo=UTC), 1)  # 13:00 in Paris
    t, n = most_recent("@hourly", dt.datetime(2026, 1, 1, 9, 30, tzinfo=UTC),
                       dt.datetime(2026, 1, 1, 12, 30, tzinfo=UTC), UTC)
    assert (t, n) == (dt.datetime(2026, 1, 1, 12, 0, tzinfo=UTC), 3)
    assert job_name(cron(), dt.datetime(2026, 1, 1, 12, 0, tzinfo=UTC)) == MINUTE
