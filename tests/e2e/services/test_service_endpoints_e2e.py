"""Endpoints from real pods on runc with the real kubectl: readiness moves a pod in and
out of its Service's EndpointSlice, pods see the service variables, and
``kubectl port-forward service/web`` reaches the pod's target port."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from kubelite.testing.node import running_node
from kubelite.testing.registry import TestRegistry, free_port
from kubelite.testing.server_process import ServerProcess, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.root]


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory,
         image_registry: TestRegistry) -> Iterator[ServerProcess]:
    with running_node(tmp_path_factory.mktemp("kubelite-svc"),
                      image_registry.registries_yaml, node_name="svc-node") as proc:
        yield proc


def ok(r: subprocess.CompletedProcess[str]) -> str:
    assert r.returncode == 0, f"exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r.stdout


def get_json(node: ServerProcess, *args: str) -> Any:
    return json.loads(ok(node.kubectl("get", *args, "-o", "json")))


SERVICE = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
           "spec": {"selector": {"app": "web"},
                    "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}
POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-0",
                                                       "labels": {"app": "web"}},
       "spec": {"terminationGracePeriodSeconds": 0, "containers": [{
           "name": "httpd", "image": "busybox",
           "ports": [{"name": "http", "containerPort": 8080}],
           "command": ["sh", "-c", "mkdir -p /www && echo served-by-web-0 > /www/index.html "
                                   "&& touch /tmp/ready && exec httpd -f -p 8080 -h /www"],
           "readinessProbe": {"exec": {"command": ["cat", "/tmp/ready"]},
                              "periodSeconds": 1, "failureThreshold": 1}}]}}


def slice_conditions(node: ServerProcess) -> list[tuple[str, bool]]:
    items = get_json(node, "endpointslices", "-l", "kubernetes.io/service-name=web")["items"]
    return [(e["addresses"][0], e["conditions"]["ready"])
            for es in items for e in es.get("endpoints") or []]


def test_readiness_moves_the_pod_out_of_the_slice_and_back(node: ServerProcess) -> None:
    ok(node.kubectl("apply", "-f", "-", input=json.dumps(SERVICE)))
    ok(node.kubectl("apply", "-f", "-", input=json.dumps(POD)))
    ok(node.kubectl("wait", "--for=condition=Ready", "pod/web-0", "--timeout=90s"))
    ip = get_json(node, "pod", "web-0")["status"]["podIP"]
    assert wait_for(lambda: slice_conditions(node) == [(ip, True)], 15), \
        slice_conditions(node)
    row = ok(node.kubectl("get", "ep", "web")).splitlines()[1].split()
    assert row[1] == f"{ip}:8080"

    # the service variables (the Service existed before the pod started)
    env = dict(line.split("=", 1) for line in ok(node.kubectl(
        "exec", "web-0", "--", "env")).splitlines() if "=" in line)
    web_ip = get_json(node, "service", "web")["spec"]["clusterIP"]
    kube_ip = get_json(node, "service", "kubernetes")["spec"]["clusterIP"]
    assert (env["WEB_SERVICE_HOST"], env["WEB_SERVICE_PORT"]) == (web_ip, "80")
    assert env["WEB_PORT_80_TCP"] == f"tcp://{web_ip}:80"
    assert (env["KUBERNETES_SERVICE_HOST"], env["KUBERNETES_SERVICE_PORT"]) == (kube_ip,
                                                                                 "443")

    # kubectl port-forward service/web resolves the pod and its target port itself
    local = free_port()
    fwd = node.kubectl_popen("port-forward", "service/web", f"{local}:80")
    try:
        def page() -> str:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{local}/", timeout=2) as r:
                    return r.read().decode()  # type: ignore[no-any-return]
            except OSError:
                return ""
        assert wait_for(lambda: page().strip() == "served-by-web-0", 15)
    finally:
        fwd.terminate()
        fwd.communicate(timeout=10)

    # readiness fails: still in the slice, not ready; Endpoints lists no ready address
    ok(node.kubectl("exec", "web-0", "--", "rm", "/tmp/ready"))
    assert wait_for(lambda: slice_conditions(node) == [(ip, False)], 10), \
        slice_conditions(node)
    ep = get_json(node, "endpoints", "web")
    assert [a["ip"] for a in ep["subsets"][0]["notReadyAddresses"]] == [ip]
    # kubectl's ENDPOINTS cell is blank when a subset has no ready address (as kube's)
    assert len(ok(node.kubectl("get", "ep", "web")).splitlines()[1].split()) == 2
    # and it comes back
    ok(node.kubectl("exec", "web-0", "--", "touch", "/tmp/ready"))
    assert wait_for(lambda: slice_conditions(node) == [(ip, True)], 10), \
        slice_conditions(node)

    ok(node.kubectl("delete", "service", "web"))
    assert wait_for(lambda: slice_conditions(node) == [] and node.kubectl(
        "get", "ep", "web").returncode == 1, 10)
