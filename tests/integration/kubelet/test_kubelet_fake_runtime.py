"""The kubelet and scheduler in process: API server on a memory store, FakeRuntime,
FakeImageService. What a user sees through the API: phases, statuses, events."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubelite.api.errors import StatusError
from kubelite.client.resources import CONFIGMAPS, EVENTS, LEASES, NODES, PODS
from kubelite.client.rest import ApiClient
from kubelite.kubelet.config import KubeletConfig, KubeletSettings
from kubelite.kubelet.kubelet import Kubelet
from kubelite.runtime.protocol import ContainerConfig, ContainerState
from kubelite.scheduler.scheduler import Scheduler
from kubelite.testing.fake_clock import FakeClock
from kubelite.testing.fake_images import FakeImageService
from kubelite.testing.fake_runtime import FakeRuntime
from kubelite.testing.inprocess import InProcessAPI
from kubelite.testing.waiting import eventually

JSON = dict[str, Any]
NODE = "node1"


@dataclass
class Cluster:
    api: InProcessAPI
    client: ApiClient
    runtime: FakeRuntime
    images: FakeImageService
    kubelet: Kubelet
    scheduler: Scheduler
    clock: FakeClock
    manifests: Path
    exits: dict[str, int]
    execs: list[tuple[str, list[str]]]


def settings(tmp_path: Path) -> KubeletSettings:
    return KubeletSettings(node_name=NODE, root_dir=tmp_path / "kubelet", node_ip="10.0.0.5",
                           use_tmpfs=False, relist_period=0.1)


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    clock = FakeClock()
    exits: dict[str, int] = {}

    def on_start(cfg: ContainerConfig) -> int | None:
        return exits.get(cfg.name)

    execs: list[tuple[str, list[str]]] = []

    def exec_handler(cid: str, argv: Any) -> tuple[int, bytes, bytes]:
        execs.append((cid, list(argv)))
        return 0, b"", b""

    runtime = FakeRuntime(clock=clock, on_start=on_start, exec_handler=exec_handler)
    images = FakeImageService()
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    async with InProcessAPI(tmp_path) as api:
        client = api.client()
        cfg = KubeletConfig(static_pod_path=str(manifests), file_check_frequency=0.1)
        kubelet = Kubelet(client, runtime, images, cfg, settings(tmp_path), clock=clock)
        scheduler = Scheduler(api.client())
        await kubelet.start()
        await scheduler.start()
        try:
            yield Cluster(api, client, runtime, images, kubelet, scheduler, clock, manifests,
                          exits, execs)
        finally:
            await scheduler.stop()
            await kubelet.stop()


def pod(name: str, *containers: JSON, init: list[JSON] | None = None,
        restart: str = "Always", **spec: Any) -> JSON:
    s: JSON = {"containers": list(containers) or [{"name": "c", "image": "busybox"}],
               "restartPolicy": restart, **spec}
    if init:
        s["initContainers"] = init
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default"}, "spec": s}



async def time_passes(kubelet: Kubelet, clock: FakeClock, seconds: float) -> None:
    """Let ``seconds`` of the kubelet's time pass (relists, back-offs, retries all fire),
    then make every pod worker look once more and wait until all of them are done: what
    has not happened by then does not happen."""
    before = kubelet.workers.passes
    await clock.advance(seconds)
    kubelet.resync_all()

    async def settled() -> bool:
        return kubelet.workers.passes > before and kubelet.workers.idle

    await eventually(settled)


async def get_pod(c: Cluster, name: str) -> JSON:
    return await c.client.get(PODS, name, "default")


async def phase_is(c: Cluster, name: str, phase: str) -> JSON | None:
    p = await get_pod(c, name)
    return p if (p.get("status") or {}).get("phase") == phase else None


async def reasons(c: Cluster, name: str) -> list[str]:
    await c.kubelet.recorder.flush()
    await c.scheduler.recorder.flush()
    evs = (await c.client.list(EVENTS, "default"))["items"]
    return [e["reason"] for e in sorted(evs, key=lambda e: e["metadata"]["name"])
            if e["involvedObject"]["name"] == name]


async def test_node_registered_with_lease(cluster: Cluster) -> None:
    node = await cluster.client.get(NODES, NODE)
    st = node["status"]
    assert st["allocatable"]["pods"] == "110"
    assert {a["type"] for a in st["addresses"]} == {"InternalIP", "Hostname"}
    ready = next(c for c in st["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("True", "KubeletReady")
    assert st["daemonEndpoints"]["kubeletEndpoint"]["Port"] == 10250
    lease = await cluster.client.get(LEASES, NODE, "kube-node-lease")
    assert lease["spec"]["holderIdentity"] == NODE
    await cluster.kubelet.recorder.flush()
    evs = (await cluster.client.list(EVENTS, "default"))["items"]
    node_evs = {e["reason"]: e["message"] for e in evs if e["involvedObject"]["kind"] == "Node"}
    assert node_evs["Starting"] == "Starting kubelet."
    assert node_evs["NodeReady"] == f"Node {NODE} status is now: NodeReady"


async def test_pod_scheduled_and_running(cluster: Cluster) -> None:
    await cluster.client.create(PODS, pod("web", {"name": "nginx", "image": "nginx",
                                                  "env": [{"name": "A", "value": "1"},
                                                          {"name": "B", "value": "$(A)-x"}],
                                                  "command": ["echo", "$(B)"]}))
    p = await cluster.clock.until(lambda: phase_is(cluster, "web", "Running"))
    assert p["spec"]["nodeName"] == NODE
    st = p["status"]
    cs = st["containerStatuses"][0]
    assert cs["ready"] is True and cs["started"] is True and cs["restartCount"] == 0
    assert "running" in cs["state"]
    assert cs["containerID"].startswith("runc://")
    assert cs["image"] == "docker.io/library/nginx:latest"
    assert st["podIP"].startswith("10.244.0.") and st["hostIP"] == "10.0.0.5"
    conds = {c["type"]: c["status"] for c in st["conditions"]}
    assert conds == {"PodReadyToStartContainers": "True", "Initialized": "True",
                     "Ready": "True", "ContainersReady": "True", "PodScheduled": "True"}
    c = next(iter(cluster.runtime.containers.values()))
    assert c.argv == ["echo", "1-x"]
    assert ("B", "1-x") in c.config.env
    assert await cluster.clock.until(lambda: _has_reasons(cluster, "web",
                                                 ["Scheduled", "Pulling", "Pulled", "Created",
                                                  "Started"]))


async def _has_reasons(c: Cluster, name: str, want: list[str]) -> bool:
    got = await reasons(c, name)
    return all(r in got for r in want)


async def test_restart_always_counts_and_crashloop_backoff(cluster: Cluster) -> None:
    cluster.exits["c"] = 1
    await cluster.client.create(PODS, pod("crash"))

    async def waiting_reason() -> str | None:
        p = await get_pod(cluster, "crash")
        cs = (p.get("status") or {}).get("containerStatuses") or [{}]
        w = (cs[0].get("state") or {}).get("waiting") or {}
        return w.get("reason") if w.get("reason") == "CrashLoopBackOff" else None

    await cluster.clock.until(waiting_reason)
    p = await get_pod(cluster, "crash")
    cs = p["status"]["containerStatuses"][0]
    assert cs["restartCount"] == 1
    assert cs["lastState"]["terminated"]["exitCode"] == 1
    assert cs["lastState"]["terminated"]["reason"] == "Error"
    assert "back-off 10s restarting failed container=c pod=crash_default(" in \
        cs["state"]["waiting"]["message"]
    assert p["status"]["phase"] == "Running"
    # time passes: the next restart happens, then the wait doubles
    await cluster.clock.advance(11)
    cluster.kubelet.resync_all()

    async def restarted_twice() -> bool:
        p = await get_pod(cluster, "crash")
        cs = p["status"]["containerStatuses"][0]
        return cs["restartCount"] == 2 and "back-off 20s" in (
            cs["state"].get("waiting") or {}).get("message", "")

    await cluster.clock.until(restarted_twice)
    assert "BackOff" in await reasons(cluster, "crash")


async def test_on_failure_exit_zero_completes(cluster: Cluster) -> None:
    cluster.exits["c"] = 0
    await cluster.client.create(PODS, pod("job", restart="OnFailure"))
    p = await cluster.clock.until(lambda: phase_is(cluster, "job", "Succeeded"))
    cs = p["status"]["containerStatuses"][0]
    assert cs["state"]["terminated"]["reason"] == "Completed"
    assert cs["restartCount"] == 0
    ready = next(c for c in p["status"]["conditions"] if c["type"] == "Ready")
    assert ready["reason"] == "PodCompleted"


async def test_never_exit_one_fails(cluster: Cluster) -> None:
    cluster.exits["c"] = 1
    await cluster.client.create(PODS, pod("once", restart="Never"))
    p = await cluster.clock.until(lambda: phase_is(cluster, "once", "Failed"))
    cs = p["status"]["containerStatuses"][0]
    assert cs["state"]["terminated"]["reason"] == "Error"
    assert cs["restartCount"] == 0
    await time_passes(cluster.kubelet, cluster.clock, 60)
    assert len(cluster.runtime.containers) == 1  # never restarted


async def test_the_pleg_survives_an_os_error_from_the_runtime(cluster: Cluster) -> None:
    await cluster.client.create(PODS, pod("steady", restart="Never"))
    await cluster.clock.until(lambda: phase_is(cluster, "steady", "Running"))
    cluster.runtime.fail("list_containers", OSError(2, "No such file or directory"))

    async def relisted() -> bool:
        return "list_containers" not in cluster.runtime.failures

    await cluster.clock.until(relisted)
    (cid,) = [c for c in cluster.runtime.containers]
    cluster.runtime.exit_container(cid, 0)  # only the PLEG can see this exit
    p = await cluster.clock.until(lambda: phase_is(cluster, "steady", "Succeeded"))
    assert p["status"]["containerStatuses"][0]["state"]["terminated"]["reason"] == "Completed"


async def test_init_containers_run_in_order(cluster: Cluster) -> None:
    cluster.exits["init1"] = 0
    cluster.exits["init2"] = 0
    await cluster.client.create(PODS, pod("init", init=[{"name": "init1", "image": "busybox"},
                                                        {"name": "init2", "image": "busybox"}]))
    p = await cluster.clock.until(lambda: phase_is(cluster, "init", "Running"))
    inits = p["status"]["initContainerStatuses"]
    assert [s["state"]["terminated"]["reason"] for s in inits] == ["Completed", "Completed"]
    assert all(s["ready"] for s in inits)
    created = [k for m, k in cluster.runtime.calls if m == "create_container"]
    assert created == ["init1", "init2", "c"]


async def test_image_pull_error_then_backoff(cluster: Cluster) -> None:
    await cluster.client.create(PODS, pod("bad", {"name": "c", "image": "nosuch/image:1.0"}))

    async def waiting() -> str | None:
        p = await get_pod(cluster, "bad")
        cs = (p.get("status") or {}).get("containerStatuses") or [{}]
        return ((cs[0].get("state") or {}).get("waiting") or {}).get("reason")

    assert await cluster.clock.until(lambda: _reason_in(waiting, "ImagePullBackOff"))
    await cluster.kubelet.recorder.flush()
    evs = (await cluster.client.list(EVENTS, "default"))["items"]
    texts = {(e["reason"], e["message"]) for e in evs if e["involvedObject"]["name"] == "bad"}
    assert ("Failed", "Error: ErrImagePull") in texts
    assert ("Failed", "Error: ImagePullBackOff") in texts
    assert ("BackOff", 'Back-off pulling image "nosuch/image:1.0"') in texts
    assert ("Pulling", 'Pulling image "nosuch/image:1.0"') in texts
    assert cluster.images.pulls == ["docker.io/nosuch/image:1.0"]  # no pull while backing off


async def _reason_in(fn: Callable[[], Any], want: str) -> bool:
    return bool(await fn() == want)


async def test_config_error_for_missing_configmap(cluster: Cluster) -> None:
    await cluster.client.create(PODS, pod("cfg", {"name": "c", "image": "busybox", "env": [
        {"name": "X", "valueFrom": {"configMapKeyRef": {"name": "missing", "key": "k"}}}]}))

    async def waiting() -> JSON | None:
        p = await get_pod(cluster, "cfg")
        cs = (p.get("status") or {}).get("containerStatuses") or [{}]
        w = (cs[0].get("state") or {}).get("waiting") or {}
        return w if w.get("reason") == "CreateContainerConfigError" else None

    w = await cluster.clock.until(waiting)
    assert w["message"] == 'configmap "missing" not found'


async def test_graceful_delete_removes_containers(cluster: Cluster) -> None:
    await cluster.client.create(PODS, pod("del"))
    await cluster.clock.until(lambda: phase_is(cluster, "del", "Running"))
    await cluster.client.delete(PODS, "del", "default")

    async def gone() -> bool:
        try:
            await get_pod(cluster, "del")
        except StatusError as exc:
            return exc.code == 404
        return False

    assert await cluster.clock.until(gone)
    assert await cluster.clock.until(lambda: _no_containers(cluster))
    assert "Killing" in await reasons(cluster, "del")


async def _no_containers(c: Cluster) -> bool:
    return not c.runtime.containers and not c.runtime.sandboxes


async def test_static_pod_mirror_recreated_and_removed(cluster: Cluster) -> None:
    manifest = cluster.manifests / "static.yaml"
    manifest.write_text(yaml.safe_dump(pod("st")))
    mirror = await cluster.clock.until(lambda: phase_is(cluster, f"st-{NODE}", "Running"))
    ann = mirror["metadata"]["annotations"]
    assert ann["kubernetes.io/config.source"] == "file"
    assert ann["kubernetes.io/config.mirror"] == ann["kubernetes.io/config.hash"]
    assert mirror["metadata"]["ownerReferences"][0]["kind"] == "Node"
    first_uid = mirror["metadata"]["uid"]
    containers = set(cluster.runtime.containers)
    await cluster.client.delete(PODS, f"st-{NODE}", "default")

    async def recreated() -> bool:
        p = await get_pod(cluster, f"st-{NODE}")
        return p["metadata"]["uid"] != first_uid and not p["metadata"].get("deletionTimestamp")

    assert await cluster.clock.until(recreated)
    assert set(cluster.runtime.containers) == containers  # the static pod kept running
    manifest.unlink()

    async def removed() -> bool:
        try:
            await get_pod(cluster, f"st-{NODE}")
        except StatusError as exc:
            return exc.code == 404
        return False

    assert await cluster.clock.until(removed)
    assert await cluster.clock.until(lambda: _no_containers(cluster))


async def test_unschedulable_pod_reports_insufficient_cpu(cluster: Cluster) -> None:
    big = pod("big", {"name": "c", "image": "busybox",
                      "resources": {"requests": {"cpu": "1000"}}})
    await cluster.client.create(PODS, big)

    async def failed() -> JSON | None:
        await cluster.scheduler.recorder.flush()
        evs = (await cluster.client.list(EVENTS, "default"))["items"]
        return next((e for e in evs if e["reason"] == "FailedScheduling"), None)

    ev = await cluster.clock.until(failed)
    assert ev["message"] == ("0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 "
                             "nodes are available: 1 No preemption victims found for incoming "
                             "pod.")
    assert ev["source"] == {"component": "default-scheduler"}


async def test_kubelet_restart_adopts_containers(cluster: Cluster, tmp_path: Path) -> None:
    await cluster.client.create(PODS, pod("keep"))
    await cluster.clock.until(lambda: phase_is(cluster, "keep", "Running"))
    before = {cid: c.status.state for cid, c in cluster.runtime.containers.items()}
    await cluster.kubelet.stop()
    k2 = Kubelet(cluster.client, cluster.runtime, cluster.images, cluster.kubelet.config,
                 settings(tmp_path), clock=cluster.clock)
    await k2.start()
    cluster.kubelet = k2
    await time_passes(k2, cluster.clock, 5)
    after = {cid: c.status.state for cid, c in cluster.runtime.containers.items()}
    assert after == before
    assert all(s == ContainerState.RUNNING for s in after.values())
    p = await get_pod(cluster, "keep")
    assert p["status"]["containerStatuses"][0]["restartCount"] == 0


async def test_lookup_for_the_kubelet_server(cluster: Cluster) -> None:
    cluster.exits["c"] = 3
    await cluster.client.create(PODS, pod("look", restart="OnFailure"))

    async def two_instances() -> bool:
        return len(cluster.runtime.containers) >= 1 and (
            await cluster.kubelet.lookup("default", "look")) is not None

    await cluster.clock.until(two_instances)
    found = await cluster.kubelet.lookup("default", "look", "c")
    assert found is not None and found.container_id in cluster.runtime.containers
    assert found.runtime is cluster.runtime
    assert found.log_path.endswith("/c/0.log") or found.log_path.endswith("/c/1.log")
    assert await cluster.kubelet.lookup("default", "look", "nosuch") is None
    assert await cluster.kubelet.lookup("default", "missing") is None


async def test_pre_stop_hook_runs_before_stop(cluster: Cluster) -> None:
    await cluster.client.create(PODS, pod("hook", {
        "name": "c", "image": "busybox",
        "lifecycle": {"preStop": {"exec": {"command": ["sh", "-c", "echo bye"]}}}}))
    await cluster.clock.until(lambda: phase_is(cluster, "hook", "Running"))
    cid = next(iter(cluster.runtime.containers))
    await cluster.client.delete(PODS, "hook", "default", grace_period_seconds=5)
    assert await cluster.clock.until(lambda: _no_containers(cluster))
    assert cluster.execs == [(cid, ["sh", "-c", "echo bye"])]
    order = [m for m, k in cluster.runtime.calls if k == cid and m in ("exec_sync",
                                                                          "stop_container")]
    assert order[:2] == ["exec_sync", "stop_container"]
    await cluster.kubelet.recorder.flush()
    evs = (await cluster.client.list(EVENTS, "default"))["items"]
    assert any(e["reason"] == "Killing" and e["message"] == "Stopping container c"
               for e in evs)


async def test_unschedulable_pod_scheduled_when_node_changes(cluster: Cluster) -> None:
    await cluster.client.create(PODS, pod("picky", nodeSelector={"disk": "ssd"}))

    async def failed() -> JSON | None:
        await cluster.scheduler.recorder.flush()
        evs = (await cluster.client.list(EVENTS, "default"))["items"]
        return next((e for e in evs if e["reason"] == "FailedScheduling"), None)

    ev = await cluster.clock.until(failed)
    assert ev["message"] == (
        "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. "
        "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.")
    p = await get_pod(cluster, "picky")
    cond = next(c for c in p["status"]["conditions"] if c["type"] == "PodScheduled")
    assert (cond["status"], cond["reason"]) == ("False", "Unschedulable")
    await cluster.client.patch(NODES, NODE, {"metadata": {"labels": {"disk": "ssd"}}})
    await cluster.clock.until(lambda: phase_is(cluster, "picky", "Running"))


async def test_static_pod_edit_replaces_pod(cluster: Cluster) -> None:
    manifest = cluster.manifests / "edit.yaml"
    manifest.write_text(yaml.safe_dump(pod("ed")))
    await cluster.clock.until(lambda: phase_is(cluster, f"ed-{NODE}", "Running"))
    first = set(cluster.runtime.containers)
    manifest.write_text(yaml.safe_dump(pod("ed", {"name": "c", "image": "nginx"})))

    async def replaced() -> bool:
        p = await get_pod(cluster, f"ed-{NODE}")
        cs = (p.get("status") or {}).get("containerStatuses") or [{}]
        return cs[0].get("image") == "docker.io/library/nginx:latest" and "running" in (
            cs[0].get("state") or {})

    assert await cluster.clock.until(replaced)
    assert await cluster.clock.until(lambda: _gone(cluster, first))


async def _gone(c: Cluster, ids: set[str]) -> bool:
    return not (ids & set(c.runtime.containers))


async def test_volumes_shared_and_filled(cluster: Cluster) -> None:
    await cluster.client.create(CONFIGMAPS, {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "conf", "namespace": "default"}, "data": {"app.conf": "x=1"}})
    mounts = [{"name": "shared", "mountPath": "/shared"}, {"name": "conf", "mountPath": "/etc/app"},
              {"name": "info", "mountPath": "/info"}]
    await cluster.client.create(PODS, pod(
        "vols", {"name": "a", "image": "busybox", "volumeMounts": mounts},
        {"name": "b", "image": "busybox", "volumeMounts": mounts[:1]},
        volumes=[{"name": "shared", "emptyDir": {}},
                 {"name": "conf", "configMap": {"name": "conf"}},
                 {"name": "info", "downwardAPI": {"items": [
                     {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}}]}}]))
    await cluster.clock.until(lambda: phase_is(cluster, "vols", "Running"))
    by_name = {c.config.name: c.config for c in cluster.runtime.containers.values()}
    a = {m.container_path: m.host_path for m in by_name["a"].mounts}
    b = {m.container_path: m.host_path for m in by_name["b"].mounts}
    assert a["/shared"] == b["/shared"]
    assert Path(a["/etc/app"], "app.conf").read_text() == "x=1"  # noqa: ASYNC240
    assert Path(a["/info"], "name").read_text() == "vols"  # noqa: ASYNC240
    assert "/dev/termination-log" in a


async def test_active_deadline_fails_the_pod(cluster: Cluster) -> None:
    await cluster.client.create(PODS, pod("deadline", activeDeadlineSeconds=30))
    await cluster.clock.until(lambda: phase_is(cluster, "deadline", "Running"))
    await cluster.clock.advance(31)
    cluster.kubelet.resync_all()
    p = await cluster.clock.until(lambda: phase_is(cluster, "deadline", "Failed"))
    assert p["status"]["reason"] == "DeadlineExceeded"
    assert p["status"]["message"] == ("Pod was active on the node longer than the specified "
                                      "deadline")
    assert "terminated" in p["status"]["containerStatuses"][0]["state"]
    await time_passes(cluster.kubelet, cluster.clock, 60)
    assert all(c.status.state == ContainerState.EXITED
               for c in cluster.runtime.containers.values())


async def test_sidecar_starts_first_and_does_not_keep_a_never_pod(cluster: Cluster) -> None:
    cluster.exits["c"] = 0
    side = {"name": "sc", "image": "busybox", "restartPolicy": "Always"}
    await cluster.client.create(PODS, pod("sidejob", init=[side], restart="Never"))
    p = await cluster.clock.until(lambda: phase_is(cluster, "sidejob", "Succeeded"))
    created = [k for m, k in cluster.runtime.calls if m == "create_container"]
    assert created == ["sc", "c"]
    assert "terminated" in p["status"]["initContainerStatuses"][0]["state"]
    assert p["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 0
    assert "Killing" in await reasons(cluster, "sidejob")  # the sidecar was stopped
