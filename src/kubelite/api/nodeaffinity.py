"""Whether a pod spec may go on a node: nodeSelector, required node affinity, taints.

Shared by the scheduler (filters) and the DaemonSet controller (which pods belong on
which node), as upstream's ``component-helpers/scheduling/corev1`` is.
"""

from __future__ import annotations

from kubelite.api.meta import JSON


def tolerates(toleration: JSON, taint: JSON) -> bool:
    """Whether ``toleration`` tolerates ``taint`` (effect, key, Equal/Exists)."""
    if toleration.get("effect") and toleration.get("effect") != taint.get("effect"):
        return False
    op = toleration.get("operator") or "Equal"
    if not toleration.get("key"):
        return op == "Exists"
    if toleration.get("key") != taint.get("key"):
        return False
    return op == "Exists" or str(toleration.get("value") or "") == str(taint.get("value") or "")


def _requirement(expr: JSON, values_of: dict[str, str]) -> bool:
    """One NodeSelectorRequirement (In, NotIn, Exists, DoesNotExist, Gt, Lt)."""
    key = str(expr.get("key"))
    op = expr.get("operator")
    values = [str(v) for v in expr.get("values") or []]
    has = key in values_of
    if op == "In":
        return has and values_of[key] in values
    if op == "NotIn":
        return not has or values_of[key] not in values
    if op == "Exists":
        return has
    if op == "DoesNotExist":
        return not has
    if op in ("Gt", "Lt") and has and values:
        try:
            a, b = int(values_of[key]), int(values[0])
        except ValueError:
            return False
        return a > b if op == "Gt" else a < b
    return False


def matches_selector_and_affinity(spec: JSON, node: JSON) -> bool:
    """The pod spec's nodeSelector and required node affinity hold for ``node``: every
    selector label, and one of the nodeSelectorTerms (empty terms match nothing)."""
    meta = node.get("metadata") or {}
    labels = {str(k): str(v) for k, v in (meta.get("labels") or {}).items()}
    for k, v in (spec.get("nodeSelector") or {}).items():
        if labels.get(k) != str(v):
            return False
    required = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    terms = required.get("nodeSelectorTerms") or []
    if not terms:
        return True
    fields = {"metadata.name": str(meta.get("name") or "")}
    for term in terms:
        exprs = term.get("matchExpressions") or []
        field_exprs = term.get("matchFields") or []
        if not exprs and not field_exprs:
            continue
        if all(_requirement(e, labels) for e in exprs) and all(
                _requirement(f, fields) for f in field_exprs):
            return True
    return False
