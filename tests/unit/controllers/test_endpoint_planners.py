"""The pure planners of the Endpoints and EndpointSlice controllers: whole results from a
Service and pods."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.controllers.service_endpoints import (
    SliceContent,
    desired_slices,
    desired_subsets,
    plan_slices,
    slice_labels,
)

JSON = dict[str, Any]


def svc(**spec: Any) -> JSON:
    spec.setdefault("selector", {"app": "web"})
    spec.setdefault("ports", [{"name": "http", "port": 80, "targetPort": 8080,
                               "protocol": "TCP"}])
    return {"metadata": {"name": "web", "namespace": "ns"}, "spec": spec}


def pod(name: str, ip: str | None, *, ready: bool = True, deleting: bool = False,
        phase: str = "Running", app: str = "web", ns: str = "ns", **spec: Any) -> JSON:
    spec.setdefault("nodeName", "n1")
    spec.setdefault("containers", [{"name": "c", "ports": [
        {"name": "web", "containerPort": 8081, "protocol": "TCP"}]}])
    meta: JSON = {"name": name, "namespace": ns, "uid": f"u-{name}", "labels": {"app": app}}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    status: JSON = {"phase": phase, "conditions": [
        {"type": "Ready", "status": "True" if ready else "False"}]}
    if ip:
        status["podIP"] = ip
    return {"metadata": meta, "spec": spec, "status": status}


def ref(name: str) -> JSON:
    return {"kind": "Pod", "namespace": "ns", "name": name, "uid": f"u-{name}"}


def addr(name: str, ip: str, **extra: Any) -> JSON:
    return {"ip": ip, **extra, "nodeName": "n1", "targetRef": ref(name)}


HTTP_8080 = [{"name": "http", "port": 8080, "protocol": "TCP"}]


@pytest.mark.parametrize(("service", "pods", "want"), [
    # ready, not ready, terminating (left out), other app, no IP, terminal
    (svc(), [pod("b", "10.1.0.10"), pod("a", "10.1.0.9", ready=False),
             pod("c", "10.1.0.11", deleting=True), pod("d", "10.1.0.12", app="db"),
             pod("e", None), pod("f", "10.1.0.13", phase="Succeeded"),
             pod("g", "10.1.0.14", ns="other")],
     [{"addresses": [addr("b", "10.1.0.10")],
       "notReadyAddresses": [addr("a", "10.1.0.9")], "ports": HTTP_8080}]),
    # addresses sorted numerically, not as text
    (svc(), [pod("x", "10.1.0.100"), pod("y", "10.1.0.9")],
     [{"addresses": [addr("y", "10.1.0.9"), addr("x", "10.1.0.100")], "ports": HTTP_8080}]),
    # publishNotReadyAddresses: not ready and terminating pods are addresses
    (svc(publishNotReadyAddresses=True),
     [pod("a", "10.1.0.9", ready=False), pod("c", "10.1.0.11", deleting=True)],
     [{"addresses": [addr("a", "10.1.0.9"), addr("c", "10.1.0.11")], "ports": HTTP_8080}]),
    # a named targetPort: the container port of that name; a pod without it is left out
    (svc(ports=[{"port": 80, "targetPort": "web", "protocol": "TCP"}]),
     [pod("a", "10.1.0.9"), pod("b", "10.1.0.10", containers=[{"name": "c"}])],
     [{"addresses": [addr("a", "10.1.0.9")], "ports": [{"port": 8081, "protocol": "TCP"}]}]),
    # hostname when the pod's subdomain names the Service
    (svc(clusterIP="None"), [pod("a", "10.1.0.9", hostname="h0", subdomain="web"),
                             pod("b", "10.1.0.10", hostname="h1", subdomain="other")],
     [{"addresses": [addr("a", "10.1.0.9", hostname="h0"), addr("b", "10.1.0.10")],
       "ports": HTTP_8080}]),
    # no pods: no subsets
    (svc(), [], []),
])
def test_endpoints_subsets(service: JSON, pods: list[JSON], want: list[JSON]) -> None:
    assert desired_subsets(service, pods) == want


def ep(name: str, ip: str, ready: bool, serving: bool, terminating: bool,
       **extra: Any) -> JSON:
    out: JSON = {"addresses": [ip], "conditions": {"ready": ready, "serving": serving,
                                                   "terminating": terminating}}
    out.update({k: v for k, v in extra.items() if k == "hostname"})
    out["targetRef"] = ref(name)
    out["nodeName"] = "n1"
    out.update({k: v for k, v in extra.items() if k == "zone"})
    return out


@pytest.mark.parametrize(("service", "pods", "want"), [
    (svc(), [pod("b", "10.1.0.10"), pod("a", "10.1.0.9", ready=False),
             pod("c", "10.1.0.11", deleting=True),
             pod("d", "10.1.0.12", ready=False, deleting=True)],
     [SliceContent(HTTP_8080, [ep("a", "10.1.0.9", False, False, False),
                               ep("b", "10.1.0.10", True, True, False),
                               ep("c", "10.1.0.11", False, True, True),
                               ep("d", "10.1.0.12", False, False, True)])]),
    (svc(publishNotReadyAddresses=True), [pod("a", "10.1.0.9", ready=False)],
     [SliceContent(HTTP_8080, [ep("a", "10.1.0.9", True, False, False)])]),
    # pods whose named port differs are in different slices
    (svc(ports=[{"port": 80, "targetPort": "web", "protocol": "TCP"}]),
     [pod("a", "10.1.0.9"),
      pod("b", "10.1.0.10", containers=[{"name": "c", "ports": [
          {"name": "web", "containerPort": 9000, "protocol": "TCP"}]}])],
     [SliceContent([{"port": 8081, "protocol": "TCP"}], [ep("a", "10.1.0.9", True, True,
                                                             False)]),
      SliceContent([{"port": 9000, "protocol": "TCP"}], [ep("b", "10.1.0.10", True, True,
                                                             False)])]),
    # none: one placeholder without ports
    (svc(), [pod("a", None)], [SliceContent(None, [])]),
])
def test_desired_slices(service: JSON, pods: list[JSON], want: list[SliceContent]) -> None:
    assert desired_slices(service, pods, {"n1": ""}) == want
    # the zone comes from the endpoint's node
    zoned = [SliceContent(c.ports, [{**e, "zone": "z1"} for e in c.endpoints]) for c in want]
    assert desired_slices(service, pods, {"n1": "z1"}) == zoned


def existing(name: str, ports: list[JSON] | None, endpoints: list[JSON],
             labels: dict[str, str]) -> JSON:
    out: JSON = {"metadata": {"name": name, "namespace": "ns", "labels": labels},
                 "addressType": "IPv4", "endpoints": endpoints}
    if ports is not None:
        out["ports"] = ports
    return out


def test_plan_slices_keeps_matches_rewrites_the_rest_and_deletes_extras() -> None:
    labels = slice_labels(svc())
    assert labels == {"kubernetes.io/service-name": "web",
                      "endpointslice.kubernetes.io/managed-by":
                          "endpointslice-controller.k8s.io"}
    a = ep("a", "10.1.0.9", True, True, False)
    b = ep("b", "10.1.0.10", True, True, False)
    other_ports = [{"port": 1, "protocol": "TCP"}]
    plan = plan_slices(
        [SliceContent(HTTP_8080, [a]), SliceContent(other_ports, [b])],
        [existing("web-z", HTTP_8080, [a], labels), existing("web-a", None, [], labels),
         existing("web-b", HTTP_8080, [], labels)], labels)
    # web-b and web-z both have the ports; web-b comes first by name and is rewritten,
    # web-a takes the second, web-z (a copy of web-b's content) goes
    assert plan.update == {"web-b": SliceContent(HTTP_8080, [a]),
                           "web-a": SliceContent(other_ports, [b])}
    assert (plan.create, plan.delete) == ([], ["web-z"])
    unchanged = plan_slices([SliceContent(HTTP_8080, [a])],
                            [existing("web-z", HTTP_8080, [a], labels)], labels)
    assert (unchanged.update, unchanged.create, unchanged.delete) == ({}, [], [])
    fresh = plan_slices([SliceContent(None, [])], [], labels)
    assert fresh.create == [SliceContent(None, [])]
