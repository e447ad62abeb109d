"""Which pods a ReplicaSet deletes first when it scales down (``ActivePodsWithRanks``).

Contract: :func:`deletion_order` sorts pods so that the first ones are the cheapest to
lose, comparing in this order (as kube-controller-manager 1.32 does):

1. not assigned to a node < assigned;
2. phase Pending < Unknown < Running;
3. not ready < ready;
4. more pods of the same controller on the same node (rank) < fewer;
5. ready for a shorter time < longer (the newer of the two ready times; unset first);
6. more container restarts < fewer;
7. created later < earlier;
8. otherwise by name, for a stable order.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence

from kubelite.controllers.pods import (
    JSON,
    creation,
    is_ready,
    meta,
    phase,
    ready_since,
    restart_count,
)

_PHASE_ORDER = {"Pending": 0, "Unknown": 1, "Running": 2}
_MAX_TIME = dt.datetime.max.replace(tzinfo=dt.UTC)


def _node(pod: JSON) -> str:
    return str((pod.get("spec") or {}).get("nodeName") or "")


def node_ranks(pods: Sequence[JSON], related: Sequence[JSON] | None = None) -> list[int]:
    """For each pod, how many of ``related`` (default ``pods``) share its node (0 when
    unassigned)."""
    per_node = Counter(_node(p) for p in (related if related is not None else pods)
                       if _node(p))
    return [per_node[_node(p)] if _node(p) else 0 for p in pods]


def _neg_time(t: dt.datetime | None) -> float:
    """Sorts an unset time first, later times before earlier ones."""
    if t is None:
        return float("-inf")
    return -t.timestamp()


def _sort_key(pod: JSON, rank: int) -> tuple[object, ...]:
    ready = is_ready(pod)
    since = ready_since(pod) if ready else None
    return (
        1 if _node(pod) else 0,
        _PHASE_ORDER.get(phase(pod), 0 if not phase(pod) else 1),
        1 if ready else 0,
        -rank,
        # shorter ready time first: a later (newer) transition sorts first
        _neg_time(since) if ready else 0.0,
        -restart_count(pod),
        _inverted(creation(pod)),
        str(meta(pod).get("name") or ""),
    )


def _inverted(ts: str) -> tuple[int, ...]:
    """Later timestamps first (RFC 3339 strings compare as times)."""
    return tuple(-ord(c) for c in ts)


def deletion_order(pods: Sequence[JSON], related: Sequence[JSON] | None = None) -> list[JSON]:
    """``pods`` sorted cheapest-to-delete first (see the module contract)."""
    ranks = node_ranks(pods, related)
    order = sorted(range(len(pods)), key=lambda i: _sort_key(pods[i], ranks[i]))
    return [pods[i] for i in order]
