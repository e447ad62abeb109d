"""Disruption budgets: the status the controller computes and what an eviction spends
(tables comparing whole results)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kubelite.api.errors import StatusError
from kubelite.apiserver.eviction import VIOLATION, spend
from kubelite.controllers.disruption import budget_status

JSON = dict[str, Any]
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def pdb(**spec: Any) -> JSON:
    return {"metadata": {"name": "b", "generation": 2}, "spec": spec, "status": {}}


def pod(name: str, ready: bool = True, deleting: bool = False) -> JSON:
    p: JSON = {"metadata": {"name": name},
               "status": {"conditions": [{"type": "Ready",
                                          "status": "True" if ready else "False"}]}}
    if deleting:
        p["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return p


THREE = [pod("a"), pod("b"), pod("c", ready=False)]


@pytest.mark.parametrize(("budget", "pods", "scale", "expected"), [
    # integer minAvailable: expected = the pods selected
    (pdb(minAvailable=1), THREE, None, (2, 1, 3, 1)),
    (pdb(minAvailable=2), THREE, None, (2, 2, 3, 0)),
    # maxUnavailable and percentages count against the controllers' replicas
    (pdb(maxUnavailable=1), THREE, 3, (2, 2, 3, 0)),
    (pdb(maxUnavailable="50%"), THREE, 4, (2, 2, 4, 0)),
    (pdb(minAvailable="50%"), THREE, 3, (2, 2, 3, 0)),
    (pdb(minAvailable="30%"), THREE, 3, (2, 1, 3, 1)),
    # pods being deleted are not healthy
    (pdb(minAvailable=1), [pod("a"), pod("b", deleting=True)], None, (1, 1, 2, 0)),
    (pdb(minAvailable=0), [], None, (0, 0, 0, 0)),
])
def test_budget_status(budget: JSON, pods: list[JSON], scale: int | None,
                       expected: tuple[int, int, int, int]) -> None:
    status, _ = budget_status(budget, pods, scale, NOW)
    assert (status["currentHealthy"], status["desiredHealthy"], status["expectedPods"],
            status["disruptionsAllowed"]) == expected
    assert status["observedGeneration"] == 2
    allowed = status["conditions"][0]
    assert (allowed["type"], allowed["status"], allowed["reason"]) == (
        ("DisruptionAllowed", "True", "SufficientPods") if expected[3] else
        ("DisruptionAllowed", "False", "InsufficientPods"))


def test_recent_evictions_count_as_unhealthy_until_they_expire() -> None:
    budget = pdb(minAvailable=1)
    budget["status"] = {"disruptedPods": {"a": "2025-12-31T23:59:30Z",
                                          "b": "2025-12-31T23:00:00Z"}}
    status, _ = budget_status(budget, [pod("a"), pod("b")], None, NOW)
    assert (status["currentHealthy"], status["disruptionsAllowed"], status["disruptedPods"]) == (
        1, 0, {"a": "2025-12-31T23:59:30Z"})


@pytest.mark.parametrize(("status", "generation", "cause"), [
    ({"observedGeneration": 1, "disruptionsAllowed": 1}, 2,
     "The disruption budget b is still being processed by the server."),
    ({"observedGeneration": 2, "disruptionsAllowed": 0, "desiredHealthy": 2,
      "currentHealthy": 2}, 2, "The disruption budget b needs 2 healthy pods and has 2 currently"),
])
def test_eviction_refused(status: JSON, generation: int, cause: str) -> None:
    budget = {"metadata": {"name": "b", "generation": generation}, "status": status}
    with pytest.raises(StatusError) as err:
        spend(budget, "p")
    assert (err.value.code, err.value.reason, err.value.message) == (
        429, "TooManyRequests", VIOLATION)
    assert [(c.reason, c.message) for c in err.value.causes] == [("DisruptionBudget", cause)]


def test_eviction_spends_one_disruption() -> None:
    budget = {"metadata": {"name": "b", "generation": 1},
              "status": {"observedGeneration": 1, "disruptionsAllowed": 2}}
    out = spend(budget, "p")
    assert out["status"]["disruptionsAllowed"] == 1
    assert list(out["status"]["disruptedPods"]) == ["p"]
