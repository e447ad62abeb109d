"""Scheduler filters and the FailedScheduling message."""

from __future__ import annotations

from typing import Any

from kubelite.scheduler.filters import failure_message, node_reasons


def node(name: str = "n1", ready: bool = True, cpu: str = "2", memory: str = "4Gi",
         pods: str = "110", labels: dict[str, str] | None = None,
         taints: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": labels or {}},
            "spec": {"taints": taints or []},
            "status": {"allocatable": {"cpu": cpu, "memory": memory, "pods": pods},
                       "conditions": [{"type": "Ready",
                                       "status": "True" if ready else "False"}]}}


def pod(cpu: str = "", memory: str = "", **spec: Any) -> dict[str, Any]:
    req = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
    return {"metadata": {"name": "p", "namespace": "default"},
            "spec": {"containers": [{"name": "c", "resources": {"requests": req}}], **spec}}


def test_fits() -> None:
    assert node_reasons(pod("1", "1Gi"), node(), []) == []


def test_resources() -> None:
    assert node_reasons(pod("3"), node(), []) == ["Insufficient cpu"]
    assert node_reasons(pod("1"), node(), [pod("1500m")]) == ["Insufficient cpu"]
    assert node_reasons(pod(memory="5Gi"), node(), []) == ["Insufficient memory"]
    assert node_reasons(pod(), node(pods="1"), [pod()]) == ["Too many pods"]


def test_not_ready_node_is_tainted() -> None:
    assert node_reasons(pod(), node(ready=False), []) == [
        "node(s) had untolerated taint {node.kubernetes.io/not-ready: }"]
    tolerant = pod(tolerations=[{"key": "node.kubernetes.io/not-ready", "operator": "Exists"}])
    assert node_reasons(tolerant, node(ready=False), []) == []


def test_taints_and_tolerations() -> None:
    n = node(taints=[{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}])
    assert node_reasons(pod(), n, []) == ["node(s) had untolerated taint {dedicated: gpu}"]
    ok = pod(tolerations=[{"key": "dedicated", "operator": "Equal", "value": "gpu",
                           "effect": "NoSchedule"}])
    assert node_reasons(ok, n, []) == []
    prefer = node(taints=[{"key": "x", "effect": "PreferNoSchedule"}])
    assert node_reasons(pod(), prefer, []) == []


def test_selector_and_affinity() -> None:
    n = node(labels={"disk": "ssd", "zone": "a"})
    assert node_reasons(pod(nodeSelector={"disk": "ssd"}), n, []) == []
    assert node_reasons(pod(nodeSelector={"disk": "hdd"}), n, []) == [
        "node(s) didn't match Pod's node affinity/selector"]
    aff = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [
            {"key": "zone", "operator": "In", "values": ["b", "c"]}]},
            {"matchExpressions": [{"key": "disk", "operator": "Exists"}]}]}}}
    assert node_reasons(pod(affinity=aff), n, []) == []
    aff["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"].pop()
    assert node_reasons(pod(affinity=aff), n, []) != []


def test_host_ports_and_node_name() -> None:
    hp = pod()
    hp["spec"]["containers"][0]["ports"] = [{"containerPort": 80, "hostPort": 8080}]
    assert node_reasons(hp, node(), [hp]) == [
        "node(s) didn't have free ports for the requested pod ports"]
    assert node_reasons(pod(nodeName="other"), node(), []) == [
        "node(s) didn't match the requested node name"]


def test_failure_messages() -> None:
    assert failure_message(1, {"n1": ["Insufficient cpu"]}) == (
        "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: "
        "1 No preemption victims found for incoming pod.")
    assert failure_message(2, {"n1": ["node(s) had untolerated taint {a: }"],
                               "n2": ["node(s) had untolerated taint {a: }"]}) == (
        "0/2 nodes are available: 2 node(s) had untolerated taint {a: }. preemption: 0/2 "
        "nodes are available: 2 Preemption is not helpful for scheduling.")
