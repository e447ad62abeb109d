"""kubectl's typed clients send protobuf bodies: the commands that do, against a real server."""

from __future__ import annotations

import base64
import json
import subprocess
from typing import Any

import pytest

from kubelite.testing.server_process import ServerProcess

pytestmark = pytest.mark.e2e


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def get(server: ServerProcess, *args: str) -> Any:
    return json.loads(ok(server.kubectl("get", *args, "-o", "json")))


def sends_protobuf(server: ServerProcess, *args: str) -> str:
    """Run a kubectl command at -v 8 and check its request body went as protobuf."""
    result = server.kubectl(*args, "-v", "8")
    ok(result)
    assert "Content-Type: application/vnd.kubernetes.protobuf" in result.stderr
    return result.stdout


def test_create_namespace(server: ServerProcess) -> None:
    out = sends_protobuf(server, "create", "namespace", "proto-ns")
    assert "namespace/proto-ns created" in out
    ns = get(server, "namespace", "proto-ns")
    assert ns["metadata"]["name"] == "proto-ns"
    assert ns["status"]["phase"] == "Active"


def test_create_configmap(server: ServerProcess) -> None:
    sends_protobuf(server, "create", "configmap", "cfg", "--from-literal=a=b")
    cm = get(server, "configmap", "cfg")
    assert cm["data"] == {"a": "b"}
    assert cm["metadata"]["uid"] and cm["metadata"]["resourceVersion"]


def test_create_secret_keeps_base64_data(server: ServerProcess) -> None:
    sends_protobuf(server, "create", "secret", "generic", "s", "--from-literal=p=q")
    secret = get(server, "secret", "s")
    assert secret["data"] == {"p": base64.b64encode(b"q").decode()}
    assert secret["type"] == "Opaque"  # kubectl left it empty: the server's default


def test_create_deployment(server: ServerProcess) -> None:
    sends_protobuf(server, "create", "deployment", "web", "--image=nginx", "--replicas=2")
    deploy = get(server, "deploy", "web")
    assert deploy["spec"]["replicas"] == 2
    assert deploy["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    template = deploy["spec"]["template"]
    assert template["metadata"]["labels"] == {"app": "web"}
    assert [(c["name"], c["image"]) for c in template["spec"]["containers"]] == [
        ("nginx", "nginx")]
    assert template["spec"]["restartPolicy"] == "Always"  # defaulted after decoding


def test_create_serviceaccount_and_service(server: ServerProcess) -> None:
    sends_protobuf(server, "create", "serviceaccount", "sa1")
    assert get(server, "serviceaccount", "sa1")["metadata"]["name"] == "sa1"
    sends_protobuf(server, "create", "service", "clusterip", "svc1", "--tcp=80:8080")
    svc = get(server, "service", "svc1")
    assert svc["spec"]["ports"][0]["port"] == 80
    assert svc["spec"]["ports"][0]["targetPort"] == 8080


def test_invalid_protobuf_object_gets_kubernetes_validation(server: ServerProcess) -> None:
    result = server.kubectl("create", "configmap", "Bad_Name", "--from-literal=a=b")
    assert result.returncode != 0
    assert "Bad_Name" in result.stderr and "Invalid value" in result.stderr
