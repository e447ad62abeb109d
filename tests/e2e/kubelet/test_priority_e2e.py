"""PriorityClasses and preemption on a real node, driven with the real kubectl: on a node
whose cpu is taken, a pod of a higher class evicts a lower one and runs; with
``preemptionPolicy: Never`` it waits."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kubelite.api import quantity
from kubelite.testing.server_process import ServerProcess, wait_for

pytestmark = pytest.mark.root


def apply(node: ServerProcess, *objs: dict[str, Any]) -> None:
    for obj in objs:
        r = node.kubectl("apply", "-f", "-", input=json.dumps(obj))
        assert r.returncode == 0, r.stderr


def get(node: ServerProcess, *args: str) -> dict[str, Any]:
    r = node.kubectl("get", *args, "-o", "json")
    return json.loads(r.stdout) if r.returncode == 0 else {}


def pc(name: str, value: int, **extra: Any) -> dict[str, Any]:
    return {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
            "metadata": {"name": name}, "value": value, **extra}


def hungry(name: str, klass: str, cpu_m: int) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"priorityClassName": klass, "terminationGracePeriodSeconds": 1,
                     "containers": [{"name": "c", "image": "busybox",
                                     "command": ["sleep", "600"],
                                     "resources": {"requests": {"cpu": f"{cpu_m}m"}}}]}}


def events_of(node: ServerProcess, name: str) -> list[tuple[str, str]]:
    items = get(node, "events", "--field-selector", f"involvedObject.name={name}")
    return [(e.get("reason", ""), e.get("message", "")) for e in items.get("items", [])]


def test_system_classes_exist(node: ServerProcess) -> None:
    r = node.kubectl("get", "priorityclasses")
    rows = {ln.split()[0]: ln.split()[1:] for ln in r.stdout.splitlines()[1:]}
    assert rows["system-cluster-critical"][:2] == ["2000000000", "false"]
    assert rows["system-node-critical"][:2] == ["2000001000", "false"]
    assert r.stdout.split("\n")[0].split() == ["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE",
                                               "PREEMPTIONPOLICY"]


def test_higher_class_preempts_and_never_waits(node: ServerProcess) -> None:
    alloc = get(node, "node", "e2e-node")["status"]["allocatable"]["cpu"]
    share = int(quantity.parse_quantity(alloc) * 1000 * 6 // 10)  # two of these do not fit
    apply(node, pc("low", 10), pc("high", 1000),
          pc("high-polite", 1000, preemptionPolicy="Never"))
    apply(node, hungry("low-pod", "low", share))
    r = node.kubectl("wait", "--for=condition=Ready", "pod/low-pod", "--timeout=60s",
                     timeout=70)
    assert r.returncode == 0, r.stderr
    assert get(node, "pod", "low-pod")["spec"]["priority"] == 10

    apply(node, hungry("polite", "high-polite", share))
    never = ("FailedScheduling", "0/1 nodes are available: 1 Insufficient cpu. preemption: "
             "not eligible due to preemptionPolicy=Never.")
    assert wait_for(lambda: never in events_of(node, "polite"), 20), events_of(node, "polite")
    assert get(node, "pod", "low-pod")["metadata"].get("deletionTimestamp") is None
    node.kubectl("delete", "pod", "polite", "--wait=false")

    apply(node, hungry("high-pod", "high", share))
    uid = get(node, "pod", "high-pod")["metadata"]["uid"]
    assert wait_for(lambda: ("Preempted", f"Preempted by pod {uid} on node e2e-node")
                    in events_of(node, "low-pod"), 20), events_of(node, "low-pod")
    r = node.kubectl("wait", "--for=condition=Ready", "pod/high-pod", "--timeout=60s",
                     timeout=70)
    assert r.returncode == 0, r.stderr
    high = get(node, "pod", "high-pod")
    assert high["spec"]["nodeName"] == "e2e-node" and high["spec"]["priority"] == 1000
    assert wait_for(lambda: node.kubectl("get", "pod", "low-pod").returncode != 0, 30)
