"""Preemption planning, table-driven: which node and which victims."""

from __future__ import annotations

from typing import Any

import pytest
from test_scheduler_filters import node

from kubelite.scheduler.filters import failure_message, node_reasons
from kubelite.scheduler.preemption import (
    NOT_ELIGIBLE,
    Candidate,
    eligible,
    pick_candidate,
    select_victims,
)


def p(name: str, cpu: str, prio: int = 0, deleting: bool = False,
      **spec: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "default"}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {"metadata": meta,
            "spec": {"priority": prio, "containers": [
                {"name": "c", "resources": {"requests": {"cpu": cpu}}}], **spec}}


def names(victims: tuple[dict[str, Any], ...] | None) -> list[str] | None:
    return None if victims is None else [v["metadata"]["name"] for v in victims]


VICTIM_CASES = [
    ("one lower pod in the way", p("hi", "1500m", 100), [p("lo", "1500m", 0)], ["lo"]),
    ("equal priority is never a victim", p("hi", "1500m", 100), [p("same", "1500m", 100)],
     None),
    ("only as many as needed, the least important go", p("hi", "600m", 100),
     [p("a", "600m", 10), p("b", "600m", 5), p("c", "600m", 50)], ["b"]),
    ("evicting every lower pod is not enough", p("hi", "1500m", 100),
     [p("lo", "1", 0), p("top", "1", 1000)], None),
    ("a terminating pod is not chosen again", p("hi", "1500m", 100),
     [p("lo", "1500m", 0, deleting=True)], None),
]


@pytest.mark.parametrize(("name", "pod", "on_node", "want"), VICTIM_CASES,
                         ids=[c[0] for c in VICTIM_CASES])
def test_select_victims(name: str, pod: dict[str, Any], on_node: list[dict[str, Any]],
                        want: list[str] | None) -> None:
    assert names(select_victims(pod, node(), on_node, node_reasons)) == want


def test_pick_the_node_with_the_least_important_victims() -> None:
    nodes = [node("n1"), node("n2")]
    by_node = {"n1": [p("x", "2", 50)], "n2": [p("y", "2", 10)]}
    got = pick_candidate(p("hi", "1", 100), nodes, by_node, node_reasons)
    assert got == Candidate("n2", (by_node["n2"][0],))
    # a node where preemption cannot help (a taint) is no candidate
    tainted = [node("n1", taints=[{"key": "k", "effect": "NoSchedule"}])]
    assert pick_candidate(p("hi", "1", 100), tainted, {"n1": [p("x", "2", 0)]},
                          node_reasons) is None


def test_eligibility() -> None:
    assert eligible(p("hi", "1", 100, preemptionPolicy="Never"), {}) == NOT_ELIGIBLE
    assert eligible(p("hi", "1", 100), {}) == ""
    waiting = p("hi", "1", 100)
    waiting["status"] = {"nominatedNodeName": "n1"}
    assert eligible(waiting, {"n1": [p("lo", "2", 0, deleting=True)]}) != ""
    assert eligible(waiting, {"n1": [p("lo", "2", 0)]}) == ""


def test_never_message() -> None:
    assert failure_message(1, {"n1": ["Insufficient cpu"]}, NOT_ELIGIBLE) == (
        "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to "
        "preemptionPolicy=Never.")
    assert failure_message(1, {"n1": ["Insufficient cpu"]}, "") == (
        "0/1 nodes are available: 1 Insufficient cpu.")
