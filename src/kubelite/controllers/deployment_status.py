"""A Deployment's status and conditions, as pure functions (``syncRolloutStatus`` upstream).

Contract: nothing here reads or writes the API. :func:`calculate_status` derives the
counters and the Available condition from the ReplicaSets; :func:`rollout_status` adds
Progressing (NewReplicaSetAvailable, ReplicaSetUpdated, ProgressDeadlineExceeded) and
ReplicaFailure, which is what ``kubectl rollout status`` reads. A condition whose status
and reason are unchanged is kept as is (its timestamps too); a change of reason alone
keeps its lastTransitionTime. The reason constants are the upstream ones.
"""

from __future__ import annotations

import copy
import datetime as dt

from kubelite.api.meta import JSON
from kubelite.api.meta_time import parse_time, rfc3339
from kubelite.controllers import rollout as ro
from kubelite.controllers.pods import meta

PROGRESSING = "Progressing"
AVAILABLE = "Available"
REPLICA_FAILURE = "ReplicaFailure"
NEW_RS_CREATED = "NewReplicaSetCreated"
FOUND_NEW_RS = "FoundNewReplicaSet"
RS_UPDATED = "ReplicaSetUpdated"
NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
TIMED_OUT = "ProgressDeadlineExceeded"
PAUSED = "DeploymentPaused"
RESUMED = "DeploymentResumed"
MIN_AVAILABLE = "MinimumReplicasAvailable"
MIN_UNAVAILABLE = "MinimumReplicasUnavailable"

# -- conditions -------------------------------------------------------------------------

def get_condition(status: JSON, type_: str) -> JSON | None:
    for c in status.get("conditions") or []:
        if c.get("type") == type_:
            return dict(c)
    return None


def set_condition(status: JSON, type_: str, cond_status: str, reason: str, message: str,
                  now: dt.datetime) -> None:
    """``SetDeploymentCondition``: a condition with the same status and reason is kept as
    is; the same status with a new reason keeps its lastTransitionTime."""
    current = get_condition(status, type_)
    if current is not None and current.get("status") == cond_status \
            and current.get("reason") == reason:
        return
    ts = rfc3339(now)
    new = {"type": type_, "status": cond_status, "lastUpdateTime": ts,
           "lastTransitionTime": ts, "reason": reason, "message": message}
    if current is not None and current.get("status") == cond_status:
        new["lastTransitionTime"] = current.get("lastTransitionTime", ts)
    others = [c for c in status.get("conditions") or [] if c.get("type") != type_]
    status["conditions"] = [*others, new]


def remove_condition(status: JSON, type_: str) -> None:
    conds = [c for c in status.get("conditions") or [] if c.get("type") != type_]
    if conds:
        status["conditions"] = conds
    else:
        status.pop("conditions", None)


def has_progress_deadline(d: JSON) -> bool:
    value = (d.get("spec") or {}).get("progressDeadlineSeconds")
    return value is not None and int(value) != 2**31 - 1


# -- pure status ------------------------------------------------------------------------

def calculate_status(d: JSON, all_rses: list[JSON], new_rs: JSON | None,
                     now: dt.datetime) -> JSON:
    """Counters from the ReplicaSets and the Available condition (``calculateStatus``);
    other conditions are carried over."""
    old = d.get("status") or {}
    available = ro.status_count(all_rses, "availableReplicas")
    unavailable = max(ro.spec_replicas(all_rses) - available, 0)
    counts = {
        "observedGeneration": meta(d).get("generation"),
        "replicas": ro.status_count(all_rses, "replicas"),
        "updatedReplicas": ro.status_count([new_rs], "replicas"),
        "readyReplicas": ro.status_count(all_rses, "readyReplicas"),
        "availableReplicas": available,
        "unavailableReplicas": unavailable,
        "collisionCount": old.get("collisionCount"),
    }
    status: JSON = {k: v for k, v in counts.items() if v}
    if old.get("conditions"):
        status["conditions"] = copy.deepcopy(old["conditions"])
    if available >= ro.replicas_of(d) - ro.max_unavailable(d):
        set_condition(status, AVAILABLE, "True", MIN_AVAILABLE,
                      "Deployment has minimum availability.", now)
    else:
        set_condition(status, AVAILABLE, "False", MIN_UNAVAILABLE,
                      "Deployment does not have minimum availability.", now)
    return status


def deployment_complete(d: JSON, status: JSON) -> bool:
    want = ro.replicas_of(d)
    return (int(status.get("updatedReplicas") or 0) == want
            and int(status.get("replicas") or 0) == want
            and int(status.get("availableReplicas") or 0) == want
            and int(status.get("observedGeneration") or 0) >= int(meta(d).get("generation") or 0))


def deployment_progressing(d: JSON, status: JSON) -> bool:
    old = d.get("status") or {}

    def g(s: JSON, k: str) -> int:
        return int(s.get(k) or 0)

    old_old = g(old, "replicas") - g(old, "updatedReplicas")
    new_old = g(status, "replicas") - g(status, "updatedReplicas")
    return (g(status, "updatedReplicas") > g(old, "updatedReplicas") or new_old < old_old
            or g(status, "readyReplicas") > g(old, "readyReplicas")
            or g(status, "availableReplicas") > g(old, "availableReplicas"))


def timed_out(d: JSON, status: JSON, now: dt.datetime) -> bool:
    if not has_progress_deadline(d):
        return False
    cond = get_condition(status, PROGRESSING)
    if cond is None:
        return False
    if cond.get("reason") == NEW_RS_AVAILABLE:
        return False
    if cond.get("reason") == TIMED_OUT:
        return True
    try:
        since = parse_time(str(cond.get("lastUpdateTime")))
    except ValueError:
        return False
    deadline = int((d.get("spec") or {}).get("progressDeadlineSeconds") or 600)
    return since + dt.timedelta(seconds=deadline) < now


def rollout_status(d: JSON, all_rses: list[JSON], new_rs: JSON | None,
                   now: dt.datetime) -> JSON:
    """The status after a rollout step, with the Progressing condition (``syncRolloutStatus``)."""
    status = calculate_status(d, all_rses, new_rs, now)
    if not has_progress_deadline(d):
        remove_condition(status, PROGRESSING)
    current = get_condition(status, PROGRESSING)
    complete_already = (int(status.get("replicas") or 0) == int(status.get("updatedReplicas")
                                                                or 0)
                        and current is not None and current.get("reason") == NEW_RS_AVAILABLE)
    if has_progress_deadline(d) and not complete_already:
        rs_name = meta(new_rs).get("name") if new_rs is not None else None
        if deployment_complete(d, status):
            msg = (f'ReplicaSet "{rs_name}" has successfully progressed.' if rs_name
                   else f'Deployment "{meta(d).get("name")}" has successfully progressed.')
            set_condition(status, PROGRESSING, "True", NEW_RS_AVAILABLE, msg, now)
        elif deployment_progressing(d, status):
            msg = (f'ReplicaSet "{rs_name}" is progressing.' if rs_name
                   else f'Deployment "{meta(d).get("name")}" is progressing.')
            ts = rfc3339(now)
            cond = {"type": PROGRESSING, "status": "True", "lastUpdateTime": ts,
                    "lastTransitionTime": ts, "reason": RS_UPDATED, "message": msg}
            if current is not None and current.get("status") == "True":
                cond["lastTransitionTime"] = current.get("lastTransitionTime", ts)
            remove_condition(status, PROGRESSING)
            status["conditions"] = [*(status.get("conditions") or []), cond]
        elif timed_out(d, status, now):
            msg = (f'ReplicaSet "{rs_name}" has timed out progressing.' if rs_name
                   else f'Deployment "{meta(d).get("name")}" has timed out progressing.')
            set_condition(status, PROGRESSING, "False", TIMED_OUT, msg, now)
    failures = [get_condition(r.get("status") or {}, REPLICA_FAILURE) for r in all_rses]
    failure = next((f for f in failures if f is not None and f.get("status") == "True"), None)
    if failure is not None:
        set_condition(status, REPLICA_FAILURE, "True", str(failure.get("reason") or ""),
                      str(failure.get("message") or ""), now)
    else:
        remove_condition(status, REPLICA_FAILURE)
    return status
