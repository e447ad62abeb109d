"""``kubectl debug`` and ``kubectl cp`` on real runc with the real kubectl: an ephemeral
container sharing the target container's processes, files copied in and out of a pod."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from kubelite.testing.server_process import ServerProcess, wait_for

pytestmark = pytest.mark.root


def pod_json(node: ServerProcess, name: str) -> dict[str, Any]:
    r = node.kubectl("get", "pod", name, "-o", "json")
    return json.loads(r.stdout) if r.returncode == 0 else {}


@pytest.fixture(scope="module")
def app_pod(node: ServerProcess) -> str:
    """A running pod whose app container runs a recognisable process."""
    obj = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
           "spec": {"terminationGracePeriodSeconds": 1, "containers": [{
               "name": "app", "image": "busybox",
               "command": ["sh", "-c", "exec sleep 3123"]}]}}
    r = node.kubectl("apply", "-f", "-", input=json.dumps(obj))
    assert r.returncode == 0, r.stderr
    r = node.kubectl("wait", "--for=condition=Ready", "pod/web", "--timeout=60s", timeout=70)
    assert r.returncode == 0, r.stderr
    return "web"


def test_debug_target_lists_the_app_processes(node: ServerProcess, app_pod: str) -> None:
    r = node.kubectl("debug", app_pod, "-it", "--image=busybox", "--target=app",
                     "--container=dbg", "--", "ps", timeout=90)
    assert r.returncode == 0, r.stderr
    assert "sleep 3123" in r.stdout, r.stdout
    ps_lines = [ln for ln in r.stdout.splitlines() if ln.strip().endswith("ps")]
    assert ps_lines, r.stdout

    def terminated() -> bool:
        es = pod_json(node, app_pod)["status"].get("ephemeralContainerStatuses") or []
        return bool(es) and "terminated" in es[0]["state"]
    assert wait_for(terminated, 30)
    st = pod_json(node, app_pod)["status"]
    es = st["ephemeralContainerStatuses"][0]
    assert es["name"] == "dbg" and es["state"]["terminated"]["exitCode"] == 0
    assert es["restartCount"] == 0
    # the pod itself is untouched: still running and ready, its app never restarted
    assert st["phase"] == "Running" and st["containerStatuses"][0]["restartCount"] == 0
    assert pod_json(node, app_pod)["spec"]["ephemeralContainers"][0]["targetContainerName"] \
        == "app"


def test_cp_round_trip_gives_the_same_bytes(node: ServerProcess, app_pod: str,
                                            tmp_path: Path) -> None:
    data = os.urandom(200_000) + b"\n\x00end"
    src = tmp_path / "blob.bin"
    src.write_bytes(data)
    r = node.kubectl("cp", str(src), f"{app_pod}:/tmp/blob.bin", "-c", "app")
    assert r.returncode == 0, r.stderr
    r = node.kubectl("exec", app_pod, "--", "wc", "-c", "/tmp/blob.bin")
    assert r.stdout.split()[0] == str(len(data))
    back = tmp_path / "back.bin"
    r = node.kubectl("cp", f"{app_pod}:/tmp/blob.bin", str(back), "-c", "app")
    assert r.returncode == 0, r.stderr
    assert back.read_bytes() == data


def test_attach_reaches_the_container_stdin(node: ServerProcess) -> None:
    obj = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "reader"},
           "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
                    "containers": [{
                        "name": "app", "image": "busybox", "stdin": True, "stdinOnce": True,
                        "command": ["sh", "-c", "while read l; do echo got:$l; done; echo bye"]}]}}
    r = node.kubectl("apply", "-f", "-", input=json.dumps(obj))
    assert r.returncode == 0, r.stderr
    r = node.kubectl("wait", "--for=condition=Ready", "pod/reader", "--timeout=60s", timeout=70)
    assert r.returncode == 0, r.stderr
    r = node.kubectl("attach", "reader", "-c", "app", "-i", input="hello\nworld\n", timeout=60)
    assert r.returncode == 0, r.stderr
    assert "got:hello" in r.stdout and "got:world" in r.stdout, r.stdout
    # stdinOnce: the end of the attach session is the end of the container's input
    assert wait_for(lambda: pod_json(node, "reader")["status"]["phase"] == "Succeeded", 30)
    logs = node.kubectl("logs", "reader").stdout.split()
    assert logs == ["got:hello", "got:world", "bye"], logs


def test_debug_node_sees_the_host(node: ServerProcess) -> None:
    r = node.kubectl("debug", "node/e2e-node", "-it", "--image=busybox", "--",
                     "sh", "-c", "ls /host/etc; echo pids:$(ls -d /proc/[0-9]* | wc -l)",
                     timeout=90)
    assert r.returncode == 0, r.stderr
    listed = set(r.stdout.split())
    host = set(os.listdir("/etc"))
    assert {"passwd", "hostname"} <= listed & host, r.stdout
    pids = int(r.stdout.rsplit("pids:", 1)[1].split()[0])
    assert pids > 20  # the node's processes (hostPID), not a pod's handful
    pods = json.loads(node.kubectl("get", "pods", "-o", "json").stdout)["items"]
    debugger = next(p for p in pods if p["metadata"]["name"].startswith("node-debugger-"))
    spec = debugger["spec"]
    assert spec["hostPID"] and spec["hostNetwork"] and spec["hostIPC"]
    assert spec["nodeName"] == "e2e-node"


def test_debug_copy_shares_processes(node: ServerProcess, app_pod: str) -> None:
    r = node.kubectl("debug", app_pod, "-it", "--image=busybox", "--copy-to=web-copy",
                     "--share-processes", "--container=dbg", "--", "ps", timeout=90)
    assert r.returncode == 0, r.stderr
    assert "sleep 3123" in r.stdout, r.stdout  # the copied app's process, seen from dbg
    copy = pod_json(node, "web-copy")
    assert copy["spec"]["shareProcessNamespace"] is True
    assert [c["name"] for c in copy["spec"]["containers"]] == ["app", "dbg"]
    # the pod's other containers run on in the shared namespace
    r = node.kubectl("exec", "web-copy", "-c", "app", "--", "ps")
    pids = {ln.split(None, 2)[2]: ln.split()[0] for ln in r.stdout.splitlines()[1:]}
    assert pids["sleep 3123"] != "1", r.stdout  # pid 1 holds the pod's namespace
    node.kubectl("delete", "pod", "web-copy", "--wait=false")
