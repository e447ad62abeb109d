"""StatefulSets in process (API server, controller manager, scheduler, a kubelet on the
fake runtime): ordered pods with stable names and claims, scale down in reverse, rolling
updates by revision, as a user sees them through the API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from node_cluster import NodeCluster, node_cluster

from kubelite.api.errors import StatusError
from kubelite.client.resources import PODS
from kubelite.client.rest import ApiClient
from kubelite.controllers.resources import (
    CONTROLLERREVISIONS,
    PERSISTENTVOLUMECLAIMS,
    STATEFULSETS,
)
from kubelite.testing.waiting import eventually

JSON = dict[str, Any]


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[NodeCluster]:
    async with node_cluster(tmp_path) as c:
        yield c


def web(replicas: int = 2, image: str = "nginx", **spec: Any) -> JSON:
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web"},
            "spec": {"replicas": replicas, "serviceName": "nginx",
                     "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "nginx", "image": image,
                                                           "volumeMounts": [
                                                               {"name": "data",
                                                                "mountPath": "/data"}]}]}},
                     "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                         "accessModes": ["ReadWriteOnce"],
                         "resources": {"requests": {"storage": "1Gi"}}}}], **spec}}


async def pod_names(c: ApiClient) -> list[str]:
    return sorted(p["metadata"]["name"] for p in (await c.list(PODS, "default"))["items"]
                  if not p["metadata"].get("deletionTimestamp"))


async def ready(c: ApiClient, replicas: int) -> JSON | None:
    sts = await c.get(STATEFULSETS, "web", "default")
    st = sts.get("status") or {}
    return sts if st.get("readyReplicas") == replicas == st.get("replicas") else None


async def test_pods_come_in_order_with_stable_names_and_claims(cluster: NodeCluster) -> None:
    c = cluster.client
    created = await c.create(STATEFULSETS, web(), "default")
    spec = created["spec"]
    assert (spec["podManagementPolicy"], spec["updateStrategy"], spec["revisionHistoryLimit"],
            spec["persistentVolumeClaimRetentionPolicy"]) == (
        "OrderedReady", {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}, 10,
        {"whenDeleted": "Retain", "whenScaled": "Retain"})
    sts = await eventually(lambda: ready(c, 2), timeout=20)
    recorded = [m for _t, r, m in cluster.manager.recorders["statefulset-controller"].recorded
                if r == "SuccessfulCreate"]
    assert recorded == [
        "create Claim data-web-0 Pod web-0 in StatefulSet web success",
        "create Pod web-0 in StatefulSet web successful",
        "create Claim data-web-1 Pod web-1 in StatefulSet web success",
        "create Pod web-1 in StatefulSet web successful",
    ]
    revision = sts["status"]["updateRevision"]
    assert sts["status"]["currentRevision"] == revision
    assert revision.startswith("web-")
    pod = await c.get(PODS, "web-1", "default")
    assert pod["metadata"]["labels"] == {
        "app": "web", "controller-revision-hash": revision,
        "statefulset.kubernetes.io/pod-name": "web-1", "apps.kubernetes.io/pod-index": "1"}
    assert (pod["spec"]["hostname"], pod["spec"]["subdomain"]) == ("web-1", "nginx")
    assert {"name": "data", "persistentVolumeClaim": {"claimName": "data-web-1"}} in (
        pod["spec"]["volumes"])
    claim = await c.get(PERSISTENTVOLUMECLAIMS, "data-web-1", "default")
    assert claim["metadata"]["labels"] == {"app": "web"}
    assert claim["status"]["phase"] == "Bound"
    old_uid = pod["metadata"]["uid"]

    # a deleted pod comes back under its name, with its claim
    await c.delete(PODS, "web-1", "default", grace_period_seconds=0)

    async def back() -> JSON | None:
        p = await c.get(PODS, "web-1", "default")
        return p if p["metadata"]["uid"] != old_uid and await ready(c, 2) else None

    again = await eventually(back, timeout=20)
    assert {"name": "data", "persistentVolumeClaim": {"claimName": "data-web-1"}} in (
        again["spec"]["volumes"])

    # scale down removes the highest ordinal and keeps the claims
    await c.patch(STATEFULSETS, "web", {"spec": {"replicas": 1}}, "default")
    await eventually(lambda: ready(c, 1), timeout=20)
    assert await pod_names(c) == ["web-0"]
    claims = sorted(x["metadata"]["name"]
                    for x in (await c.list(PERSISTENTVOLUMECLAIMS, "default"))["items"])
    assert claims == ["data-web-0", "data-web-1"]


async def test_rolling_update_replaces_pods_from_the_highest_ordinal(cluster: NodeCluster) -> None:
    c = cluster.client
    await c.create(STATEFULSETS, web(), "default")
    first = (await eventually(lambda: ready(c, 2), timeout=20))["status"]["updateRevision"]
    await c.patch(STATEFULSETS, "web", {"spec": {"template": {"spec": {"containers": [
        {"name": "nginx", "image": "busybox"}]}}}}, "default", patch_type="strategic")

    async def rolled() -> JSON | None:
        sts = await ready(c, 2)
        if sts is None:
            return None
        st = sts["status"]
        done = (st["currentRevision"] == st["updateRevision"] != first
                and st.get("updatedReplicas") == 2
                and st.get("observedGeneration") == sts["metadata"]["generation"])
        return sts if done else None

    sts = await eventually(rolled, timeout=30)
    deletions = [m for _t, r, m in cluster.manager.recorders["statefulset-controller"].recorded
                 if r == "SuccessfulDelete"]
    assert deletions == ["delete Pod web-1 in StatefulSet web successful",
                         "delete Pod web-0 in StatefulSet web successful"]
    for name in ("web-0", "web-1"):
        pod = await c.get(PODS, name, "default")
        assert pod["spec"]["containers"][0]["image"] == "busybox"
        assert pod["metadata"]["labels"]["controller-revision-hash"] == (
            sts["status"]["updateRevision"])
    revisions = (await c.list(CONTROLLERREVISIONS, "default"))["items"]
    assert sorted((r["metadata"]["name"], r["revision"]) for r in revisions) == sorted(
        [(first, 1), (sts["status"]["updateRevision"], 2)])


async def test_parallel_creates_all_and_invalid_specs_are_refused(cluster: NodeCluster) -> None:
    c = cluster.client
    await c.create(STATEFULSETS, web(3, podManagementPolicy="Parallel"), "default")
    await eventually(lambda: ready(c, 3), timeout=20)
    assert await pod_names(c) == ["web-0", "web-1", "web-2"]
    with pytest.raises(StatusError) as err:
        await c.patch(STATEFULSETS, "web", {"spec": {"serviceName": "other"}}, "default")
    assert err.value.code == 422
    assert ("spec: Forbidden: updates to statefulset spec for fields other than 'replicas', "
            "'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' "
            "and 'minReadySeconds' are forbidden") in err.value.message
