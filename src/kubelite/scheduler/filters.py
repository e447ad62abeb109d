"""Scheduling filters as pure functions: each returns None when the node fits the pod,
or the reason it does not, in the words of the Kubernetes scheduler's plugins.

Reasons are aggregated by :func:`failure_message` into
``0/N nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node
affinity/selector. preemption: 0/N nodes are available: ...``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from kubelite.api.meta import JSON
from kubelite.api.nodeaffinity import matches_selector_and_affinity, tolerates
from kubelite.api.quantity import milli_value, value

NOT_READY_TAINT = {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}
UNSCHEDULABLE_TAINT = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}


def node_ready(node: JSON) -> bool:
    for c in (node.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return bool(c.get("status") == "True")
    return False


def effective_taints(node: JSON) -> list[JSON]:
    taints = list((node.get("spec") or {}).get("taints") or [])
    keys = {t.get("key") for t in taints}
    if not node_ready(node) and NOT_READY_TAINT["key"] not in keys:
        taints.append(NOT_READY_TAINT)
    if (node.get("spec") or {}).get("unschedulable") and UNSCHEDULABLE_TAINT["key"] not in keys:
        taints.append(UNSCHEDULABLE_TAINT)
    return taints


def check_taints(pod: JSON, node: JSON) -> str | None:
    tols = (pod.get("spec") or {}).get("tolerations") or []
    for t in effective_taints(node):
        if t.get("effect") not in ("NoSchedule", "NoExecute"):
            continue
        if not any(tolerates(tol, t) for tol in tols):
            value_ = t.get("value")
            shown = f"{t.get('key')}: {value_}" if value_ else f"{t.get('key')}: "
            return f"node(s) had untolerated taint {{{shown}}}"
    return None


def check_node_name(pod: JSON, node: JSON) -> str | None:
    want = (pod.get("spec") or {}).get("nodeName")
    if want and want != (node.get("metadata") or {}).get("name"):
        return "node(s) didn't match the requested node name"
    return None


def check_affinity(pod: JSON, node: JSON) -> str | None:
    if not matches_selector_and_affinity(pod.get("spec") or {}, node):
        return "node(s) didn't match Pod's node affinity/selector"
    return None


def pod_requests(pod: JSON) -> dict[str, int]:
    """cpu in millicores, memory/ephemeral-storage in bytes: max(sum of app containers,
    largest init container), as the scheduler computes it."""
    spec = pod.get("spec") or {}

    def of(c: JSON) -> dict[str, int]:
        res = c.get("resources") or {}
        req = dict(res.get("limits") or {})
        req.update(res.get("requests") or {})
        out: dict[str, int] = {}
        for k, v in req.items():
            out[k] = milli_value(str(v)) if k == "cpu" else value(str(v))
        return out

    total: Counter[str] = Counter()
    for c in spec.get("containers") or []:
        total.update(of(c))
    for c in spec.get("initContainers") or []:
        for k, v in of(c).items():
            total[k] = max(total[k], v)
    return dict(total)


def _allocatable(node: JSON) -> dict[str, int]:
    alloc = (node.get("status") or {}).get("allocatable") or {}
    out = {}
    for k, v in alloc.items():
        try:
            out[k] = milli_value(str(v)) if k == "cpu" else value(str(v))
        except ValueError:
            continue
    return out


def check_resources(pod: JSON, node: JSON, pods_on_node: Sequence[JSON]) -> list[str]:
    alloc = _allocatable(node)
    reasons = []
    if len(pods_on_node) + 1 > alloc.get("pods", 110):
        reasons.append("Too many pods")
    want = pod_requests(pod)
    used: Counter[str] = Counter()
    for p in pods_on_node:
        used.update(pod_requests(p))
    for res in ("cpu", "memory", "ephemeral-storage"):
        if want.get(res, 0) and used[res] + want[res] > alloc.get(res, 0):
            reasons.append(f"Insufficient {res}")
    for res, amount in want.items():
        if res in ("cpu", "memory", "ephemeral-storage", "pods") or not amount:
            continue
        if used[res] + amount > alloc.get(res, 0):
            reasons.append(f"Insufficient {res}")
    return reasons


def _host_ports(pod: JSON) -> set[tuple[str, str, int]]:
    out = set()
    for c in (pod.get("spec") or {}).get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("hostPort"):
                out.add((str(p.get("hostIP") or "0.0.0.0"), str(p.get("protocol") or "TCP"),
                         int(p["hostPort"])))
    return out


def check_host_ports(pod: JSON, pods_on_node: Iterable[JSON]) -> str | None:
    want = _host_ports(pod)
    if not want:
        return None
    for other in pods_on_node:
        for ip, proto, port in _host_ports(other):
            for wip, wproto, wport in want:
                if (wport == port and wproto == proto and "0.0.0.0" in (ip, wip)) or (
                        wport == port and wproto == proto and ip == wip):
                    return "node(s) didn't have free ports for the requested pod ports"
    return None


def node_reasons(pod: JSON, node: JSON, pods_on_node: Sequence[JSON]) -> list[str]:
    """Every reason ``node`` cannot take ``pod`` (empty: it fits)."""
    for check in (check_node_name, check_affinity, check_taints):
        r = check(pod, node)
        if r:
            return [r]
    reasons = check_resources(pod, node, pods_on_node)
    ports = check_host_ports(pod, pods_on_node)
    if ports:
        reasons.append(ports)
    return reasons


def failure_message(n_nodes: int, reasons: dict[str, list[str]],
                    preemption: str | None = None, *,
                    pre_filter: str | None = None) -> str:
    """The FailedScheduling message (with the preemption sentence of 1.32): ``preemption``
    is the sentence when known ("" for none: the pod preempted), else it is derived;
    ``pre_filter``: a pre-filter's refusal, which stands for every node."""
    counts: Counter[str] = Counter()
    for rs in reasons.values():
        counts.update(rs)
    parts = [pre_filter] if pre_filter else sorted(f"{n} {r}" for r, n in counts.items())
    head = f"0/{n_nodes} nodes are available"
    msg = head + (": " + ", ".join(parts) + "." if parts else ".")
    if preemption is not None:
        return msg + (f" preemption: {preemption}" if preemption else "")
    preemptable = {"Insufficient cpu", "Insufficient memory", "Insufficient ephemeral-storage",
                   "Too many pods"}
    no_help = sum(1 for rs in reasons.values() if not any(r in preemptable for r in rs))
    helpful = len(reasons) - no_help
    if helpful == 0:
        msg += (f" preemption: 0/{n_nodes} nodes are available: {n_nodes} Preemption is not "
                f"helpful for scheduling.")
    else:
        pieces = []
        if helpful:
            pieces.append(f"{helpful} No preemption victims found for incoming pod")
        if no_help:
            pieces.append(f"{no_help} Preemption is not helpful for scheduling")
        msg += f" preemption: 0/{n_nodes} nodes are available: {', '.join(sorted(pieces))}."
    return msg
