"""``kubectl get jobs`` and ``kubectl get cronjobs`` cells, as Kubernetes 1.32 prints them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kubelite.apiserver.printers.batch import CRON_JOB, JOB

NOW = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.UTC)
JSON = dict[str, Any]


def ts(seconds_ago: float) -> str:
    return (NOW - dt.timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def job(spec: JSON, status: JSON, **meta: Any) -> JSON:
    return {"metadata": {"name": "pi", "creationTimestamp": ts(125), **meta},
            "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"spec": {
                "containers": [{"name": "c", "image": "busybox"}]}}, **spec},
            "status": status}


def cond(kind: str) -> JSON:
    return {"type": kind, "status": "True"}


@pytest.mark.parametrize(("spec", "status", "meta", "cells"), [
    ({"completions": 1}, {}, {}, ["Running", "0/1", ""]),
    ({"completions": 3}, {"succeeded": 2, "startTime": ts(65)}, {}, ["Running", "2/3", "65s"]),
    ({"completions": 1}, {"succeeded": 1, "startTime": ts(100), "completionTime": ts(90),
                          "conditions": [cond("SuccessCriteriaMet"), cond("Complete")]}, {},
     ["Complete", "1/1", "10s"]),
    ({"completions": 1}, {"conditions": [cond("FailureTarget"), cond("Failed")]}, {},
     ["Failed", "0/1", ""]),
    ({"completions": 1}, {"conditions": [cond("FailureTarget")]}, {},
     ["FailureTarget", "0/1", ""]),
    ({"completions": 1}, {"conditions": [cond("Suspended")]}, {}, ["Suspended", "0/1", ""]),
    ({"completions": 1}, {}, {"deletionTimestamp": ts(1)}, ["Terminating", "0/1", ""]),
    ({"parallelism": 3}, {"succeeded": 1}, {}, ["Running", "1/1 of 3", ""]),
    ({"parallelism": 1}, {}, {}, ["Running", "0/1", ""]),
])
def test_job_cells(spec: JSON, status: JSON, meta: JSON, cells: list[str]) -> None:
    row = JOB.cells(job(spec, status, **meta), NOW)
    assert row == ["pi", *cells, "2m5s", "c", "busybox", "a=b"]
    assert [c["name"] for c in JOB.columns if c["priority"] == 0] == [
        "Name", "Status", "Completions", "Duration", "Age"]


def test_cron_job_cells() -> None:
    cj: JSON = {"metadata": {"name": "hello", "creationTimestamp": ts(3600)},
                "spec": {"schedule": "*/1 * * * *", "suspend": False, "jobTemplate": {
                    "spec": {"template": {"spec": {"containers": [
                        {"name": "c", "image": "busybox"}]}}}}},
                "status": {}}
    assert CRON_JOB.cells(cj, NOW) == ["hello", "*/1 * * * *", "<none>", "False", 0, "<none>",
                                       "60m", "c", "busybox", "<none>"]
    cj["spec"]["timeZone"] = "Europe/Paris"
    cj["status"] = {"active": [{"name": "hello-1"}], "lastScheduleTime": ts(30)}
    assert CRON_JOB.cells(cj, NOW)[2:6] == ["Europe/Paris", "False", 1, "30s"]
    assert [c["name"] for c in CRON_JOB.columns if c["priority"] == 0] == [
        "Name", "Schedule", "Timezone", "Suspend", "Active", "Last Schedule", "Age"]
