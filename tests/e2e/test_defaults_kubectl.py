"""The real kubectl sees the defaults a Kubernetes 1.32 cluster fills in."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubelite.testing.server_process import ServerProcess, wait_for

pytestmark = pytest.mark.e2e

SEED = Path(__file__).resolve().parents[1] / "data" / "seed"
SEED_FILES = sorted(SEED.glob("*.yaml"))
JSON = dict[str, Any]
# (kubectl create namespace/service send protobuf bodies, so manifests here.)
NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n"
SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - name: http
    port: 80
  - name: dns
    port: 53
    protocol: UDP
"""


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _without_token_volume(spec: JSON) -> JSON:
    """The pod spec without what a kubelet/scheduler adds (nodeName, the token volume)."""
    spec = dict(spec)
    spec.pop("nodeName", None)
    token = [v["name"] for v in spec.get("volumes", []) if
             v["name"].startswith("kube-api-access-")]
    if token:
        spec["volumes"] = [v for v in spec["volumes"] if v["name"] not in token]
        if not spec["volumes"]:
            del spec["volumes"]
    for key in ("containers", "initContainers"):
        for ctr in spec.get(key, []):
            mounts = [m for m in ctr.get("volumeMounts", []) if m["name"] not in token]
            if mounts:
                ctr["volumeMounts"] = mounts
            else:
                ctr.pop("volumeMounts", None)
    return spec


def _settled(server: ServerProcess, kind: str, name: str) -> JSON:
    """The object once nothing writes to it any more (same resourceVersion twice)."""
    last: JSON = yaml.safe_load(ok(server.kubectl("get", kind, name, "-o", "yaml")))
    for _ in range(40):
        time.sleep(0.3)
        now: JSON = yaml.safe_load(ok(server.kubectl("get", kind, name, "-o", "yaml")))
        if now["metadata"]["resourceVersion"] == last["metadata"]["resourceVersion"]:
            return now
        last = now
    raise AssertionError(f"{kind}/{name} keeps changing")


@pytest.mark.parametrize("path", SEED_FILES, ids=[p.stem for p in SEED_FILES])
def test_apply_seed_manifest_shows_defaults(server: ServerProcess, path: Path) -> None:
    manifest = yaml.safe_load(path.read_text())
    expected = yaml.safe_load((SEED / "expected" / path.name).read_text())
    kind, name = manifest["kind"].lower(), manifest["metadata"]["name"]

    out = ok(server.kubectl("apply", "-f", str(path)))
    shown = "deployment.apps" if kind == "deployment" else kind
    assert out.strip() == f"{shown}/{name} created"

    live = yaml.safe_load(ok(server.kubectl("get", kind, name, "-o", "yaml")))
    if kind == "pod":
        assert _without_token_volume(live["spec"]) == expected["spec"]
        assert live["status"]["qosClass"] == expected["status"]["qosClass"]
    else:
        assert live["spec"] == expected["spec"]
        assert live["metadata"]["generation"] == 1

    # Re-applying sends nothing, except for `kubectl run -o yaml` output: its
    # `creationTimestamp: null` makes a patch that a cluster accepts and ignores.
    # (The controllers write a Deployment's status meanwhile: let them finish first.)
    live = _settled(server, kind, name)
    again = ok(server.kubectl("apply", "-f", str(path)))
    null_timestamp = "creationTimestamp" in manifest["metadata"]
    assert again.strip().endswith(" configured" if null_timestamp else " unchanged")
    after = yaml.safe_load(ok(server.kubectl("get", kind, name, "-o", "yaml")))
    assert after["metadata"]["resourceVersion"] == live["metadata"]["resourceVersion"]
    ok(server.kubectl("delete", kind, name, "--wait=false"))


def test_replace_with_the_manifest_keeps_generation(server: ServerProcess) -> None:
    path = SEED / "deployment-hello-world.yaml"
    ok(server.kubectl("create", "-f", str(path)))
    # kubectl replace reads the live resourceVersion first: a status write by the
    # deployment controller in between is a genuine 409, as on a real cluster; try again
    for _ in range(5):
        replaced = server.kubectl("replace", "-f", str(path))
        if "the object has been modified" not in replaced.stderr:
            break
        time.sleep(0.5)
    ok(replaced)
    live = json.loads(ok(server.kubectl("get", "deployment", "hello-world", "-o", "json")))
    assert live["metadata"]["generation"] == 1
    assert live["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": "25%",
                                                         "maxUnavailable": "25%"}
    ok(server.kubectl("delete", "deployment", "hello-world"))


def test_new_namespace_gets_default_service_account(server: ServerProcess) -> None:
    ok(server.kubectl("create", "-f", "-", input=NAMESPACE))
    table = ok(server.kubectl("get", "sa", "-n", "team-a")).splitlines()
    assert table[0].split() == ["NAME", "SECRETS", "AGE"]
    assert table[1].split()[:2] == ["default", "0"]

    ns = yaml.safe_load(ok(server.kubectl("get", "ns", "team-a", "-o", "yaml")))
    assert ns["metadata"]["labels"] == {"kubernetes.io/metadata.name": "team-a"}
    assert ns["spec"] == {"finalizers": ["kubernetes"]}
    assert ns["status"] == {"phase": "Active"}

    first = ok(server.kubectl("get", "sa", "default", "-n", "team-a", "-o",
                              "jsonpath={.metadata.uid}"))
    ok(server.kubectl("delete", "sa", "default", "-n", "team-a"))

    def recreated() -> bool:
        again = server.kubectl("get", "sa", "default", "-n", "team-a", "-o",
                               "jsonpath={.metadata.uid}")
        return again.returncode == 0 and again.stdout not in ("", first)

    assert wait_for(recreated, timeout=10)


def test_system_namespaces_have_default_service_accounts(server: ServerProcess) -> None:
    out = ok(server.kubectl("get", "sa", "-A", "-o", "name"))
    names = out.split()
    assert names.count("serviceaccount/default") >= 4


def test_pod_with_missing_service_account_is_forbidden(server: ServerProcess) -> None:
    result = server.kubectl("run", "lonely", "--image=nginx",
                            '--overrides={"spec":{"serviceAccountName":"nope"}}')
    assert result.returncode == 1
    assert ('Error from server (Forbidden): pods "lonely" is forbidden: error looking up '
            'service account default/nope: serviceaccount "nope" not found') in result.stderr
    assert server.kubectl("get", "pod", "lonely").returncode == 1


def test_service_defaults(server: ServerProcess) -> None:
    ok(server.kubectl("apply", "-f", "-", input=SERVICE))
    svc = yaml.safe_load(ok(server.kubectl("get", "svc", "web", "-o", "yaml")))
    spec = svc["spec"]
    spec.pop("clusterIP", None)
    spec.pop("clusterIPs", None)
    assert spec == {
        "internalTrafficPolicy": "Cluster", "ipFamilies": ["IPv4"],
        "ipFamilyPolicy": "SingleStack",
        "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 80},
                  {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53}],
        "selector": {"app": "web"}, "sessionAffinity": "None", "type": "ClusterIP",
    }
    assert svc["status"] == {"loadBalancer": {}}
    ok(server.kubectl("delete", "svc", "web"))
