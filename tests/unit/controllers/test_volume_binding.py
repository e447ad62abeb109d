"""The PV binder's pure decisions: which volume a claim binds, when it waits, and the
phase of a volume (tables comparing whole results)."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.controllers.volume_binding import (
    NO_CLASS,
    WAITING_FOR_CONSUMER,
    ClaimPlan,
    external_provisioning,
    plan_claim,
    volume_phase,
)

JSON = dict[str, Any]


def claim(size: str = "1Gi", cls: str = "", modes: tuple[str, ...] = ("ReadWriteOnce",),
          node: str | None = None, selector: JSON | None = None, uid: str = "u1") -> JSON:
    meta: JSON = {"name": "c", "namespace": "ns", "uid": uid}
    if node:
        meta["annotations"] = {"volume.kubernetes.io/selected-node": node}
    spec: JSON = {"accessModes": list(modes), "resources": {"requests": {"storage": size}},
                  "storageClassName": cls}
    if selector:
        spec["selector"] = selector
    return {"metadata": meta, "spec": spec}


def pv(name: str, size: str = "1Gi", cls: str = "", modes: tuple[str, ...] = ("ReadWriteOnce",),
       ref: JSON | None = None, node: str | None = None, labels: JSON | None = None,
       phase: str = "Available") -> JSON:
    spec: JSON = {"capacity": {"storage": size}, "accessModes": list(modes),
                  "storageClassName": cls, "hostPath": {"path": "/x"}}
    if ref:
        spec["claimRef"] = ref
    if node:
        spec["nodeAffinity"] = {"required": {"nodeSelectorTerms": [{"matchExpressions": [
            {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}]}}
    return {"metadata": {"name": name, "labels": labels or {}}, "spec": spec,
            "status": {"phase": phase}}


WFFC = {"metadata": {"name": "lp"}, "provisioner": "rancher.io/local-path",
        "volumeBindingMode": "WaitForFirstConsumer"}
IMMEDIATE = {"metadata": {"name": "fast"}, "provisioner": "example.com/fast",
             "volumeBindingMode": "Immediate"}


@pytest.mark.parametrize(("the_claim", "volumes", "sc", "expected"), [
    # the smallest volume that fits
    (claim("1Gi"), [pv("big", "10Gi"), pv("small", "2Gi"), pv("tiny", "500Mi")], None,
     ClaimPlan(bind="small")),
    # access modes, class and selector must match; claimed volumes are skipped
    (claim(modes=("ReadWriteMany",)), [pv("rwo")], None,
     ClaimPlan(event=("Normal", "FailedBinding", NO_CLASS))),
    (claim(cls="fast"), [pv("none-class"), pv("f", cls="fast")], IMMEDIATE,
     ClaimPlan(bind="f")),
    (claim(selector={"matchLabels": {"tier": "db"}}),
     [pv("plain"), pv("db", labels={"tier": "db"})], None, ClaimPlan(bind="db")),
    (claim(), [pv("taken", ref={"namespace": "ns", "name": "other", "uid": "u9"})], None,
     ClaimPlan(event=("Normal", "FailedBinding", NO_CLASS))),
    # a volume pre-bound to the claim wins, even when larger
    (claim(), [pv("a"), pv("pre", "5Gi", ref={"namespace": "ns", "name": "c"})], None,
     ClaimPlan(bind="pre")),
    # WaitForFirstConsumer: nothing before a node is selected, then volumes of that node
    (claim(cls="lp"), [pv("n1", cls="lp", node="n1")], WFFC,
     ClaimPlan(event=("Normal", "WaitForFirstConsumer", WAITING_FOR_CONSUMER))),
    (claim(cls="lp", node="n2"), [pv("n1", cls="lp", node="n1")], WFFC,
     ClaimPlan(provisioner="rancher.io/local-path",
               event=("Normal", "ExternalProvisioning",
                      external_provisioning("rancher.io/local-path")))),
    (claim(cls="lp", node="n1"), [pv("n1", cls="lp", node="n1")], WFFC, ClaimPlan(bind="n1")),
    # a class that does not exist
    (claim(cls="gone"), [], None,
     ClaimPlan(event=("Warning", "ProvisioningFailed",
                      'storageclass.storage.k8s.io "gone" not found'))),
])
def test_plan_claim(the_claim: JSON, volumes: list[JSON], sc: JSON | None,
                    expected: ClaimPlan) -> None:
    assert plan_claim(the_claim, volumes, sc) == expected


BOUND_CLAIM = {**claim(), "spec": {**claim()["spec"], "volumeName": "v"}}


@pytest.mark.parametrize(("volume", "the_claim", "expected"), [
    (pv("v"), None, "Available"),
    (pv("v", ref={"namespace": "ns", "name": "c", "uid": "u1"}, phase="Pending"), BOUND_CLAIM,
     "Bound"),
    (pv("v", ref={"namespace": "ns", "name": "c", "uid": "u1"}, phase="Bound"), None,
     "Released"),
    # the claim was re-created: the volume still belongs to the old one
    (pv("v", ref={"namespace": "ns", "name": "c", "uid": "u1"}, phase="Bound"),
     claim(uid="u2"), "Released"),
    # pre-bound to a claim that does not exist yet
    (pv("v", ref={"namespace": "ns", "name": "c"}), None, "Available"),
])
def test_volume_phase(volume: JSON, the_claim: JSON | None, expected: str) -> None:
    assert volume_phase(volume, the_claim) == expected
