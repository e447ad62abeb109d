"""Scraping a real node: the API server's /metrics and the kubelet's through nodes/proxy.

One server with its kubelet on runc (the module's ``node``); every scrape is parsed with
prometheus_client's parser, as Prometheus would read it, and the counters are compared
with what the test itself did.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from kubelite.testing.prom import Scrape
from kubelite.testing.server_process import ServerProcess, wait_for

pytestmark = pytest.mark.root

NODE = "e2e-node"
BUSY = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "busy"},
        "spec": {"terminationGracePeriodSeconds": 0, "containers": [{
            "name": "busy", "image": "busybox", "command": ["sh", "-c", "while :; do :; done"],
            "readinessProbe": {"exec": {"command": ["true"]}, "periodSeconds": 1}}]}}


def _raw(node: ServerProcess, path: str) -> str:
    r = node.kubectl("get", "--raw", path)
    assert r.returncode == 0, r.stderr
    return r.stdout


def _scrape(node: ServerProcess, path: str = "/metrics") -> Scrape:
    return Scrape(_raw(node, path))


def _pending_pod(name: str) -> str:
    # a scheduler nobody runs: the pod stays Pending and starts no container
    return json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                       "spec": {"schedulerName": "nobody",
                                "containers": [{"name": "c", "image": "busybox"}]}})


def test_creates_move_the_request_counter_by_exactly_their_number(node: ServerProcess) -> None:
    labels = {"verb": "POST", "resource": "pods", "subresource": "", "code": "201"}
    before = _scrape(node).value("apiserver_request_total", **labels)
    for i in range(3):
        r = node.kubectl("create", "-f", "-", input=_pending_pod(f"counted-{i}"))
        assert r.returncode == 0, r.stderr
    after = _scrape(node)
    assert after.value("apiserver_request_total", **labels) - before == 3
    assert after.value("apiserver_storage_objects", resource="pods") >= 3
    assert after.value("process_resident_memory_bytes") > 0
    assert after.value("workqueue_adds_total", name="replicaset") >= 0
    assert after.has("scheduler_pending_pods")
    r = node.kubectl("delete", "pod", "counted-0", "counted-1", "counted-2", "--wait=false")
    assert r.returncode == 0, r.stderr


def test_kubectl_get_raw_metrics_piped_to_grep(node: ServerProcess) -> None:
    env = {**os.environ, "KUBECONFIG": str(node.kubeconfig)}
    out = subprocess.run(["sh", "-c", "kubectl get --raw /metrics | grep apiserver_request_total"],
                         capture_output=True, text=True, env=env, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("# HELP apiserver_request_total")
    assert 'verb="LIST"' in out.stdout


def test_version_with_a_trailing_slash(node: ServerProcess) -> None:
    assert json.loads(_raw(node, "/version/")) == json.loads(_raw(node, "/version"))
    assert _raw(node, "/livez/ping") == "ok"


def _busy_cpu(node: ServerProcess) -> tuple[float, str] | None:
    m = _scrape(node, f"/api/v1/nodes/{NODE}/proxy/metrics/cadvisor")
    found = m.matching("container_cpu_usage_seconds_total", pod="busy", container="busy",
                       namespace="default", cpu="total")
    return (found[0].value, found[0].labels["id"]) if found else None


def _cgroup_cpu(cgroup: str) -> float:
    for root in ("/sys/fs/cgroup/cpuacct", "/sys/fs/cgroup/cpu,cpuacct"):
        path = Path(root + cgroup) / "cpuacct.usage"
        if path.exists():
            return int(path.read_text()) / 1e9
    stat = (Path("/sys/fs/cgroup" + cgroup) / "cpu.stat").read_text()
    usec = next(line.split()[1] for line in stat.splitlines() if line.startswith("usage_usec"))
    return int(usec) / 1e6


def test_a_busy_pods_cpu_rises_by_its_cpu_time(node: ServerProcess) -> None:
    r = node.kubectl("create", "-f", "-", input=json.dumps(BUSY))
    assert r.returncode == 0, r.stderr
    try:
        r = node.kubectl("wait", "--for=condition=Ready", "pod/busy", "--timeout=60s",
                         timeout=70)
        assert r.returncode == 0, r.stderr
        assert wait_for(lambda: _busy_cpu(node) is not None, timeout=20)
        first = _busy_cpu(node)
        assert first is not None
        start, cgroup = first
        t0 = time.monotonic()
        # the loop spins on one cpu: poll until a second of its cpu time shows
        assert wait_for(lambda: (_busy_cpu(node) or (0.0, ""))[0] >= start + 1.0, timeout=30,
                        interval=0.2)
        elapsed = time.monotonic() - t0
        now = _busy_cpu(node)
        assert now is not None
        risen = now[0] - start
        # roughly its cpu time: never more than the wall time on its one thread (+ slack),
        # and the same reading as the cgroup's own, taken just after
        assert 1.0 <= risen <= elapsed + 1.0
        own = _cgroup_cpu(cgroup)
        assert now[0] <= own <= now[0] + 2.0
        m = _scrape(node, f"/api/v1/nodes/{NODE}/proxy/metrics/cadvisor")
        assert m.value("container_memory_working_set_bytes", pod="busy", container="busy") > 0
        assert m.matching("container_network_receive_bytes_total", pod="busy",
                          namespace="default", container="", interface="eth0")
        assert m.value("container_cpu_usage_seconds_total", id="/") > 0
        kubelet = _scrape(node, f"/api/v1/nodes/{NODE}/proxy/metrics")
        assert kubelet.value("kubelet_running_pods") >= 1
        assert kubelet.value("kubelet_running_containers", container_state="running") >= 1
        assert kubelet.value("kubelet_pod_start_duration_seconds_count") >= 1
        probes = _scrape(node, f"/api/v1/nodes/{NODE}/proxy/metrics/probes")
        assert probes.value("prober_probe_total", probe_type="Readiness",
                            result="successful", pod="busy", container="busy") >= 1
    finally:
        node.kubectl("delete", "pod", "busy", "--grace-period=0", "--force", "--wait=false")
