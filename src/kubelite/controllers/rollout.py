"""The Deployment controller's arithmetic (``deploymentutil`` upstream), as pure functions.

Contracts:
- :func:`scaled_value` resolves an int-or-percent against a total, rounding a percent up
  or down as asked; :func:`resolve_fenceposts` gives (maxSurge, maxUnavailable) with
  maxSurge rounded up, maxUnavailable down, and maxUnavailable 1 if both come out 0;
- :func:`new_rs_replicas` is how far the new ReplicaSet may grow now during a rolling
  update without passing ``replicas + maxSurge`` pods in all;
- :func:`old_scale_down` is how many pods the old ReplicaSets may lose now without falling
  below ``replicas - maxUnavailable`` available pods.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from kubelite.api.meta import JSON

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
CHANGE_CAUSE = "kubernetes.io/change-cause"
POD_TEMPLATE_HASH = "pod-template-hash"


class BadIntOrPercent(ValueError):
    """An int-or-string value that is neither an int nor ``N%``."""


def scaled_value(value: int | str | None, total: int, round_up: bool) -> int:
    """``intstr.GetScaledValueFromIntOrPercent``."""
    if value is None:
        return 0
    if isinstance(value, bool):
        raise BadIntOrPercent(f"invalid value {value!r}")
    if isinstance(value, int):
        return value
    text = str(value)
    if not text.endswith("%"):
        try:
            return int(text)
        except ValueError:
            raise BadIntOrPercent(f"invalid value for IntOrString: invalid value {text!r}") \
                from None
    try:
        pct = int(text[:-1])
    except ValueError:
        raise BadIntOrPercent(f"invalid value {text!r}") from None
    exact = pct * total / 100
    return math.ceil(exact) if round_up else math.floor(exact)


def rolling_params(deploy: JSON) -> tuple[int | str | None, int | str | None]:
    ru = ((deploy.get("spec") or {}).get("strategy") or {}).get("rollingUpdate") or {}
    return ru.get("maxSurge", "25%"), ru.get("maxUnavailable", "25%")


def replicas_of(obj: JSON) -> int:
    value = (obj.get("spec") or {}).get("replicas")
    return 1 if value is None else int(value)


def is_rolling(deploy: JSON) -> bool:
    strategy = (deploy.get("spec") or {}).get("strategy") or {}
    return bool(strategy.get("type", "RollingUpdate") == "RollingUpdate")


def resolve_fenceposts(max_surge: int | str | None, max_unavailable: int | str | None,
                       desired: int) -> tuple[int, int]:
    surge = scaled_value(max_surge, desired, True)
    unavailable = scaled_value(max_unavailable, desired, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def max_surge(deploy: JSON) -> int:
    if not is_rolling(deploy):
        return 0
    s, u = rolling_params(deploy)
    return resolve_fenceposts(s, u, replicas_of(deploy))[0]


def max_unavailable(deploy: JSON) -> int:
    """``deploymentutil.MaxUnavailable``: 0 for Recreate or no replicas, at most replicas."""
    desired = replicas_of(deploy)
    if not is_rolling(deploy) or desired == 0:
        return 0
    s, u = rolling_params(deploy)
    return min(resolve_fenceposts(s, u, desired)[1], desired)


def spec_replicas(rses: Sequence[JSON | None]) -> int:
    return sum(replicas_of(r) for r in rses if r is not None)


def status_count(rses: Sequence[JSON | None], field: str) -> int:
    return sum(int((r.get("status") or {}).get(field) or 0) for r in rses if r is not None)


def new_rs_replicas(deploy: JSON, all_rses: Sequence[JSON], new_rs: JSON) -> int:
    """The size the new ReplicaSet should have now (``NewRSNewReplicas``)."""
    desired = replicas_of(deploy)
    if not is_rolling(deploy):
        return desired
    current = spec_replicas(all_rses)
    most = desired + max_surge(deploy)
    if current >= most:
        return replicas_of(new_rs)
    up = min(most - current, desired - replicas_of(new_rs))
    return replicas_of(new_rs) + max(up, 0)


def old_scale_down_budget(deploy: JSON, all_rses: Sequence[JSON], new_rs: JSON | None) -> int:
    """Pods the old ReplicaSets may lose now (``reconcileOldReplicaSets``: all pods, less
    the minimum available, less the new ReplicaSet's unavailable ones)."""
    min_available = replicas_of(deploy) - max_unavailable(deploy)
    new_unavailable = 0
    if new_rs is not None:
        new_unavailable = replicas_of(new_rs) - int((new_rs.get("status") or {})
                                                    .get("availableReplicas") or 0)
    return spec_replicas(all_rses) - min_available - new_unavailable


def _available(rs: JSON) -> int:
    return int((rs.get("status") or {}).get("availableReplicas") or 0)


def plan_old_scale_down(deploy: JSON, new_rs: JSON | None,
                        old_rses: Sequence[JSON]) -> dict[str, int]:
    """New sizes for old ReplicaSets during a rolling update: unhealthy replicas are
    cleaned up first, then available ones while at least ``replicas - maxUnavailable``
    pods stay available. Oldest ReplicaSets first. Names absent from the result keep
    their size."""
    active_old = [r for r in old_rses if replicas_of(r) > 0]
    if not active_old:
        return {}
    all_rses = [*old_rses, *([new_rs] if new_rs is not None else [])]
    budget = old_scale_down_budget(deploy, all_rses, new_rs)
    if budget <= 0:
        return {}
    out: dict[str, int] = {}
    sizes = {name_of(r): replicas_of(r) for r in old_rses}
    # 1. unhealthy replicas
    cleaned = 0
    for r in sorted(active_old, key=_age_key):
        if cleaned >= budget:
            break
        n = name_of(r)
        unhealthy = sizes[n] - _available(r)
        if sizes[n] == 0 or unhealthy <= 0:
            continue
        cut = min(budget - cleaned, unhealthy)
        sizes[n] -= cut
        out[n] = sizes[n]
        cleaned += cut
    # 2. available replicas, keeping the minimum available
    min_available = replicas_of(deploy) - max_unavailable(deploy)
    available = sum(_available(r) for r in all_rses)
    if available > min_available:
        total = available - min_available
        done = 0
        for r in sorted(active_old, key=_age_key):
            if done >= total:
                break
            n = name_of(r)
            if sizes[n] == 0:
                continue
            cut = min(sizes[n], total - done)
            sizes[n] -= cut
            out[n] = sizes[n]
            done += cut
    return out


def name_of(obj: JSON) -> str:
    return str((obj.get("metadata") or {}).get("name") or "")


def _age_key(obj: JSON) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return (str(meta.get("creationTimestamp") or ""), str(meta.get("name") or ""))


def revision_of(obj: JSON) -> int:
    value = ((obj.get("metadata") or {}).get("annotations") or {}).get(REVISION)
    try:
        return int(value) if value is not None else 0
    except ValueError:
        return 0


def max_revision(rses: Sequence[JSON]) -> int:
    return max((revision_of(r) for r in rses), default=0)


def template_without_hash(template: JSON | None) -> JSON:
    """A copy of a pod template without the ``pod-template-hash`` label, for comparing a
    ReplicaSet's template with its Deployment's (``EqualIgnoreHash``)."""
    import copy
    t: JSON = copy.deepcopy(template or {})
    meta = t.setdefault("metadata", {})
    lbls = dict(meta.get("labels") or {})
    lbls.pop(POD_TEMPLATE_HASH, None)
    if lbls:
        meta["labels"] = lbls
    else:
        meta.pop("labels", None)
    if meta.get("creationTimestamp") is None:
        meta.pop("creationTimestamp", None)
    if not meta:
        t.pop("metadata", None)
    return t


def _go_round(x: float) -> int:
    """Go's ``math.Round``: half away from zero."""
    return math.floor(x + 0.5) if x >= 0 else -math.floor(-x + 0.5)


def annotation_int(obj: JSON, key: str) -> int | None:
    value = ((obj.get("metadata") or {}).get("annotations") or {}).get(key)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def rs_fraction(rs: JSON, deploy: JSON) -> int:
    """How much ``rs`` should grow (or shrink) to keep its share of the Deployment."""
    if replicas_of(deploy) == 0:
        return -replicas_of(rs)
    target = replicas_of(deploy) + max_surge(deploy)
    annotated = annotation_int(rs, MAX_REPLICAS)
    if annotated is None:
        annotated = int((deploy.get("status") or {}).get("replicas") or 0)
    if annotated == 0:
        return 0
    return _go_round(replicas_of(rs) * target / annotated) - replicas_of(rs)


def proportional_scale(deploy: JSON, active: Sequence[JSON]) -> dict[str, int]:
    """New sizes of the active ReplicaSets when a Deployment is resized mid-rollout
    (``DeploymentController.scale``): ``replicas + maxSurge`` pods shared in proportion
    to each one's size, the rounding leftover to the largest."""
    if not active:
        return {}
    desired = replicas_of(deploy)
    allowed = desired + max_surge(deploy) if desired > 0 else 0
    to_add = allowed - spec_replicas(active)
    if to_add == 0:
        return {}
    if to_add > 0:  # larger first, newer first among equals
        order = sorted(active, key=lambda r: (-replicas_of(r), _neg_age(r)))
    else:  # larger first, older first among equals
        order = sorted(active, key=lambda r: (-replicas_of(r), _age_key(r)))
    added = 0
    out: dict[str, int] = {}
    for r in order:
        proportion = 0
        if replicas_of(r) and to_add != added:
            allowed_now = to_add - added
            frac = rs_fraction(r, deploy)
            proportion = min(frac, allowed_now) if to_add > 0 else max(frac, allowed_now)
        out[name_of(r)] = replicas_of(r) + proportion
        added += proportion
    if to_add != added:
        first = name_of(order[0])
        out[first] = max(out[first] + to_add - added, 0)
    return out


def _neg_age(obj: JSON) -> tuple[int, ...]:
    return tuple(-ord(c) for c in _age_key(obj)[0])
