"""Claims and StatefulSets on real runc with the real kubectl: the default ``local-path``
class, a claim Pending until its pod is scheduled and then Bound, data kept on the host
under ``<data-dir>/storage`` and removed with its claim."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kubelite.testing.server_process import ServerProcess, wait_for

pytestmark = pytest.mark.root

CLAIM = """
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
"""

POD = """
apiVersion: v1
kind: Pod
metadata: {name: writer}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "echo hello > /data/greeting; sleep 3600"]
    volumeMounts: [{name: data, mountPath: /data}]
  volumes:
  - {name: data, persistentVolumeClaim: {claimName: data}}
"""


def _json(node: ServerProcess, *args: str) -> dict[str, Any]:
    r = node.kubectl("get", *args, "-o", "json")
    assert r.returncode == 0, r.stderr
    doc: dict[str, Any] = json.loads(r.stdout)
    return doc


def _columns(out: str, name: str) -> list[str]:
    """The cells of the row starting with ``name`` (split on runs of 2+ spaces)."""
    import re
    row = next(ln for ln in out.splitlines() if ln.startswith(name))
    return re.split(r"\s{2,}", row.strip())


def test_claim_binds_when_its_pod_is_scheduled_and_goes_with_its_data(
        node: ServerProcess) -> None:
    sc = node.kubectl("get", "sc")
    assert sc.stdout.splitlines()[0].split() == [
        "NAME", "PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE", "ALLOWVOLUMEEXPANSION",
        "AGE"]
    assert _columns(sc.stdout, "local-path")[:5] == [
        "local-path (default)", "rancher.io/local-path", "Delete", "WaitForFirstConsumer",
        "false"]
    assert node.kubectl("apply", "-f", "-", input=CLAIM).returncode == 0
    pending = node.kubectl("get", "pvc", "data")
    assert pending.stdout.splitlines()[0].split() == [
        "NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS", "MODES", "STORAGECLASS",
        "VOLUMEATTRIBUTESCLASS", "AGE"]
    assert _columns(pending.stdout, "data")[:3] == ["data", "Pending", "local-path"]
    assert node.kubectl("apply", "-f", "-", input=POD).returncode == 0
    assert wait_for(lambda: _json(node, "pvc", "data")["status"]["phase"] == "Bound", 60)
    assert wait_for(lambda: _json(node, "pod", "writer")["status"].get("phase") == "Running",
                    60), node.log()[-3000:]
    uid = _json(node, "pvc", "data")["metadata"]["uid"]
    directory = node.data_dir / "storage" / f"pvc-{uid}_default_data"
    assert wait_for(lambda: (directory / "greeting").exists(), 20)
    assert (directory / "greeting").read_text() == "hello\n"
    listing = node.kubectl("get", "pv,pvc")
    assert listing.returncode == 0, listing.stderr
    pv_row = _columns(listing.stdout, f"persistentvolume/pvc-{uid}")
    assert pv_row[1:7] == ["1Gi", "RWO", "Delete", "Bound", "default/data", "local-path"]
    pvc_row = _columns(listing.stdout, "persistentvolumeclaim/data")
    assert pvc_row[1:6] == ["Bound", f"pvc-{uid}", "1Gi", "RWO", "local-path"]
    assert node.kubectl("delete", "pod", "writer", "--wait").returncode == 0
    assert node.kubectl("delete", "pvc", "data").returncode == 0
    assert wait_for(lambda: not directory.exists()
                    and "NotFound" in node.kubectl("get", "pv", f"pvc-{uid}").stderr, 30)


STATEFUL_SET = """
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  replicas: 2
  serviceName: web
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: main
        image: busybox
        command: ["sh", "-c", "[ -f /data/first ] || hostname > /data/first;
                  echo started >> /data/log; sleep 3600"]
        volumeMounts: [{name: data, mountPath: /data}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
"""


def test_stateful_set_pods_keep_their_claims_and_data(node: ServerProcess) -> None:
    assert node.kubectl("apply", "-f", "-", input=STATEFUL_SET).returncode == 0
    status = node.kubectl("rollout", "status", "sts/web", "--timeout=60s", timeout=70)
    assert status.returncode == 0, status.stderr + node.log()[-3000:]
    # as on a real cluster: the defaulted partition 0 makes kubectl report a partitioned
    # roll out
    assert status.stdout.strip().splitlines()[-1] == (
        "partitioned roll out complete: 2 new pods have been updated...")
    web0, web1 = (_json(node, "pod", n) for n in ("web-0", "web-1"))
    ready0 = next(c for c in web0["status"]["conditions"] if c["type"] == "Ready")
    assert web1["metadata"]["creationTimestamp"] >= ready0["lastTransitionTime"]
    get = node.kubectl("get", "sts", "web")
    assert get.stdout.splitlines()[0].split() == ["NAME", "READY", "AGE"]
    assert _columns(get.stdout, "web")[:2] == ["web", "2/2"]
    claim0 = _json(node, "pvc", "data-web-0")
    assert claim0["status"]["phase"] == "Bound"
    directory = (node.data_dir / "storage"
                 / f"pvc-{claim0['metadata']['uid']}_default_data-web-0")
    assert wait_for(lambda: (directory / "log").exists(), 20)
    assert (directory / "first").read_text() == "web-0\n"
    old_uid = web0["metadata"]["uid"]
    assert node.kubectl("delete", "pod", "web-0", "--wait").returncode == 0

    def back() -> bool:
        pod = _json(node, "pod", "web-0")
        return (pod["metadata"]["uid"] != old_uid
                and pod["status"].get("phase") == "Running")

    assert wait_for(back, 60), node.log()[-3000:]
    assert wait_for(lambda: (directory / "log").read_text().count("started") == 2, 20)
    assert (directory / "first").read_text() == "web-0\n"
    cat = node.kubectl("exec", "web-0", "--", "cat", "/data/first")
    assert cat.stdout == "web-0\n", cat.stderr


GUARDED = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: guarded}
spec:
  replicas: 1
  selector: {matchLabels: {app: guarded}}
  template:
    metadata: {labels: {app: guarded}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - {name: main, image: busybox, command: ["sleep", "3600"]}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: guarded}
spec:
  minAvailable: 1
  selector: {matchLabels: {app: guarded}}
"""


def test_drain_is_refused_by_the_disruption_budget(node: ServerProcess) -> None:
    assert node.kubectl("apply", "-f", "-", input=GUARDED).returncode == 0

    def budget_ready() -> bool:
        st = _json(node, "pdb", "guarded").get("status") or {}
        return st.get("currentHealthy") == 1 and st.get("observedGeneration") == 1

    assert wait_for(budget_ready, 60), node.log()[-3000:]
    pdb = node.kubectl("get", "pdb", "guarded")
    assert pdb.stdout.splitlines()[0].split() == [
        "NAME", "MIN", "AVAILABLE", "MAX", "UNAVAILABLE", "ALLOWED", "DISRUPTIONS", "AGE"]
    assert _columns(pdb.stdout, "guarded")[:4] == ["guarded", "1", "N/A", "0"]
    try:
        drain = node.kubectl("drain", "e2e-node", "--pod-selector=app=guarded",
                             "--ignore-daemonsets", "--timeout=7s", timeout=30)
        assert drain.returncode != 0
        assert "node/e2e-node cordoned" in drain.stdout
        assert ("(will retry after 5s): Cannot evict pod as it would violate the pod's "
                "disruption budget.") in drain.stderr
        nodes = node.kubectl("get", "node", "e2e-node")
        assert "SchedulingDisabled" in nodes.stdout
    finally:
        assert node.kubectl("uncordon", "e2e-node").returncode == 0
    assert _json(node, "pods", "-l", "app=guarded")["items"][0]["status"]["phase"] == (
        "Running")


def test_stateful_set_rollout_history_and_undo(node: ServerProcess) -> None:
    if node.kubectl("get", "sts", "web").returncode != 0:
        assert node.kubectl("apply", "-f", "-", input=STATEFUL_SET).returncode == 0
    patch = '{"spec": {"template": {"metadata": {"annotations": {"release": "two"}}}}}'
    assert node.kubectl("patch", "sts", "web", "-p", patch).returncode == 0
    status = node.kubectl("rollout", "status", "sts/web", "--timeout=60s", timeout=70)
    assert status.returncode == 0, status.stderr
    history = node.kubectl("rollout", "history", "sts/web")
    assert history.returncode == 0, history.stderr
    assert [ln.split()[0] for ln in history.stdout.splitlines()[2:] if ln.strip()] == ["1", "2"]
    assert _json(node, "pod", "web-0")["metadata"]["annotations"]["release"] == "two"
    undo = node.kubectl("rollout", "undo", "sts/web")
    assert undo.returncode == 0, undo.stderr
    assert node.kubectl("rollout", "status", "sts/web", "--timeout=60s",
                        timeout=70).returncode == 0
    sts = _json(node, "sts", "web")
    assert "annotations" not in sts["spec"]["template"]["metadata"]
    assert wait_for(lambda: "release" not in (
        _json(node, "pod", "web-0")["metadata"].get("annotations") or {}), 30)
    history = node.kubectl("rollout", "history", "sts/web")
    assert [ln.split()[0] for ln in history.stdout.splitlines()[2:] if ln.strip()] == ["2", "3"]
