"""The StatefulSet controller's pure decisions (``stateful_set_control.go``).

:func:`plan` takes a StatefulSet, the pods it owns, the names of the claims that exist,
its current and update revisions and ``now``, and says what to do next:

- every ordinal ``start .. start+replicas-1`` has a pod ``NAME-ORDINAL``; missing claims
  ``TEMPLATE-NAME-ORDINAL`` are created before their pod;
- ``OrderedReady``: one step at a time, in ordinal order: a pod is created only when all
  lower ordinals are Running and Ready; failed pods are deleted to be re-created; pods
  out of range are deleted from the highest ordinal down, one at a time, once all the
  others are healthy; ``Parallel`` does all of it at once;
- ``RollingUpdate``: once every pod is healthy, the highest-ordinal pod at or above the
  partition whose ``controller-revision-hash`` is not the update revision is deleted (it
  comes back at the update revision); pods below the partition keep the current one;
  ``OnDelete`` replaces nothing;
- the status (replicas, ready, available, current and updated counts and revisions).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from kubelite.api.meta import JSON, dig
from kubelite.controllers.pods import is_available, is_ready

REVISION_LABEL = "controller-revision-hash"
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"


@dataclass
class Plan:
    """``create``: (ordinal, revision name) of pods to create, in order; ``claims``:
    ``(template name, ordinal)`` of claims to create first; ``delete``: pods to delete."""

    create: list[tuple[int, str]] = field(default_factory=list)
    claims: list[tuple[str, int]] = field(default_factory=list)
    delete: list[JSON] = field(default_factory=list)
    status: JSON = field(default_factory=dict)


def ordinal_of(set_name: str, pod: JSON) -> int | None:
    """The ordinal in ``NAME-ORDINAL`` (None when the pod is not named so)."""
    m = re.fullmatch(re.escape(set_name) + r"-(\d+)", str(dig(pod, "metadata", "name") or ""))
    return int(m.group(1)) if m else None


def claim_name(template: str, set_name: str, ordinal: int) -> str:
    return f"{template}-{set_name}-{ordinal}"


def _spec(sts: JSON) -> JSON:
    s = sts.get("spec")
    return s if isinstance(s, dict) else {}


def replicas_of(sts: JSON) -> int:
    r = _spec(sts).get("replicas")
    return 1 if r is None else int(r)


def start_of(sts: JSON) -> int:
    return int(dig(sts, "spec", "ordinals", "start") or 0)


def partition_of(sts: JSON) -> int:
    if dig(sts, "spec", "updateStrategy", "type") == "OnDelete":
        return 0
    return int(dig(sts, "spec", "updateStrategy", "rollingUpdate", "partition") or 0)


def _terminating(pod: JSON) -> bool:
    return bool(dig(pod, "metadata", "deletionTimestamp"))


def _failed(pod: JSON) -> bool:
    return dig(pod, "status", "phase") in ("Failed", "Succeeded")


def _healthy(pod: JSON) -> bool:
    return (dig(pod, "status", "phase") == "Running" and is_ready(pod)
            and not _terminating(pod))


def revision_of(pod: JSON) -> str:
    return str(dig(pod, "metadata", "labels", REVISION_LABEL) or "")


def plan(sts: JSON, pods: list[JSON], claims: set[str], current: str, update: str,
         now: dt.datetime) -> Plan:
    """What to do for ``sts`` now (see the module contract)."""
    name = str(dig(sts, "metadata", "name"))
    start, replicas = start_of(sts), replicas_of(sts)
    wanted = range(start, start + replicas)
    monotonic = _spec(sts).get("podManagementPolicy") != "Parallel"
    partition = partition_of(sts)
    templates = [str(dig(t, "metadata", "name")) for t in _spec(sts).get("volumeClaimTemplates")
                 or [] if isinstance(t, dict)]
    by_ordinal: dict[int, JSON] = {}
    for pod in pods:
        ordinal = ordinal_of(name, pod)
        if ordinal is not None:
            by_ordinal[ordinal] = pod
    p = Plan(status=compute_status(sts, pods, current, update, now))
    if dig(sts, "metadata", "deletionTimestamp"):
        return p
    blocked = False
    for ordinal in wanted:
        have = by_ordinal.get(ordinal)
        if blocked:
            continue
        # a pod's claims are created with it, and re-created while it lives
        p.claims += [(t, ordinal) for t in templates if claim_name(t, name, ordinal) not in claims]
        if have is None:
            revision = current if ordinal - start < partition else update
            p.create.append((ordinal, revision))
            blocked = monotonic
        elif _failed(have) and not _terminating(have):
            p.delete.append(have)
            blocked = monotonic
        elif not _healthy(have):
            blocked = monotonic
    if blocked:
        return p
    condemned = sorted((o for o in by_ordinal if o not in wanted), reverse=True)
    for ordinal in condemned:
        doomed = by_ordinal[ordinal]
        if _terminating(doomed):
            if monotonic:
                return p
            continue
        p.delete.append(doomed)
        if monotonic:
            return p
    if condemned or p.create or p.delete:
        return p
    if dig(sts, "spec", "updateStrategy", "type") == "OnDelete":
        return p
    for ordinal in sorted(wanted, reverse=True):
        if ordinal - start < partition:
            break
        replica = by_ordinal[ordinal]
        if revision_of(replica) != update and not _terminating(replica):
            p.delete.append(replica)
            return p
        if not _healthy(replica):
            return p
    return p


def compute_status(sts: JSON, pods: list[JSON], current: str, update: str,
                   now: dt.datetime) -> JSON:
    """The StatefulSet's status for the pods it owns."""
    live = [p for p in pods if not _failed(p)]
    mrs = int(_spec(sts).get("minReadySeconds") or 0)
    status: JSON = {
        "replicas": len(live),
        "readyReplicas": sum(1 for p in live if is_ready(p) and not _terminating(p)),
        "availableReplicas": sum(1 for p in live if is_available(p, mrs, now)
                                 and not _terminating(p)),
        "currentReplicas": sum(1 for p in live if revision_of(p) == current),
        "updatedReplicas": sum(1 for p in live if revision_of(p) == update),
        "currentRevision": current,
        "updateRevision": update,
        "collisionCount": int(dig(sts, "status", "collisionCount") or 0),
    }
    generation = dig(sts, "metadata", "generation")
    if generation:
        status["observedGeneration"] = generation
    replicas = replicas_of(sts)
    if (status["updatedReplicas"] == replicas == status["replicas"]
            and status["readyReplicas"] == replicas):
        # the rolling update is complete: the update revision becomes the current one
        status["currentRevision"] = update
        status["currentReplicas"] = status["updatedReplicas"]
    for key in ("readyReplicas", "availableReplicas", "currentReplicas", "updatedReplicas"):
        if not status[key] and key != "availableReplicas":
            del status[key]
    return status
