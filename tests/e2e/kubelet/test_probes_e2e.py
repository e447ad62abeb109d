"""Probes on real runc, driven and read with the real kubectl.

Every pod is created when the module starts so that their probes run side by side; each
test then reads what a user sees: `kubectl get pods` READY and RESTARTS, `kubectl wait
--for=condition=Ready`, and the Unhealthy/Killing lines of `kubectl describe pod`.
Its own pod range and bridge (see ServerProcess).
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubelite.api.meta_time import parse_time
from kubelite.testing.registry import TestRegistry
from kubelite.testing.server_process import ServerProcess, wait_for

pytestmark = pytest.mark.root

SEED = Path(__file__).parents[2] / "data" / "seed" / "deployment-hello-world.yaml"


def study_notes_pod(name: str, port: int | None = None) -> dict[str, Any]:
    """The study notes' Deployment pod template, run as a pod exactly as written (or
    with every probe moved to ``port``)."""
    template = yaml.safe_load(SEED.read_text())["spec"]["template"]
    spec = copy.deepcopy(template["spec"])
    if port is not None:
        for c in spec["containers"]:
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                handler = c[probe].get("tcpSocket") or c[probe].get("httpGet")
                handler["port"] = port
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": template["metadata"]["labels"]},
            "spec": spec}


def busybox(name: str, script: str, **container: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"terminationGracePeriodSeconds": 1, "containers": [{
                "name": name, "image": "busybox", "command": ["sh", "-c", script],
                **container}]}}


PODS = [
    study_notes_pod("hello-8081"),
    study_notes_pod("hello-8080", 8080),
    busybox("liveness-exec", "touch /tmp/healthy; sleep 10; rm -f /tmp/healthy; sleep 600",
            livenessProbe={"exec": {"command": ["cat", "/tmp/healthy"]},
                           "initialDelaySeconds": 2, "periodSeconds": 2,
                           "failureThreshold": 1}),
    busybox("readiness-file", "sleep 600",
            readinessProbe={"exec": {"command": ["cat", "/flag/ready"]}, "periodSeconds": 1,
                            "failureThreshold": 1},
            volumeMounts=[{"name": "flag", "mountPath": "/flag"}]),
    busybox("hanging-exec", "sleep 600",
            livenessProbe={"exec": {"command": ["sleep", "30"]}, "timeoutSeconds": 1,
                           "periodSeconds": 2, "failureThreshold": 1}),
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "etcd-grpc"},
     "spec": {"containers": [{
         "name": "etcd", "image": "registry.k8s.io/etcd:3.4.23",
         "command": ["/usr/local/bin/etcd", "--data-dir", "/var/lib/etcd",
                     "--listen-client-urls", "http://0.0.0.0:2379",
                     "--advertise-client-urls", "http://127.0.0.1:2379"],
         "ports": [{"containerPort": 2379}],
         "livenessProbe": {"grpc": {"port": 2379}, "initialDelaySeconds": 2,
                           "periodSeconds": 2},
         "readinessProbe": {"grpc": {"port": 2379}, "periodSeconds": 1}}]}},
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "etcd-grpc-service"},
     "spec": {"containers": [{
         "name": "etcd", "image": "registry.k8s.io/etcd:3.4.23",
         "command": ["/usr/local/bin/etcd", "--data-dir", "/var/lib/etcd",
                     "--listen-client-urls", "http://0.0.0.0:2379",
                     "--advertise-client-urls", "http://127.0.0.1:2379"],
         "readinessProbe": {"grpc": {"port": 2379, "service": "no-such-service"},
                            "periodSeconds": 1}}]}},
]


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory,
         image_registry: TestRegistry) -> Iterator[ServerProcess]:
    for tool in ("kubectl", "runc", "conmon"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    data_dir: Path = tmp_path_factory.mktemp("kubelite-probes")
    proc = ServerProcess(data_dir, disable_agent=False, extra_args=[
        "--node-name", "probe-node",
        "--registries", str(image_registry.registries_yaml), "--kubelet-port", "0"]).start(
            timeout=60)
    try:
        assert wait_for(lambda: " Ready " in proc.kubectl("get", "nodes").stdout, 30)
        flag = data_dir / "flag"
        flag.mkdir()
        pods = copy.deepcopy(PODS)
        for p in pods:
            if p["metadata"]["name"] == "readiness-file":
                p["spec"]["volumes"] = [{"name": "flag", "hostPath": {"path": str(flag)}}]
        docs = "\n---\n".join(yaml.safe_dump(p) for p in pods)
        r = proc.kubectl("apply", "-f", "-", input=docs)
        assert r.returncode == 0, r.stderr
        yield proc
    finally:
        proc.close()  # stop, kill its containers, check nothing is left


def pod(node: ServerProcess, name: str) -> dict[str, Any]:
    r = node.kubectl("get", "pod", name, "-o", "json")
    assert r.returncode == 0, r.stderr
    doc: dict[str, Any] = json.loads(r.stdout)
    return doc


def restarts(node: ServerProcess, name: str) -> int:
    r = node.kubectl("get", "pod", name, "-o",
                     "jsonpath={.status.containerStatuses[0].restartCount}")
    return int(r.stdout or 0)


def get_row(node: ServerProcess, name: str) -> list[str]:
    out = node.kubectl("get", "pod", name, "--no-headers").stdout.split()
    return out


def describe(node: ServerProcess, name: str) -> str:
    r = node.kubectl("describe", "pod", name)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_study_notes_probes_on_8081_never_ready_and_restarted(node: ServerProcess) -> None:
    assert wait_for(lambda: restarts(node, "hello-8081") >= 1, 60), describe(node, "hello-8081")
    p = pod(node, "hello-8081")
    ip = p["status"]["podIP"]
    cs = p["status"]["containerStatuses"][0]
    assert cs["ready"] is False and cs["started"] is False
    _name, ready, status, restart_col = get_row(node, "hello-8081")[:4]
    assert (ready, status) == ("0/1", "Running") and int(restart_col) >= 1
    text = describe(node, "hello-8081")
    assert re.search(r"Warning\s+Unhealthy\s+.*kubelet\s+Startup probe failed: dial tcp "
                     + re.escape(ip) + r":8081: connect: connection refused", text), text
    assert re.search(r"Normal\s+Killing\s+.*Container hello-world failed startup probe, "
                     r"will be restarted", text), text
    assert "Liveness probe" not in text and "Readiness probe" not in text
    assert re.search(r"Ready\s+False", text)


def test_study_notes_probes_on_8080_become_ready(node: ServerProcess) -> None:
    r = node.kubectl("wait", "--for=condition=Ready", "pod/hello-8080", "--timeout=60s")
    assert r.returncode == 0, describe(node, "hello-8080")
    assert get_row(node, "hello-8080")[1:3] == ["1/1", "Running"]
    cs = pod(node, "hello-8080")["status"]["containerStatuses"][0]
    assert cs["started"] is True and cs["restartCount"] == 0
    assert "Unhealthy" not in describe(node, "hello-8080")


def test_liveness_exec_restarts_after_file_is_deleted(node: ServerProcess) -> None:
    assert wait_for(lambda: restarts(node, "liveness-exec") >= 1, 60)
    text = describe(node, "liveness-exec")
    assert re.search(r"Warning\s+Unhealthy\s+.*Liveness probe failed: cat: can't open "
                     r"'/tmp/healthy': No such file or directory", text), text
    assert "Container liveness-exec failed liveness probe, will be restarted" in text
    last = pod(node, "liveness-exec")["status"]["containerStatuses"][0]["lastState"]
    assert last["terminated"]["exitCode"] == 137  # killed (SIGKILL after grace)


def test_readiness_follows_a_file_within_a_period(node: ServerProcess) -> None:
    r = node.kubectl("wait", "--for=condition=Ready=false", "pod/readiness-file",
                     "--timeout=60s")
    assert r.returncode == 0, r.stderr
    assert wait_for(lambda: get_row(node, "readiness-file")[1:3] == ["0/1", "Running"], 60)
    for touch, want in ((True, "True"), (False, "False"), (True, "True")):
        flag = node.data_dir / "flag" / "ready"  # the container's /flag/ready (hostPath)
        if touch:
            flag.touch()
        else:
            flag.unlink()
        t = time.monotonic()
        r = node.kubectl("wait", f"--for=condition=Ready={want.lower()}",
                         "pod/readiness-file", "--timeout=10s")
        assert r.returncode == 0, describe(node, "readiness-file")
        assert time.monotonic() - t < 3  # one period (1 s) plus a status write
    assert get_row(node, "readiness-file")[1] == "1/1"
    assert restarts(node, "readiness-file") == 0
    assert re.search(r"Readiness probe failed: cat: can't open '/flag/ready'",
                     describe(node, "readiness-file"))


def test_hanging_exec_probe_times_out(node: ServerProcess) -> None:
    assert wait_for(lambda: restarts(node, "hanging-exec") >= 1, 40)
    term = pod(node, "hanging-exec")["status"]["containerStatuses"][0]["lastState"][
        "terminated"]
    lived = (parse_time(term["finishedAt"]) - parse_time(term["startedAt"])).total_seconds()
    assert lived < 10  # the probe command sleeps 30 s; timeoutSeconds 1 cut it short
    text = describe(node, "hanging-exec")
    assert 'Liveness probe failed: command "sleep 30" timed out' in text, text


def test_grpc_probe_against_etcd_health_server(node: ServerProcess) -> None:
    r = node.kubectl("wait", "--for=condition=Ready", "pod/etcd-grpc", "--timeout=60s")
    assert r.returncode == 0, describe(node, "etcd-grpc")
    assert restarts(node, "etcd-grpc") == 0
    # readiness may fail while etcd starts listening; liveness (2 s delay) never fails
    assert "Liveness probe failed" not in describe(node, "etcd-grpc")
    assert wait_for(lambda: "unknown service" in describe(node, "etcd-grpc-service"), 30)
    text = describe(node, "etcd-grpc-service")
    assert re.search(r"Readiness probe failed: error: health rpc probe failed: rpc error: "
                     r"code = NotFound desc = unknown service", text), text
    assert get_row(node, "etcd-grpc-service")[1] == "0/1"
