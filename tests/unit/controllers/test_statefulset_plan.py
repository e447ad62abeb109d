"""The StatefulSet planner: which pods and claims to create or delete next, for
OrderedReady and Parallel, scale down, rolling updates with a partition, and OnDelete
(tables comparing whole plans)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kubelite.controllers.statefulset_plan import compute_status, plan

JSON = dict[str, Any]
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
OLD, NEW = "web-old", "web-new"


def sts(replicas: int = 3, policy: str = "OrderedReady", partition: int = 0,
        strategy: str = "RollingUpdate", claims: bool = True) -> JSON:
    spec: JSON = {"replicas": replicas, "podManagementPolicy": policy,
                  "updateStrategy": {"type": strategy}}
    if strategy == "RollingUpdate":
        spec["updateStrategy"]["rollingUpdate"] = {"partition": partition}
    if claims:
        spec["volumeClaimTemplates"] = [{"metadata": {"name": "data"}}]
    return {"metadata": {"name": "web", "generation": 1}, "spec": spec}


def pod(ordinal: int, state: str = "ready", revision: str = NEW) -> JSON:
    p: JSON = {"metadata": {"name": f"web-{ordinal}",
                            "labels": {"controller-revision-hash": revision}},
               "status": {"phase": "Running" if state in ("ready", "running") else
                          {"pending": "Pending", "failed": "Failed"}.get(state, "Running")}}
    if state == "ready":
        p["status"]["conditions"] = [{"type": "Ready", "status": "True",
                                      "lastTransitionTime": "2025-12-31T00:00:00Z"}]
    if state == "terminating":
        p["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return p


def claims(*ordinals: int) -> set[str]:
    return {f"data-web-{o}" for o in ordinals}


def names(pods: list[JSON]) -> list[str]:
    return [p["metadata"]["name"] for p in pods]


@pytest.mark.parametrize(("the_set", "pods", "have", "create", "new_claims", "delete"), [
    # OrderedReady: one at a time, each after the previous is Running and Ready
    (sts(), [], set(), [(0, NEW)], [("data", 0)], []),
    (sts(), [pod(0, "running")], claims(0), [], [], []),
    (sts(), [pod(0)], claims(0), [(1, NEW)], [("data", 1)], []),
    (sts(), [pod(0), pod(1, "pending")], claims(0, 1), [], [], []),
    # Parallel: all at once
    (sts(policy="Parallel"), [], set(), [(0, NEW), (1, NEW), (2, NEW)],
     [("data", 0), ("data", 1), ("data", 2)], []),
    # a failed pod is deleted to be re-created; its claim stays
    (sts(), [pod(0, "failed")], claims(0), [], [], ["web-0"]),
    # a lost claim of a live pod is re-created
    (sts(claims=True), [pod(0, "running")], set(), [], [("data", 0)], []),
    # scale down: highest ordinal first, one at a time, none while one terminates
    (sts(1), [pod(0), pod(1), pod(2)], claims(0, 1, 2), [], [], ["web-2"]),
    (sts(1), [pod(0), pod(1), pod(2, "terminating")], claims(0, 1, 2), [], [], []),
    (sts(1, policy="Parallel"), [pod(0), pod(1), pod(2)], claims(0, 1, 2), [], [],
     ["web-2", "web-1"]),
    # rolling update: from the highest ordinal, only when all are healthy
    (sts(), [pod(0, revision=OLD), pod(1, revision=OLD), pod(2, revision=OLD)],
     claims(0, 1, 2), [], [], ["web-2"]),
    (sts(), [pod(0, revision=OLD), pod(1, revision=OLD), pod(2, "running")],
     claims(0, 1, 2), [], [], []),
    (sts(), [pod(0, revision=OLD), pod(1, revision=OLD), pod(2)], claims(0, 1, 2), [], [],
     ["web-1"]),
    # partition 2: ordinals below it keep the current revision, also when re-created
    (sts(partition=2), [pod(0, revision=OLD), pod(1, revision=OLD), pod(2)],
     claims(0, 1, 2), [], [], []),
    (sts(partition=2), [pod(1, revision=OLD), pod(2)], claims(0, 1, 2), [(0, OLD)], [], []),
    # OnDelete: nothing is replaced
    (sts(strategy="OnDelete"), [pod(0, revision=OLD), pod(1, revision=OLD),
                                pod(2, revision=OLD)], claims(0, 1, 2), [], [], []),
])
def test_plan(the_set: JSON, pods: list[JSON], have: set[str], create: list[tuple[int, str]],
              new_claims: list[tuple[str, int]], delete: list[str]) -> None:
    p = plan(the_set, pods, have, OLD, NEW, NOW)
    assert (p.create, p.claims, names(p.delete)) == (create, new_claims, delete)


def test_status_counts_and_completes_the_rollout() -> None:
    mixed = [pod(0, revision=OLD), pod(1, "running"), pod(2, "failed")]
    assert compute_status(sts(), mixed, OLD, NEW, NOW) == {
        "replicas": 2, "readyReplicas": 1, "availableReplicas": 1, "currentReplicas": 1,
        "updatedReplicas": 1, "currentRevision": OLD, "updateRevision": NEW,
        "collisionCount": 0, "observedGeneration": 1}
    done = [pod(0), pod(1), pod(2)]
    assert compute_status(sts(), done, OLD, NEW, NOW) == {
        "replicas": 3, "readyReplicas": 3, "availableReplicas": 3, "currentReplicas": 3,
        "updatedReplicas": 3, "currentRevision": NEW, "updateRevision": NEW,
        "collisionCount": 0, "observedGeneration": 1}
