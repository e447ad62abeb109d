"""The study notes, as written, on real runc with the real kubectl.

Each test runs one section of the notes: its manifest from tests/data/seed (verbatim) and
its commands (logs, exec, port-forward, static pods), and checks what the user would see.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from kubelite.testing.registry import free_port
from kubelite.testing.server_process import ServerProcess, wait_for

pytestmark = pytest.mark.root

SEED = Path(__file__).parents[2] / "data" / "seed"


def ok(r: subprocess.CompletedProcess[str]) -> str:
    assert r.returncode == 0, f"exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r.stdout


def pod(node: ServerProcess, name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(ok(node.kubectl("get", "pod", name, "-o", "json")))
    return doc


def running(node: ServerProcess, name: str, timeout: float = 90) -> dict[str, Any]:
    assert wait_for(lambda: node.kubectl("get", "pod", name, "-o",
                                         "jsonpath={.status.phase}").stdout == "Running",
                    timeout), node.kubectl("describe", "pod", name).stdout
    return pod(node, name)


def http_get(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return str(resp.read().decode())
    except OSError:
        return ""


def test_multicontainer_pod_producer_and_consumer(node: ServerProcess) -> None:
    ok(node.kubectl("apply", "-f", str(SEED / "pod-multicontainer-pod.yaml")))
    ip = running(node, "multicontainer-pod")["status"]["podIP"]
    # the producer's lines (hostname and date) come back from nginx on the pod IP
    assert wait_for(lambda: http_get(f"http://{ip}/").startswith("multicontainer-pod "), 30)
    first = http_get(f"http://{ip}/").splitlines()[0].split()
    assert first[0] == "multicontainer-pod" and len(first) >= 6  # hostname + date words

    # kubectl logs of each container: nginx logged our GET; the producer writes to a file
    assert wait_for(lambda: "GET / HTTP/1.1" in node.kubectl(
        "logs", "multicontainer-pod", "-c", "consumer").stdout, 10)
    assert node.kubectl("logs", "multicontainer-pod", "-c", "producer").returncode == 0

    # kubectl exec -it ... --container consumer -- /bin/bash (here without a terminal)
    out = ok(node.kubectl("exec", "multicontainer-pod", "--container", "consumer", "--",
                          "/bin/bash", "-c", "head -1 /usr/share/nginx/html/index.html"))
    assert out.startswith("multicontainer-pod ")
    r = node.kubectl("exec", "multicontainer-pod", "-c", "consumer", "--",
                     "/bin/bash", "-c", "exit 3")
    assert r.returncode == 3
    assert "command terminated with exit code 3" in r.stderr

    # kubectl port-forward multicontainer-pod 8080:80 (a free local port here)
    local = free_port()
    fwd = node.kubectl_popen("port-forward", "multicontainer-pod", f"{local}:80")
    try:
        assert wait_for(lambda: http_get(f"http://127.0.0.1:{local}/").startswith(
            "multicontainer-pod "), 15)
    finally:
        fwd.terminate()
        fwd.communicate(timeout=10)


def test_init_pod_runs_its_init_containers_in_order(node: ServerProcess) -> None:
    ok(node.kubectl("apply", "-f", str(SEED / "pod-init-pod.yaml")))
    running(node, "init-pod", 120)
    assert ok(node.kubectl("logs", "init-pod", "-c", "init-service")).strip() == \
        "service initialisation"
    assert ok(node.kubectl("logs", "init-pod", "-c", "init-db")).strip() == \
        "database initialisation"
    inits = pod(node, "init-pod")["status"]["initContainerStatuses"]
    service, db = (s["state"]["terminated"] for s in inits)
    assert service["finishedAt"] <= db["startedAt"]
    assert service["reason"] == db["reason"] == "Completed"


def test_pod_lifecycle_exec_and_restart(node: ServerProcess) -> None:
    watcher = node.kubectl_popen("get", "events", "--watch")
    try:
        ok(node.kubectl("apply", "-f", str(SEED / "pod-pod-lifecycle.yaml")))
        running(node, "pod-lifecycle")
        out = ok(node.kubectl("exec", "pod-lifecycle", "--", "/bin/bash", "-c",
                              "echo from inside $(hostname)"))
        assert out.strip() == "from inside pod-lifecycle"
        # kill the main process: restartPolicy Always restarts it and RESTARTS counts up
        node.kubectl("exec", "pod-lifecycle", "--", "/bin/bash", "-c", "kill 1")
        assert wait_for(lambda: pod(node, "pod-lifecycle")["status"]["containerStatuses"][0]
                        ["restartCount"] >= 1, 60)
        running(node, "pod-lifecycle")
        time.sleep(1)
    finally:
        watcher.terminate()
        events, _ = watcher.communicate(timeout=10)
    for reason in ("Scheduled", "Pulled", "Created", "Started"):
        assert any(reason in line and "pod/pod-lifecycle" in line
                   for line in events.splitlines()), events


def test_static_pod_from_kubectl_run_dry_run(node: ServerProcess) -> None:
    manifest = ok(node.kubectl("run", "hello-world",
                               "--image=gcr.io/google-samples/hello-app:2.0",
                               "--dry-run=client", "-o", "yaml", "--port=8080"))
    path = node.data_dir / "manifests" / "hello-world.yaml"
    path.write_text(manifest)
    mirror = "hello-world-e2e-node"
    try:
        ip = running(node, mirror)["status"]["podIP"]
        reply = ""

        def hello() -> bool:
            nonlocal reply
            reply = http_get(f"http://{ip}:8080/")
            return "Hello, world!" in reply

        assert wait_for(hello, 20)
        assert "Version: 2.0.0" in reply
        # a static pod is named after its manifest and node (as the kubelet names it)
        assert f"Hostname: {mirror}\n" in reply, reply
        annotations = pod(node, mirror)["metadata"]["annotations"]
        assert annotations["kubernetes.io/config.source"] == "file"
        # a mirror pod deleted through the API comes back
        ok(node.kubectl("delete", "pod", mirror, "--wait=false"))
        time.sleep(2)
        assert wait_for(lambda: node.kubectl("get", "pod", mirror).returncode == 0, 10)
    finally:
        path.unlink(missing_ok=True)
    # deleting the manifest removes the pod
    assert wait_for(lambda: node.kubectl("get", "pod", mirror).returncode == 1, 30)



def test_exec_it_bash_on_a_terminal(node: ServerProcess) -> None:
    """`kubectl exec -it POD -- /bin/bash`, typed into as a person would, on a real pty."""
    import os
    import pty
    import select

    manifest = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "shell"},
                "spec": {"containers": [{"name": "ubuntu", "image": "ubuntu",
                                         "command": ["sleep", "3600"]}]}}
    ok(node.kubectl("apply", "-f", "-", input=json.dumps(manifest)))
    running(node, "shell")
    pid, fd = pty.fork()
    if pid == 0:  # the child: kubectl on the terminal
        os.execvp("kubectl", ["kubectl", "--kubeconfig", str(node.kubeconfig), "--cache-dir",
                              str(node.cache_dir), "exec", "-it", "shell", "--",
                              "/bin/bash"])
    out = b""

    def read_until(marker: bytes, timeout: float = 20) -> bool:
        nonlocal out
        deadline = time.monotonic() + timeout
        while marker not in out and time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                try:
                    out += os.read(fd, 4096)
                except OSError:
                    break
        return marker in out

    try:
        time.sleep(1)
        os.write(fd, b"echo answer-$((6*7)) on $(tty)\n")
        assert read_until(b"answer-42 on /dev/pts/"), out.decode(errors="replace")
        os.write(fd, b"exit 4\n")
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 4
    finally:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
        os.close(fd)


def test_logs_previous_shows_the_last_run(node: ServerProcess) -> None:
    manifest = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "reruns"},
                "spec": {"containers": [{
                    "name": "c", "image": "busybox",
                    "command": ["sh", "-c", "echo run-$(cat /proc/sys/kernel/random/uuid); "
                                "sleep 2; exit 1"]}]}}
    ok(node.kubectl("apply", "-f", "-", input=json.dumps(manifest)))
    assert wait_for(lambda: pod(node, "reruns")["status"].get("containerStatuses", [{}])[0]
                    .get("restartCount", 0) >= 1, 60)
    assert wait_for(lambda: node.kubectl("logs", "reruns").stdout.startswith("run-"), 30)
    previous = ok(node.kubectl("logs", "reruns", "--previous")).strip()
    current = ok(node.kubectl("logs", "reruns")).strip()
    assert previous.startswith("run-") and current.startswith("run-")
    assert previous != current  # two runs, two different ids
