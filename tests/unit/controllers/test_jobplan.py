"""The Job planner on fake time: tables of (Job, pods, now) and the whole plan each gives."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kubelite.controllers.jobplan import (
    TRACKING_FINALIZER,
    backoff_delay,
    format_indexes,
    parse_indexes,
    plan_job,
)

JSON = dict[str, Any]
NOW = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.UTC)
T = "2026-01-01T12:00:00Z"


def ts(seconds_ago: float) -> str:
    return (NOW - dt.timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def job(status: JSON | None = None, **spec: Any) -> JSON:
    base: JSON = {"completions": 1, "parallelism": 1, "backoffLimit": 6,
                  "completionMode": "NonIndexed", "suspend": False,
                  "podReplacementPolicy": "TerminatingOrFailed",
                  "template": {"spec": {"restartPolicy": "Never"}}}
    base.update(spec)
    return {"metadata": {"name": "j", "namespace": "ns", "uid": "job-uid"}, "spec": base,
            "status": status if status is not None else {}}


def pod(name: str, phase: str = "Running", *, tracked: bool = True, finished: float = 60,
        index: int | None = None, deleting: bool = False, ready: bool = False) -> JSON:
    meta: JSON = {"name": name, "uid": f"uid-{name}", "creationTimestamp": ts(600)}
    if tracked:
        meta["finalizers"] = [TRACKING_FINALIZER]
    if index is not None:
        meta["annotations"] = {"batch.kubernetes.io/job-completion-index": str(index)}
    if deleting:
        meta["deletionTimestamp"] = ts(1)
    status: JSON = {"phase": phase}
    if phase in ("Succeeded", "Failed"):
        status["containerStatuses"] = [{"state": {"terminated": {"finishedAt": ts(finished)}}}]
    if ready:
        status["conditions"] = [{"type": "Ready", "status": "True"}]
    return {"metadata": meta, "status": status}


def cond(kind: str, reason: str, message: str) -> JSON:
    return {"type": kind, "status": "True", "lastProbeTime": T, "lastTransitionTime": T,
            "reason": reason, "message": message}


def summary(j: JSON, pods: list[JSON], now: dt.datetime = NOW) -> JSON:
    p = plan_job(j, pods, now)
    return {"status": p.status, "create": p.create,
            "delete": [x["metadata"]["name"] for x in p.delete],
            "unfinalize": [x["metadata"]["name"] for x in p.remove_finalizers],
            "events": [(e.type, e.reason, e.message) for e in p.events],
            "delete_job": p.delete_job, "requeue": p.requeue_after}


def want(status: JSON, create: list[int | None] | None = None, delete: list[str] | None = None,
         unfinalize: list[str] | None = None, events: list[tuple[str, str, str]] | None = None,
         delete_job: bool = False, requeue: float | None = None) -> JSON:
    return {"status": status, "create": create or [], "delete": delete or [],
            "unfinalize": unfinalize or [], "events": events or [],
            "delete_job": delete_job, "requeue": requeue}


RUNNING = {"startTime": T, "ready": 0, "terminating": 0, "uncountedTerminatedPods": {}}
SUCCESS = cond("SuccessCriteriaMet", "CompletionsReached",
               "Reached expected number of succeeded pods")
COMPLETE = cond("Complete", "CompletionsReached", "Reached expected number of succeeded pods")
TARGET = cond("FailureTarget", "BackoffLimitExceeded",
              "Job has reached the specified backoff limit")
FAILED = cond("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit")

CASES: list[tuple[str, JSON, list[JSON], JSON]] = [
    ("a new job starts its first pod",
     job(), [],
     want(RUNNING, create=[None])),
    ("parallelism bounded by the completions left",
     job(completions=3, parallelism=2), [],
     want(RUNNING, create=[None, None])),
    ("one running pod: nothing to do",
     job(status={"startTime": T}), [pod("a", ready=True)],
     want({**RUNNING, "active": 1, "ready": 1})),
    ("a succeeded pod is first recorded as uncounted, its finalizer kept",
     job(status={"startTime": T}), [pod("a", "Succeeded")],
     want({**RUNNING, "uncountedTerminatedPods": {"succeeded": ["uid-a"]},
           "conditions": [SUCCESS]})),
    ("a recorded pod loses its finalizer; the job waits for that before Complete",
     job(status={**RUNNING, "uncountedTerminatedPods": {"succeeded": ["uid-a"]},
                 "conditions": [SUCCESS]}), [pod("a", "Succeeded")],
     want({**RUNNING, "uncountedTerminatedPods": {"succeeded": ["uid-a"]},
           "conditions": [SUCCESS]}, unfinalize=["a"])),
    ("the pod without its finalizer is counted and the job completes",
     job(status={**RUNNING, "uncountedTerminatedPods": {"succeeded": ["uid-a"]},
                 "conditions": [SUCCESS]}), [pod("a", "Succeeded", tracked=False)],
     want({**RUNNING, "succeeded": 1, "conditions": [SUCCESS, COMPLETE],
           "completionTime": T}, events=[("Normal", "Completed", "Job completed")])),
    ("a recorded pod that is gone is counted too (never lost)",
     job(completions=2, status={**RUNNING, "succeeded": 1,
                                "uncountedTerminatedPods": {"failed": ["uid-x"]}}), [],
     want({**RUNNING, "succeeded": 1, "failed": 1}, create=[None])),
    ("a failure waits out the back-off (10 s after the first failure)",
     job(status={**RUNNING, "failed": 1}), [pod("a", "Failed", tracked=False, finished=4)],
     want({**RUNNING, "failed": 1}, requeue=6.0)),
    ("after the back-off the replacement is created",
     job(status={**RUNNING, "failed": 1}), [pod("a", "Failed", tracked=False, finished=11)],
     want({**RUNNING, "failed": 1}, create=[None])),
    ("failures beyond backoffLimit: FailureTarget, active pods deleted",
     job(backoffLimit=1, parallelism=2, completions=2, status={**RUNNING, "failed": 1}),
     [pod("a", "Failed"), pod("b")],
     want({**RUNNING, "failed": 1, "active": 1,
           "uncountedTerminatedPods": {"failed": ["uid-a"]}, "conditions": [TARGET]},
          delete=["b"])),
    ("FailureTarget becomes Failed once nothing runs or is uncounted",
     job(backoffLimit=1, status={**RUNNING, "failed": 2, "conditions": [TARGET]}),
     [pod("a", "Failed", tracked=False)],
     want({**RUNNING, "failed": 2, "conditions": [TARGET, FAILED]},
          events=[("Warning", "BackoffLimitExceeded",
                   "Job has reached the specified backoff limit")])),
    ("activeDeadlineSeconds passed: DeadlineExceeded",
     job(activeDeadlineSeconds=30, status={"startTime": ts(31)}), [pod("a")],
     want({**RUNNING, "startTime": ts(31), "active": 1, "conditions": [
         cond("FailureTarget", "DeadlineExceeded",
              "Job was active longer than specified deadline")]}, delete=["a"])),
    ("before the deadline: a sync is due at it",
     job(activeDeadlineSeconds=30, status={"startTime": ts(10)}), [pod("a")],
     want({**RUNNING, "startTime": ts(10), "active": 1}, requeue=20.0)),
    ("a terminating pod counts as failed and is replaced at once (TerminatingOrFailed)",
     job(status={"startTime": T}), [pod("a", deleting=True)],
     want({**RUNNING, "terminating": 1, "uncountedTerminatedPods": {"failed": ["uid-a"]}},
          create=[None])),
    ("podReplacementPolicy Failed waits for the terminating pod",
     job(podReplacementPolicy="Failed", status={"startTime": T}), [pod("a", deleting=True)],
     want({**RUNNING, "terminating": 1})),
    ("suspended: active pods deleted, condition Suspended, no startTime",
     job(suspend=True, status={"startTime": T}), [pod("a")],
     want({"ready": 0, "terminating": 0, "uncountedTerminatedPods": {}, "active": 1,
           "conditions": [cond("Suspended", "JobSuspended", "Job suspended")]},
          delete=["a"], events=[("Normal", "Suspended", "Job suspended")])),
    ("Indexed: the lowest free indexes are created",
     job(completionMode="Indexed", completions=4, parallelism=2,
         status={"startTime": T, "completedIndexes": "0"}),
     [pod("a", index=1)],
     want({**RUNNING, "active": 1, "completedIndexes": "0", "succeeded": 1}, create=[2])),
    ("Indexed: a succeeded index joins completedIndexes, its finalizer goes once written",
     job(completionMode="Indexed", completions=2, parallelism=2,
         status={**RUNNING, "completedIndexes": "0", "succeeded": 1}),
     [pod("a", "Succeeded", index=0), pod("b", "Succeeded", index=1)],
     want({**RUNNING, "completedIndexes": "0-1", "succeeded": 2, "conditions": [SUCCESS]},
          unfinalize=["a"])),
    ("without completions: one success and none active completes",
     job(completions=None, parallelism=2, status={"startTime": T, "succeeded": 1}),
     [pod("a", "Succeeded", tracked=False)],
     want({**RUNNING, "succeeded": 1, "conditions": [SUCCESS, COMPLETE], "completionTime": T},
          events=[("Normal", "Completed", "Job completed")])),
    ("finished with ttlSecondsAfterFinished 0: the job is deleted",
     job(ttlSecondsAfterFinished=0, status={**RUNNING, "succeeded": 1, "completionTime": T,
                                            "conditions": [SUCCESS, COMPLETE]}), [],
     want({**RUNNING, "succeeded": 1, "completionTime": T, "conditions": [SUCCESS, COMPLETE]},
          delete_job=True)),
    ("finished with a TTL to come: a sync is due then",
     job(ttlSecondsAfterFinished=100, status={**RUNNING, "succeeded": 1,
                                              "completionTime": ts(40),
                                              "conditions": [SUCCESS, COMPLETE]}), [],
     want({**RUNNING, "succeeded": 1, "completionTime": ts(40),
           "conditions": [SUCCESS, COMPLETE]}, requeue=60.0)),
]


@pytest.mark.parametrize(("j", "pods", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_plan(j: JSON, pods: list[JSON], expected: JSON) -> None:
    assert summary(j, pods) == expected


def test_backoff_doubles_from_ten_seconds_up_to_six_minutes() -> None:
    assert [backoff_delay(n) for n in range(0, 9)] == [0, 10, 20, 40, 80, 160, 320, 360, 360]


def test_two_failures_in_a_row_wait_twenty_seconds() -> None:
    j = job(status={**RUNNING, "failed": 2})
    pods = [pod("a", "Failed", tracked=False, finished=30),
            pod("b", "Failed", tracked=False, finished=15)]
    assert summary(j, pods)["requeue"] == 5.0
    # a success in between resets the count: one failure, 10 s, already past
    pods.insert(1, pod("s", "Succeeded", tracked=False, finished=20))
    assert summary(job(completions=2, status={**RUNNING, "failed": 2, "succeeded": 1}),
                   pods)["create"] == [None]


@pytest.mark.parametrize(("indexes", "text"), [
    (set(), ""), ({0}, "0"), ({0, 1, 2}, "0-2"), ({1, 3, 4, 5, 9}, "1,3-5,9")])
def test_completed_indexes_round_trip(indexes: set[int], text: str) -> None:
    assert format_indexes(indexes) == text
    assert parse_indexes(text, 10) == indexes


def failed_pod(name: str, code: int, *, index: int | None = None, failures: int = 0,
               condition: str | None = None, tracked: bool = True) -> JSON:
    p = pod(name, "Failed", index=index, finished=30, tracked=tracked)
    p["metadata"]["namespace"] = "ns"
    if failures:
        p["metadata"].setdefault("annotations", {})[
            "batch.kubernetes.io/job-index-failure-count"] = str(failures)
    p["status"]["containerStatuses"][0].update(
        name="main", state={"terminated": {"exitCode": code, "finishedAt": ts(30)}})
    if condition:
        p["status"]["conditions"] = [{"type": condition, "status": "True"}]
    return p


PFP = {"rules": [
    {"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42]}},
    {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
]}
INDEXED = {"completionMode": "Indexed", "completions": 2, "parallelism": 2}

POLICY_CASES: list[tuple[str, JSON, list[JSON], JSON]] = [
    ("podFailurePolicy FailJob: exit code 42 fails the job at once",
     job(podFailurePolicy=PFP, podReplacementPolicy="Failed", completions=2, parallelism=2,
         status={"startTime": T}), [failed_pod("a", 42), pod("b")],
     want({**RUNNING, "active": 1, "uncountedTerminatedPods": {"failed": ["uid-a"]},
           "conditions": [cond("FailureTarget", "PodFailurePolicy",
                               "Container main for pod ns/a failed with exit code 42 "
                               "matching FailJob rule at index 0")]}, delete=["b"])),
    ("podFailurePolicy Ignore: a disrupted pod is not counted and is replaced at once",
     job(podFailurePolicy=PFP, podReplacementPolicy="Failed", status={"startTime": T}),
     [failed_pod("a", 1, condition="DisruptionTarget")],
     want(RUNNING, create=[None], unfinalize=["a"])),
    ("podFailurePolicy: other exit codes count as usual (replaced after the back-off)",
     job(podFailurePolicy=PFP, podReplacementPolicy="Failed", status={"startTime": T}),
     [failed_pod("a", 1)],
     want({**RUNNING, "uncountedTerminatedPods": {"failed": ["uid-a"]}}, create=[None])),
    ("backoffLimitPerIndex: the index past its limit fails, the other keeps going",
     job(**INDEXED, backoffLimitPerIndex=1, backoffLimit=2**31 - 1,
         status={"startTime": T, "completedIndexes": ""}),
     [failed_pod("a", 1, index=0, failures=1, tracked=False), pod("b", index=1)],
     want({**RUNNING, "active": 1, "completedIndexes": "", "failedIndexes": "0"})),
    ("backoffLimitPerIndex: all indexes finished with one failed gives FailedIndexes",
     job(**INDEXED, backoffLimitPerIndex=1, backoffLimit=2**31 - 1,
         status={"startTime": T, "completedIndexes": "1", "succeeded": 1}),
     [failed_pod("a", 1, index=0, failures=1, tracked=False)],
     want({**RUNNING, "succeeded": 1, "completedIndexes": "1", "failedIndexes": "0",
           "conditions": [cond("FailureTarget", "FailedIndexes", "Job has failed indexes"),
                          cond("Failed", "FailedIndexes", "Job has failed indexes")]},
          events=[("Warning", "FailedIndexes", "Job has failed indexes")])),
    ("maxFailedIndexes 0: the first failed index fails the job",
     job(**INDEXED, backoffLimitPerIndex=0, maxFailedIndexes=0, backoffLimit=2**31 - 1,
         status={"startTime": T, "completedIndexes": ""}),
     [failed_pod("a", 1, index=0, tracked=False), pod("b", index=1)],
     want({**RUNNING, "active": 1, "completedIndexes": "", "failedIndexes": "0",
           "conditions": [cond("FailureTarget", "MaxFailedIndexesExceeded",
                               "Job has exceeded the specified maximal number of failed "
                               "indexes")]}, delete=["b"])),
    ("successPolicy: index 0 succeeding is enough; the rest is deleted",
     job(**INDEXED, successPolicy={"rules": [{"succeededIndexes": "0"}]},
         status={"startTime": T, "completedIndexes": "0", "succeeded": 1}),
     [pod("a", "Succeeded", index=0, tracked=False), pod("b", index=1)],
     want({**RUNNING, "active": 1, "succeeded": 1, "completedIndexes": "0",
           "conditions": [cond("SuccessCriteriaMet", "SuccessPolicy",
                               "Matched rules at index 0")]}, delete=["b"])),
]


@pytest.mark.parametrize(("j", "pods", "expected"), [c[1:] for c in POLICY_CASES],
                         ids=[c[0] for c in POLICY_CASES])
def test_policies(j: JSON, pods: list[JSON], expected: JSON) -> None:
    assert summary(j, pods) == expected


def test_next_pod_of_an_index_carries_its_failure_count() -> None:
    j = job(**INDEXED, backoffLimitPerIndex=3, backoffLimit=2**31 - 1,
            status={"startTime": T, "completedIndexes": "1", "succeeded": 1})
    p = plan_job(j, [failed_pod("a", 1, index=0, failures=1, tracked=False)], NOW)
    # two failures of index 0: a 20 s back-off from the last one, 30 s ago, has passed
    assert p.create == [0] and p.index_failures == {0: 2}
