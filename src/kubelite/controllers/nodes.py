"""Whether a DaemonSet's pod belongs on a node (``NodeShouldRunDaemonPod`` upstream):
node name, nodeSelector, required node affinity and NoSchedule/NoExecute taints, with
the tolerations the DaemonSet controller adds to every daemon pod.
"""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]

# Added to every daemon pod (``AddOrUpdateDaemonPodTolerations``), as kube-controller-manager.
DEFAULT_TOLERATIONS: tuple[JSON, ...] = (
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists",
     "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
)
NETWORK_UNAVAILABLE: JSON = {"key": "node.kubernetes.io/network-unavailable",
                             "operator": "Exists", "effect": "NoSchedule"}


def add_daemon_tolerations(spec: JSON) -> None:
    """Add the default tolerations missing from a pod spec (same key, operator, effect)."""
    tols: list[JSON] = list(spec.get("tolerations") or [])
    wanted = list(DEFAULT_TOLERATIONS)
    if spec.get("hostNetwork"):
        wanted.append(NETWORK_UNAVAILABLE)
    for w in wanted:
        if not any(t.get("key") == w["key"] and t.get("effect") == w["effect"]
                   and (t.get("operator") or "Equal") == "Exists" for t in tols):
            tols.append(dict(w))
    spec["tolerations"] = tols


def tolerates(tol: JSON, taint: JSON) -> bool:
    if tol.get("effect") and tol.get("effect") != taint.get("effect"):
        return False
    op = tol.get("operator") or "Equal"
    if not tol.get("key"):
        return op == "Exists"
    if tol.get("key") != taint.get("key"):
        return False
    return op == "Exists" or str(tol.get("value") or "") == str(taint.get("value") or "")


def _match(expr: JSON, values_of: dict[str, str]) -> bool:
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


def matches_node(spec: JSON, node: JSON) -> bool:
    """nodeName, nodeSelector and required node affinity of a pod spec against a node."""
    meta = node.get("metadata") or {}
    name = str(meta.get("name") or "")
    if spec.get("nodeName") and spec["nodeName"] != name:
        return False
    node_labels = {str(k): str(v) for k, v in (meta.get("labels") or {}).items()}
    for k, v in (spec.get("nodeSelector") or {}).items():
        if node_labels.get(k) != str(v):
            return False
    required = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    terms = required.get("nodeSelectorTerms") or []
    if not terms:
        return True
    for term in terms:
        exprs = term.get("matchExpressions") or []
        fields = term.get("matchFields") or []
        if not exprs and not fields:
            continue
        if all(_match(e, node_labels) for e in exprs) and all(
                _match(f, {"metadata.name": name}) for f in fields):
            return True
    return False


def should_run(template_spec: JSON, node: JSON) -> bool:
    """Whether a daemon pod with ``template_spec`` (default tolerations added) should run on
    ``node``: it matches the node and tolerates its NoSchedule and NoExecute taints."""
    spec = dict(template_spec)
    add_daemon_tolerations(spec)
    if not matches_node(spec, node):
        return False
    tols = spec.get("tolerations") or []
    for taint in (node.get("spec") or {}).get("taints") or []:
        if taint.get("effect") not in ("NoSchedule", "NoExecute"):
            continue
        if not any(tolerates(t, taint) for t in tols):
            return False
    return True


def pin_to_node(spec: JSON, node_name: str) -> None:
    """Require ``metadata.name == node_name`` through node affinity
    (``ReplaceDaemonSetPodNodeNameNodeAffinity``), so the scheduler places the pod."""
    affinity = spec.setdefault("affinity", {})
    node_aff = affinity.setdefault("nodeAffinity", {})
    node_aff["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": [{
        "matchFields": [{"key": "metadata.name", "operator": "In", "values": [node_name]}],
    }]}
