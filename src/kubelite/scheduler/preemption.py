"""Preemption (kube-scheduler's DefaultPreemption plugin), pure.

Contract: a pod that fits on no node may preempt when its ``preemptionPolicy`` is not
``Never`` and it is not already waiting for victims to leave its nominated node. On each
node, every pod of lower priority is removed in thought; if the pod then fits, the
victims are the fewest of those, found by giving back the highest-priority ones first
while the pod still fits (``SelectVictimsOnNode``). Of the candidate nodes the one whose
most important victim has the lowest priority wins, then the lowest sum of victim
priorities, then the fewest victims (``pickOneNodeForPreemption``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from kubelite.api.meta import JSON

NEVER = "Never"
NOT_ELIGIBLE = "not eligible due to preemptionPolicy=Never."
# node_reasons(pod, node, pods on node) -> why the pod does not fit (empty: it fits)
Reasons = Callable[[JSON, JSON, Sequence[JSON]], list[str]]


def priority(pod: JSON) -> int:
    value = (pod.get("spec") or {}).get("priority")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _terminating(pod: JSON) -> bool:
    return bool((pod.get("metadata") or {}).get("deletionTimestamp"))


def eligible(pod: JSON, pods_by_node: Mapping[str, Sequence[JSON]]) -> str:
    """"" when ``pod`` may preempt, else why not (kube's PodEligibleToPreemptOthers)."""
    if (pod.get("spec") or {}).get("preemptionPolicy") == NEVER:
        return NOT_ELIGIBLE
    nominated = (pod.get("status") or {}).get("nominatedNodeName")
    if nominated:
        mine = priority(pod)
        if any(_terminating(p) and priority(p) < mine
               for p in pods_by_node.get(nominated, ())):
            return "waiting for victims on the nominated node to terminate"
    return ""


@dataclass(frozen=True)
class Candidate:
    node: str
    victims: tuple[JSON, ...]


def select_victims(pod: JSON, node: JSON, on_node: Sequence[JSON],
                   reasons: Reasons) -> tuple[JSON, ...] | None:
    """The pods to evict from ``node`` so that ``pod`` fits, or None when no eviction of
    lower-priority pods would do."""
    mine = priority(pod)
    lower = [p for p in on_node if priority(p) < mine and not _terminating(p)]
    if not lower:
        return None
    kept = [p for p in on_node if not (priority(p) < mine and not _terminating(p))]
    if reasons(pod, node, kept):
        return None  # evicting every lower pod is not enough (or not the problem)
    victims: list[JSON] = []
    for p in sorted(lower, key=lambda p: -priority(p)):  # reprieve the important first
        if reasons(pod, node, [*kept, p]):
            victims.append(p)
        else:
            kept.append(p)
    return tuple(victims)


def pick_candidate(pod: JSON, nodes: Sequence[JSON],
                   pods_by_node: Mapping[str, Sequence[JSON]],
                   reasons: Reasons) -> Candidate | None:
    """The node to preempt on and its victims, or None."""
    found: list[Candidate] = []
    for n in nodes:
        name = str((n.get("metadata") or {}).get("name"))
        victims = select_victims(pod, n, pods_by_node.get(name, ()), reasons)
        if victims:
            found.append(Candidate(name, victims))
    if not found:
        return None
    return min(found, key=lambda c: (max(priority(v) for v in c.victims),
                                     sum(priority(v) for v in c.victims), len(c.victims)))
