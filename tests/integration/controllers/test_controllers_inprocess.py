"""The controllers with the kubelet and scheduler in process: API server on a memory
store, FakeRuntime, FakeImageService. What a user sees through the API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kubelite.api.errors import StatusError
from kubelite.client.resources import EVENTS, NODES, PODS
from kubelite.client.rest import ApiClient
from kubelite.controllers.manager import ControllerManager
from kubelite.controllers.resources import DAEMONSETS, DEPLOYMENTS, REPLICASETS
from kubelite.kubelet.config import KubeletConfig, KubeletSettings
from kubelite.kubelet.kubelet import Kubelet
from kubelite.scheduler.scheduler import Scheduler
from kubelite.testing.fake_images import FakeImageService
from kubelite.testing.fake_runtime import FakeRuntime
from kubelite.testing.inprocess import InProcessAPI
from kubelite.testing.waiting import eventually

JSON = dict[str, Any]
NODE = "node1"
NS = "default"


@dataclass
class Cluster:
    client: ApiClient
    manager: ControllerManager


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    runtime = FakeRuntime()
    images = FakeImageService()
    async with InProcessAPI(tmp_path) as api:
        client = api.client()
        kubelet = Kubelet(client, runtime, images, KubeletConfig(static_pod_path=None),
                          KubeletSettings(node_name=NODE, root_dir=tmp_path / "kubelet",
                                          node_ip="10.0.0.5", use_tmpfs=False,
                                          relist_period=0.1))
        scheduler = Scheduler(api.client())
        manager = ControllerManager(api.client())
        await kubelet.start()
        await manager.start()
        await scheduler.start()
        try:
            yield Cluster(client, manager)
        finally:
            await scheduler.stop()
            await manager.stop()
            await kubelet.stop()



def deployment(name: str, replicas: int = 1, image: str = "busybox", **spec: Any) -> JSON:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": NS},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "c", "image": image}]}},
                     **spec}}


async def pods_of(c: Cluster, app: str, running_only: bool = False) -> list[JSON]:
    items = (await c.client.list(PODS, NS, label_selector=f"app={app}"))["items"]
    items = [p for p in items if not p["metadata"].get("deletionTimestamp")]
    if running_only:
        items = [p for p in items if p["status"].get("phase") == "Running"]
    return items


async def rollout_done(c: Cluster, name: str) -> JSON | None:
    d = await c.client.get(DEPLOYMENTS, name, NS)
    st = d.get("status") or {}
    want = d["spec"]["replicas"]
    ok = (st.get("observedGeneration", 0) >= d["metadata"]["generation"]
          and st.get("updatedReplicas", 0) == want and st.get("replicas", 0) == want
          and st.get("availableReplicas", 0) == want)
    return d if ok else None


async def event_messages(c: Cluster, name: str) -> list[str]:
    for r in c.manager.recorders.values():
        await r.flush()
    evs = (await c.client.list(EVENTS, NS))["items"]
    return [e["message"] for e in evs if e["involvedObject"]["name"] == name]


async def test_deployment_rolls_out_scales_and_updates(cluster: Cluster) -> None:
    c = cluster
    await c.client.create(DEPLOYMENTS, deployment("web", 2))
    d = await eventually(lambda: rollout_done(c, "web"))
    conds = {x["type"]: x for x in d["status"]["conditions"]}
    assert conds["Available"]["reason"] == "MinimumReplicasAvailable"
    assert conds["Progressing"]["reason"] == "NewReplicaSetAvailable"
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    rses = (await c.client.list(REPLICASETS, NS))["items"]
    assert len(rses) == 1
    rs = rses[0]
    pod_hash = rs["metadata"]["labels"]["pod-template-hash"]
    assert rs["metadata"]["name"] == f"web-{pod_hash}"
    assert set(pod_hash) <= set("bcdfghjklmnpqrstvwxz2456789")
    assert rs["metadata"]["ownerReferences"][0]["kind"] == "Deployment"
    assert rs["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] == "2"
    assert rs["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"] == "3"
    pods = await pods_of(c, "web")
    assert len(pods) == 2
    for p in pods:
        assert p["metadata"]["name"].startswith(f"web-{pod_hash}-")
        ref = p["metadata"]["ownerReferences"][0]
        assert (ref["kind"], ref["controller"], ref["blockOwnerDeletion"]) == \
            ("ReplicaSet", True, True)
        assert p["metadata"]["labels"]["pod-template-hash"] == pod_hash
    msgs = await event_messages(c, "web")
    assert f"Scaled up replica set web-{pod_hash} from 0 to 2" in msgs
    rs_msgs = await event_messages(c, rs["metadata"]["name"])
    assert sum(m.startswith("Created pod: web-") for m in rs_msgs) == 2

    # scale
    await c.client.patch(DEPLOYMENTS, "web", {"spec": {"replicas": 3}}, NS)
    await eventually(lambda: rollout_done(c, "web"))
    assert len(await pods_of(c, "web")) == 3

    # a new image rolls a new ReplicaSet; the old one ends at 0
    await c.client.patch(DEPLOYMENTS, "web", {"spec": {"template": {"spec": {"containers": [
        {"name": "c", "image": "nginx"}]}}}}, NS, patch_type="strategic")
    d = await eventually(lambda: rollout_done(c, "web"), timeout=20)
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    rses = {r["metadata"]["name"]: r for r in (await c.client.list(REPLICASETS, NS))["items"]}
    assert len(rses) == 2
    old = rses[rs["metadata"]["name"]]
    assert old["spec"]["replicas"] == 0
    new = next(r for n, r in rses.items() if n != rs["metadata"]["name"])
    assert new["spec"]["replicas"] == 3
    assert new["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    pods = await eventually(lambda: _exactly(pods_of(c, "web"), 3))
    assert {p["spec"]["containers"][0]["image"] for p in pods} == {"nginx"}


async def _exactly(coro: Any, n: int) -> Any:
    """The items when there are exactly ``n`` of them (True for none), else None."""
    items: list[JSON] = await coro
    if len(items) != n:
        return None
    return items or True


async def test_replicaset_adopts_orphans_and_replaces_deleted_pods(cluster: Cluster) -> None:
    c = cluster
    orphan = {"apiVersion": "v1", "kind": "Pod",
              "metadata": {"name": "stray", "namespace": NS, "labels": {"app": "rs1"}},
              "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
    await c.client.create(PODS, orphan)
    rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
          "metadata": {"name": "rs1", "namespace": NS},
          "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "rs1"}},
                   "template": {"metadata": {"labels": {"app": "rs1"}},
                                "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}}
    await c.client.create(REPLICASETS, rs)

    async def ready() -> JSON | None:
        r = await c.client.get(REPLICASETS, "rs1", NS)
        st = r.get("status") or {}
        return r if st.get("readyReplicas") == 2 and st.get("replicas") == 2 else None

    r = await eventually(ready)
    assert r["status"]["observedGeneration"] == 1
    assert r["status"]["fullyLabeledReplicas"] == 2
    stray = await c.client.get(PODS, "stray", NS)
    assert stray["metadata"]["ownerReferences"][0]["uid"] == r["metadata"]["uid"]
    # relabel: released, and a replacement is created
    await c.client.patch(PODS, "stray", {"metadata": {"labels": {"app": "other"}}}, NS)
    await eventually(lambda: _exactly(pods_of(c, "rs1"), 2))
    stray = await c.client.get(PODS, "stray", NS)
    assert not stray["metadata"].get("ownerReferences")
    # scale down removes one
    await c.client.patch(REPLICASETS, "rs1", {"spec": {"replicas": 1}}, NS)
    await eventually(lambda: _exactly(pods_of(c, "rs1"), 1))
    msgs = await event_messages(c, "rs1")
    assert any(m.startswith("Deleted pod: rs1-") for m in msgs)


async def test_recreate_and_delete_cascades(cluster: Cluster) -> None:
    c = cluster
    await c.client.create(DEPLOYMENTS, deployment("rec", 2, strategy={"type": "Recreate"}))
    await eventually(lambda: rollout_done(c, "rec"))
    await c.client.patch(DEPLOYMENTS, "rec", {"spec": {"template": {"metadata": {
        "annotations": {"x": "1"}}}}}, NS)
    await eventually(lambda: rollout_done(c, "rec"), timeout=20)
    assert len((await c.client.list(REPLICASETS, NS))["items"]) == 2
    await c.client.delete(DEPLOYMENTS, "rec", NS, propagation_policy="Background")

    async def gone() -> bool:
        rses = (await c.client.list(REPLICASETS, NS))["items"]
        pods = (await c.client.list(PODS, NS, label_selector="app=rec"))["items"]
        return not rses and not pods

    await eventually(gone, timeout=20)


async def test_orphan_and_foreground_deletion(cluster: Cluster) -> None:
    c = cluster
    await c.client.create(DEPLOYMENTS, deployment("orph", 1))
    await eventually(lambda: rollout_done(c, "orph"))
    await c.client.delete(DEPLOYMENTS, "orph", NS, propagation_policy="Orphan")

    async def orphaned() -> list[JSON] | None:
        rses = (await c.client.list(REPLICASETS, NS))["items"]
        try:
            await c.client.get(DEPLOYMENTS, "orph", NS)
            return None
        except StatusError as exc:
            assert exc.code == 404
        return rses if rses and not rses[0]["metadata"].get("ownerReferences") else None

    rses = await eventually(orphaned)
    assert len(await pods_of(c, "orph")) == 1
    # foreground: the ReplicaSet waits for its pods
    name = rses[0]["metadata"]["name"]
    out = await c.client.delete(REPLICASETS, name, NS, propagation_policy="Foreground")
    assert "foregroundDeletion" in out["metadata"]["finalizers"]
    assert out["metadata"]["deletionTimestamp"]

    async def all_gone() -> bool:
        try:
            await c.client.get(REPLICASETS, name, NS)
            return False
        except StatusError as exc:
            assert exc.code == 404
        return not (await c.client.list(PODS, NS, label_selector="app=orph"))["items"]

    await eventually(all_gone, timeout=20)


async def test_daemonset_one_pod_per_node(cluster: Cluster) -> None:
    c = cluster
    ds = {"apiVersion": "apps/v1", "kind": "DaemonSet",
          "metadata": {"name": "agent", "namespace": NS},
          "spec": {"selector": {"matchLabels": {"app": "agent"}},
                   "template": {"metadata": {"labels": {"app": "agent"}},
                                "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}}
    await c.client.create(DAEMONSETS, ds)

    async def ready() -> JSON | None:
        d = await c.client.get(DAEMONSETS, "agent", NS)
        st = d.get("status") or {}
        return d if st.get("numberReady") == 1 and st.get("numberAvailable") == 1 else None

    d = await eventually(ready)
    st = d["status"]
    assert (st["desiredNumberScheduled"], st["currentNumberScheduled"],
            st["numberMisscheduled"], st["updatedNumberScheduled"]) == (1, 1, 0, 1)
    pods = await pods_of(c, "agent")
    assert len(pods) == 1
    p = pods[0]
    assert p["spec"]["nodeName"] == NODE
    terms = p["spec"]["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms == [{"matchFields": [{"key": "metadata.name", "operator": "In",
                                       "values": [NODE]}]}]
    tol_keys = {t["key"] for t in p["spec"]["tolerations"]}
    assert {"node.kubernetes.io/unschedulable", "node.kubernetes.io/disk-pressure"} <= tol_keys
    assert p["metadata"]["labels"]["controller-revision-hash"]
    # a node selector the node lacks: the pod goes
    await c.client.patch(DAEMONSETS, "agent", {"spec": {"template": {"spec": {
        "nodeSelector": {"disk": "ssd"}}}}}, NS)
    await eventually(lambda: _exactly(pods_of(c, "agent"), 0))
    # label the node: a pod comes back
    await c.client.patch(NODES, NODE, {"metadata": {"labels": {"disk": "ssd"}}})
    await eventually(lambda: _exactly(pods_of(c, "agent", running_only=True), 1))


async def test_paused_deployment_does_not_roll(cluster: Cluster) -> None:
    c = cluster
    await c.client.create(DEPLOYMENTS, deployment("p", 1))
    await eventually(lambda: rollout_done(c, "p"))
    await c.client.patch(DEPLOYMENTS, "p", {"spec": {"paused": True}}, NS)

    async def paused_cond() -> bool:
        d = await c.client.get(DEPLOYMENTS, "p", NS)
        cond = next(x for x in d["status"]["conditions"] if x["type"] == "Progressing")
        return bool(cond["reason"] == "DeploymentPaused" and cond["status"] == "Unknown")

    await eventually(paused_cond)
    await c.client.patch(DEPLOYMENTS, "p", {"spec": {"replicas": 2, "template": {"metadata": {
        "annotations": {"x": "1"}}}}}, NS)
    await eventually(lambda: _exactly(pods_of(c, "p", running_only=True), 2))
    assert len((await c.client.list(REPLICASETS, NS, label_selector="app=p"))["items"]) == 1
    await c.client.patch(DEPLOYMENTS, "p", {"spec": {"paused": False}}, NS)
    d = await eventually(lambda: rollout_done(c, "p"), timeout=20)
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    assert len((await c.client.list(REPLICASETS, NS, label_selector="app=p"))["items"]) == 2
