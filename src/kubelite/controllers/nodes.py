"""Whether a DaemonSet's pod belongs on a node (``NodeShouldRunDaemonPod`` upstream):
node name, nodeSelector, required node affinity and NoSchedule/NoExecute taints, with
the tolerations the DaemonSet controller adds to every daemon pod.
"""

from __future__ import annotations

from kubelite.api.meta import JSON
from kubelite.api.nodeaffinity import matches_selector_and_affinity, tolerates

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


def matches_node(spec: JSON, node: JSON) -> bool:
    """nodeName, nodeSelector and required node affinity of a pod spec against a node."""
    name = str((node.get("metadata") or {}).get("name") or "")
    if spec.get("nodeName") and spec["nodeName"] != name:
        return False
    return matches_selector_and_affinity(spec, node)


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
