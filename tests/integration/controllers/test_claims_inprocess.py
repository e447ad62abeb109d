"""Claims, volumes and the local-path provisioner in process: API server on a memory
store, the controller manager, the scheduler and a kubelet on the fake runtime. What a
user sees through the API: the default class, phases, events, the container's mount."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from node_cluster import NODE, NodeCluster, node_cluster

from kubelite.api.errors import StatusError
from kubelite.client.resources import EVENTS, PODS
from kubelite.client.rest import ApiClient
from kubelite.controllers.resources import (
    PERSISTENTVOLUMECLAIMS,
    PERSISTENTVOLUMES,
    STORAGECLASSES,
)
from kubelite.runtime.protocol import ContainerConfig
from kubelite.testing.waiting import eventually

JSON = dict[str, Any]


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[NodeCluster]:
    async with node_cluster(tmp_path) as c:
        yield c


def claim(name: str, **spec: Any) -> JSON:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name},
            "spec": {"accessModes": ["ReadWriteOnce"],
                     "resources": {"requests": {"storage": "1Gi"}}, **spec}}


def pod_with(claim_name: str, name: str = "app") -> JSON:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "busybox",
                                     "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
                     "volumes": [{"name": "data",
                                  "persistentVolumeClaim": {"claimName": claim_name}}]}}


async def reasons(c: ApiClient, name: str) -> list[tuple[str, str]]:
    events = await c.list(EVENTS, "default")
    return [(e["reason"], e["message"]) for e in events["items"]
            if e["involvedObject"]["name"] == name]


async def test_claim_binds_through_local_path_when_its_pod_is_scheduled(
        cluster: NodeCluster) -> None:
    c = cluster.client
    sc = await c.get(STORAGECLASSES, "local-path")
    assert (sc["provisioner"], sc["volumeBindingMode"], sc["reclaimPolicy"]) == (
        "rancher.io/local-path", "WaitForFirstConsumer", "Delete")
    created = await c.create(PERSISTENTVOLUMECLAIMS, claim("data"), "default")
    assert created["spec"]["storageClassName"] == "local-path"  # DefaultStorageClass
    assert created["status"] == {"phase": "Pending"}
    assert created["metadata"]["finalizers"] == ["kubernetes.io/pvc-protection"]

    async def waiting() -> bool:
        return ("WaitForFirstConsumer", "waiting for first consumer to be created before "
                "binding") in await reasons(c, "data")

    await eventually(waiting)
    assert (await c.get(PERSISTENTVOLUMECLAIMS, "data", "default"))["status"]["phase"] == (
        "Pending")
    await c.create(PODS, pod_with("data"), "default")

    async def bound() -> JSON | None:
        got = await c.get(PERSISTENTVOLUMECLAIMS, "data", "default")
        return got if got["status"].get("phase") == "Bound" else None

    got = await eventually(bound)
    uid = got["metadata"]["uid"]
    assert got["spec"]["volumeName"] == f"pvc-{uid}"
    assert got["metadata"]["annotations"]["volume.kubernetes.io/selected-node"] == NODE
    assert got["status"]["capacity"] == {"storage": "1Gi"}
    pv = await c.get(PERSISTENTVOLUMES, f"pvc-{uid}")
    directory = cluster.storage / f"pvc-{uid}_default_data"
    assert pv["spec"]["hostPath"] == {"path": str(directory), "type": "DirectoryOrCreate"}
    assert pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0][
        "matchExpressions"] == [{"key": "kubernetes.io/hostname", "operator": "In",
                                 "values": [NODE]}]
    assert pv["spec"]["claimRef"]["uid"] == uid
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Delete"
    assert pv["metadata"]["finalizers"] == ["kubernetes.io/pv-protection"]

    async def pv_bound() -> bool:
        return (await c.get(PERSISTENTVOLUMES, f"pvc-{uid}"))["status"]["phase"] == "Bound"

    await eventually(pv_bound)

    async def mounted() -> ContainerConfig:
        return cluster.started["c"]

    cfg = await eventually(mounted)
    assert [m.host_path for m in cfg.mounts if m.container_path == "/data"] == [str(directory)]
    assert directory.is_dir()
    assert ("ProvisioningSucceeded", f"Successfully provisioned volume pvc-{uid}") in (
        await reasons(c, "data"))

    # a claim in use waits for its pod (pvc-protection); then Delete removes dir and PV
    await c.delete(PERSISTENTVOLUMECLAIMS, "data", "default")
    held = await c.get(PERSISTENTVOLUMECLAIMS, "data", "default")
    assert held["metadata"]["deletionTimestamp"]
    assert held["status"]["phase"] == "Bound"
    await c.delete(PODS, "app", "default", grace_period_seconds=0)

    async def reclaimed() -> bool:
        try:
            await c.get(PERSISTENTVOLUMES, f"pvc-{uid}")
        except StatusError as exc:
            return exc.code == 404 and not directory.exists()
        return False

    await eventually(reclaimed)


async def test_pod_stays_pending_until_its_immediate_claim_binds(cluster: NodeCluster) -> None:
    c = cluster.client
    await c.create(PODS, pod_with("missing", "orphan"), "default")
    # a class without a provisioner the cluster runs: the claim stays Pending
    await c.create(STORAGECLASSES, {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                                    "metadata": {"name": "manual"},
                                    "provisioner": "kubernetes.io/no-provisioner"})
    await c.create(PERSISTENTVOLUMECLAIMS, claim("static", storageClassName="manual"),
                   "default")
    await c.create(PODS, pod_with("static", "waiter"), "default")
    tail = " preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."

    async def failed_scheduling(name: str, why: str) -> bool:
        return ("FailedScheduling", f"0/1 nodes are available: {why}.{tail}") in (
            await reasons(c, name))

    await eventually(lambda: failed_scheduling(
        "waiter", "pod has unbound immediate PersistentVolumeClaims"))
    await eventually(lambda: failed_scheduling(
        "orphan", 'persistentvolumeclaim "missing" not found'))
    pod = await c.get(PODS, "waiter", "default")
    assert (pod["status"]["phase"], pod["spec"].get("nodeName")) == ("Pending", None)
    # a static volume that fits binds the claim; the pod then starts
    await c.create(PERSISTENTVOLUMES, {
        "apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv-small"},
        "spec": {"capacity": {"storage": "2Gi"}, "accessModes": ["ReadWriteOnce"],
                 "storageClassName": "manual",
                 "hostPath": {"path": str(cluster.storage.parent / "static"),
                              "type": "DirectoryOrCreate"}}})

    async def running() -> bool:
        pod = await c.get(PODS, "waiter", "default")
        return pod["status"].get("phase") == "Running"

    await eventually(running, timeout=15)
    got = await c.get(PERSISTENTVOLUMECLAIMS, "static", "default")
    assert (got["spec"]["volumeName"], got["status"]["phase"]) == ("pv-small", "Bound")
    annotations = got["metadata"]["annotations"]
    assert (annotations["pv.kubernetes.io/bind-completed"],
            annotations["pv.kubernetes.io/bound-by-controller"]) == ("yes", "yes")
    # Retain: deleting the claim leaves the volume Released
    await c.delete(PODS, "waiter", "default", grace_period_seconds=0)
    await c.delete(PERSISTENTVOLUMECLAIMS, "static", "default")

    async def released() -> bool:
        return (await c.get(PERSISTENTVOLUMES, "pv-small"))["status"]["phase"] == "Released"

    await eventually(released)
