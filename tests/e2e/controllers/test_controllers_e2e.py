"""Deployments, ReplicaSets and DaemonSets on kubelite server with its kubelet on real
runc, driven by the real kubectl: rollout status, scale, image change, undo, restart,
cascading deletion.

Images come from the local test registry. The node has its own pod range, bridge and
kubelet config (see ServerProcess), apart from the machine's server and other modules.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubelite.testing.registry import TestRegistry
from kubelite.testing.server_process import ServerProcess, wait_for

pytestmark = pytest.mark.root

# The study notes' Deployment, with its probes on the port hello-app serves (8080).
HELLO = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: hello-world
spec:
  replicas: 1
  selector:
    matchLabels:
      app: hello-world
  template:
    metadata:
      labels:
        app: hello-world
    spec:
      containers:
      - name: hello-world
        image: gcr.io/google-samples/hello-app:2.0
        ports:
        - containerPort: 8080
"""

DAEMON = """
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: node-agent
spec:
  selector:
    matchLabels: {app: node-agent}
  template:
    metadata:
      labels: {app: node-agent}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: agent
        image: busybox
        command: ["sh", "-c", "sleep 3600"]
"""


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory,
         image_registry: TestRegistry) -> Iterator[ServerProcess]:
    for tool in ("kubectl", "runc", "conmon"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    data_dir: Path = tmp_path_factory.mktemp("kubelite-ctrl")
    # its own kubelet config (no static pods from the host's /etc/kubernetes/manifests)
    proc = ServerProcess(data_dir, disable_agent=False, extra_args=[
        "--node-name", "ctrl-node", "--registries", str(image_registry.registries_yaml),
    ]).start(timeout=60)
    try:
        assert wait_for(lambda: " Ready " in proc.kubectl("get", "nodes").stdout, 30)
        yield proc
    finally:
        proc.close()  # stop, kill its containers, check nothing is left


def _json(node: ServerProcess, *args: str) -> Any:
    r = node.kubectl(*args, "-o", "json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def _running(node: ServerProcess, selector: str) -> list[dict[str, Any]]:
    items = _json(node, "get", "pods", "-l", selector)["items"]
    return [p for p in items if p["status"].get("phase") == "Running"
            and not p["metadata"].get("deletionTimestamp")]


def _rollout_status(node: ServerProcess, name: str) -> subprocess.CompletedProcess[str]:
    return node.kubectl("rollout", "status", f"deployment/{name}", "--timeout=120s",
                        timeout=150)


def test_deployment_lifecycle_with_kubectl(node: ServerProcess) -> None:
    r = node.kubectl("apply", "-f", "-", input=HELLO)
    assert r.returncode == 0, r.stderr
    r = _rollout_status(node, "hello-world")
    assert r.returncode == 0, r.stderr + node.log()[-3000:]
    assert 'deployment "hello-world" successfully rolled out' in r.stdout
    out = node.kubectl("get", "deployment", "hello-world").stdout
    assert "1/1" in out

    # kubectl scale
    r = node.kubectl("scale", "deployment", "hello-world", "--replicas=3")
    assert r.returncode == 0, r.stderr
    assert "scaled" in r.stdout
    assert _rollout_status(node, "hello-world").returncode == 0
    assert wait_for(lambda: len(_running(node, "app=hello-world")) == 3, 60)
    first_rs = _json(node, "get", "rs", "-l", "app=hello-world")["items"]
    assert len(first_rs) == 1
    first_name = first_rs[0]["metadata"]["name"]

    # a new image: a new ReplicaSet, the old one scaled to 0
    r = node.kubectl("set", "image", "deployment/hello-world", "hello-world=nginx")
    assert r.returncode == 0, r.stderr
    r = _rollout_status(node, "hello-world")
    assert r.returncode == 0, r.stderr + node.log()[-3000:]
    rses = {x["metadata"]["name"]: x for x in
            _json(node, "get", "rs", "-l", "app=hello-world")["items"]}
    assert len(rses) == 2
    assert rses[first_name]["spec"]["replicas"] == 0
    table = node.kubectl("get", "rs").stdout.splitlines()
    old_row = next(line.split() for line in table if line.startswith(first_name))
    assert old_row[1:4] == ["0", "0", "0"]
    assert wait_for(lambda: len(_running(node, "app=hello-world")) == 3, 60)
    images = {p["spec"]["containers"][0]["image"] for p in _running(node, "app=hello-world")}
    assert images == {"nginx"}
    hist = node.kubectl("rollout", "history", "deployment/hello-world")
    assert hist.returncode == 0 and "2" in hist.stdout, hist.stderr

    # undo: back to the first template, as revision 3
    r = node.kubectl("rollout", "undo", "deployment/hello-world")
    assert r.returncode == 0, r.stderr
    assert _rollout_status(node, "hello-world").returncode == 0
    d = _json(node, "get", "deployment", "hello-world")
    assert d["spec"]["template"]["spec"]["containers"][0]["image"] == \
        "gcr.io/google-samples/hello-app:2.0"
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    rs = _json(node, "get", "rs", first_name)
    assert rs["spec"]["replicas"] == 3

    # restart: a template annotation, hence a new ReplicaSet
    r = node.kubectl("rollout", "restart", "deployment/hello-world")
    assert r.returncode == 0, r.stderr
    assert _rollout_status(node, "hello-world").returncode == 0
    assert len(_json(node, "get", "rs", "-l", "app=hello-world")["items"]) == 3

    events = node.kubectl("get", "events", "--field-selector",
                          "involvedObject.name=hello-world").stdout
    assert "ScalingReplicaSet" in events and "Scaled up replica set" in events

    # delete: the ReplicaSets and pods go with it
    r = node.kubectl("delete", "deployment", "hello-world")
    assert r.returncode == 0, r.stderr
    assert wait_for(lambda: not _json(node, "get", "rs", "-l", "app=hello-world")["items"], 30)
    assert wait_for(lambda: not _json(node, "get", "pods", "-l", "app=hello-world")["items"],
                    60)


def test_daemonset_runs_on_the_node(node: ServerProcess) -> None:
    r = node.kubectl("apply", "-f", "-", input=DAEMON)
    assert r.returncode == 0, r.stderr
    assert wait_for(lambda: len(_running(node, "app=node-agent")) == 1, 90), node.log()[-3000:]
    pod = _running(node, "app=node-agent")[0]
    assert pod["spec"]["nodeName"] == "ctrl-node"
    assert pod["metadata"]["name"].startswith("node-agent-")

    def status_ok() -> bool:
        st = _json(node, "get", "ds", "node-agent")["status"]
        return bool(st.get("numberReady") == 1 and st.get("desiredNumberScheduled") == 1)

    assert wait_for(status_ok, 30)
    r = node.kubectl("rollout", "status", "ds/node-agent", "--timeout=60s", timeout=90)
    assert r.returncode == 0, r.stderr
    assert 'daemon set "node-agent" successfully rolled out' in r.stdout
    r = node.kubectl("delete", "ds", "node-agent")
    assert r.returncode == 0, r.stderr
    assert wait_for(lambda: not _json(node, "get", "pods", "-l", "app=node-agent")["items"],
                    60)
