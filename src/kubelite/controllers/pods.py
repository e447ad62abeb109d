"""Facts about pods that every workload controller reads (``podutil`` upstream).

Contracts: a pod is *active* unless it has terminated (Succeeded/Failed) or is being
deleted; *ready* when its Ready condition is True; *available* when it has been ready for
at least ``min_ready_seconds`` at ``now``.
"""

from __future__ import annotations

import datetime as dt

from kubelite.api.meta import JSON as JSON
from kubelite.api.meta_time import parse_time


def meta(obj: JSON) -> JSON:
    m: JSON = obj.get("metadata") or {}
    return m


def uid(obj: JSON) -> str:
    return str(meta(obj).get("uid") or "")


def labels(obj: JSON) -> dict[str, str]:
    return dict(meta(obj).get("labels") or {})


def phase(pod: JSON) -> str:
    return str((pod.get("status") or {}).get("phase") or "")


def is_active(pod: JSON) -> bool:
    return phase(pod) not in ("Succeeded", "Failed") and not meta(pod).get("deletionTimestamp")


def ready_condition(pod: JSON) -> JSON | None:
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return dict(c)
    return None


def is_ready(pod: JSON) -> bool:
    c = ready_condition(pod)
    return c is not None and c.get("status") == "True"


def ready_since(pod: JSON) -> dt.datetime | None:
    c = ready_condition(pod)
    if c is None or c.get("status") != "True" or not c.get("lastTransitionTime"):
        return None
    try:
        return parse_time(str(c["lastTransitionTime"]))
    except ValueError:
        return None


def is_available(pod: JSON, min_ready_seconds: int, now: dt.datetime) -> bool:
    """Ready, and ready for ``min_ready_seconds`` (``podutil.IsPodAvailable``)."""
    if not is_ready(pod):
        return False
    if min_ready_seconds <= 0:
        return True
    since = ready_since(pod)
    return since is not None and since + dt.timedelta(seconds=min_ready_seconds) <= now


def available_in(pod: JSON, min_ready_seconds: int, now: dt.datetime) -> float | None:
    """Seconds until a ready pod becomes available, None if it is not ready or already is."""
    if not is_ready(pod) or min_ready_seconds <= 0:
        return None
    since = ready_since(pod)
    if since is None:
        return None
    left = (since + dt.timedelta(seconds=min_ready_seconds) - now).total_seconds()
    return left if left > 0 else None


def owner_refs(obj: JSON) -> list[JSON]:
    return [r for r in meta(obj).get("ownerReferences") or [] if isinstance(r, dict)]


def controller_ref_of(obj: JSON) -> JSON | None:
    for r in owner_refs(obj):
        if r.get("controller") is True:
            return r
    return None


def restart_count(pod: JSON) -> int:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return max((int(s.get("restartCount") or 0) for s in statuses), default=0)


def creation(obj: JSON) -> str:
    return str(meta(obj).get("creationTimestamp") or "")
