"""The real kubectl against a real kubelite server: the commands users run first."""

from __future__ import annotations

import json
import subprocess
import time

import pytest
import yaml

from kubelite.testing.server_process import ServerProcess

pytestmark = pytest.mark.e2e

HELLO = "gcr.io/google-samples/hello-app:2.0"


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_version_reports_1_32(server: ServerProcess) -> None:
    out = ok(server.kubectl("version", "-o", "json"))
    info = json.loads(out)
    assert info["serverVersion"]["major"] == "1"
    assert info["serverVersion"]["minor"] == "32"


def test_api_resources_and_versions(server: ServerProcess) -> None:
    out = ok(server.kubectl("api-resources"))
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert "pods" in lines and "po" in lines["pods"].split()
    assert "deployments" in lines and "apps/v1" in lines["deployments"]
    assert "leases" in lines and "coordination.k8s.io/v1" in lines["leases"]
    versions = ok(server.kubectl("api-versions")).split()
    for gv in ("v1", "apps/v1", "coordination.k8s.io/v1", "events.k8s.io/v1"):
        assert gv in versions


def test_cluster_info_and_healthz(server: ServerProcess) -> None:
    out = ok(server.kubectl("cluster-info"))
    assert "Kubernetes control plane is running at" in out
    assert server.url in out
    assert ok(server.kubectl("get", "--raw", "/healthz")).strip() == "ok"


def test_system_namespaces_exist(server: ServerProcess) -> None:
    out = ok(server.kubectl("get", "namespaces", "-o", "name"))
    for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
        assert f"namespace/{ns}" in out.split()


def test_run_dry_run_create_get_delete(server: ServerProcess, tmp_path: object) -> None:
    manifest = ok(server.kubectl(
        "run", "hello-world", f"--image={HELLO}", "--dry-run=client", "-o", "yaml",
        "--port=8080"))
    pod = yaml.safe_load(manifest)
    assert pod["kind"] == "Pod"
    assert pod["spec"]["containers"][0]["ports"] == [{"containerPort": 8080}]

    created = ok(server.kubectl("create", "-f", "-", input=manifest))
    assert created.strip() == "pod/hello-world created"

    table = ok(server.kubectl("get", "pods"))
    header, row = table.splitlines()[:2]
    assert header.split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert row.split()[:4] == ["hello-world", "0/1", "Pending", "0"]

    wide = ok(server.kubectl("get", "pods", "-o", "wide")).splitlines()[0].split()
    assert wide[5:] == ["IP", "NODE", "NOMINATED", "NODE", "READINESS", "GATES"]

    as_yaml = yaml.safe_load(ok(server.kubectl("get", "pod", "hello-world", "-o", "yaml")))
    meta = as_yaml["metadata"]
    assert meta["labels"] == {"run": "hello-world"}
    assert meta["uid"] and meta["resourceVersion"] and meta["creationTimestamp"]
    assert as_yaml["status"]["phase"] == "Pending"

    all_ns = ok(server.kubectl("get", "pods", "-A")).splitlines()
    assert all_ns[0].split()[0] == "NAMESPACE"
    assert any(line.split()[:2] == ["default", "hello-world"] for line in all_ns[1:])

    labels = ok(server.kubectl("get", "pods", "--show-labels")).splitlines()
    assert labels[0].split()[-1] == "LABELS"
    assert labels[1].split()[-1] == "run=hello-world"

    deleted = ok(server.kubectl("delete", "pod", "hello-world"))
    assert deleted.strip() == 'pod "hello-world" deleted'
    missing = server.kubectl("get", "pod", "hello-world")
    assert missing.returncode == 1
    assert 'Error from server (NotFound): pods "hello-world" not found' in missing.stderr


def test_delete_dash_f(server: ServerProcess, tmp_path: object) -> None:
    manifest = ok(server.kubectl("run", "to-delete", "--image=nginx", "--dry-run=client",
                                 "-o", "yaml"))
    ok(server.kubectl("create", "-f", "-", input=manifest))
    out = ok(server.kubectl("delete", "-f", "-", input=manifest))
    assert out.strip() == 'pod "to-delete" deleted'


def test_get_pods_watch_shows_later_changes(server: ServerProcess) -> None:
    watcher = server.kubectl_popen("get", "pods", "--watch", "--output-watch-events")
    try:
        time.sleep(1.5)
        manifest = ok(server.kubectl("run", "watched", "--image=nginx", "--dry-run=client",
                                     "-o", "yaml"))
        ok(server.kubectl("create", "-f", "-", input=manifest))
        ok(server.kubectl("label", "pod", "watched", "tier=web"))
        ok(server.kubectl("delete", "pod", "watched"))
        time.sleep(1.5)
    finally:
        watcher.terminate()
        out, err = watcher.communicate(timeout=10)
    events = [line.split()[:2] for line in out.splitlines()[1:]]
    assert ["ADDED", "watched"] in events, out + err
    assert ["MODIFIED", "watched"] in events, out + err
    assert ["DELETED", "watched"] in events, out + err
    assert events.index(["ADDED", "watched"]) < events.index(["DELETED", "watched"])


def test_get_events_watch_shows_new_events(server: ServerProcess) -> None:
    watcher = server.kubectl_popen("get", "events", "--watch")
    try:
        time.sleep(1.5)
        event = {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "hello.17f0", "namespace": "default"},
            "involvedObject": {"kind": "Pod", "name": "hello", "namespace": "default"},
            "reason": "Scheduled", "message": "Successfully assigned default/hello to node-1",
            "type": "Normal", "source": {"component": "default-scheduler"},
            "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:00:00Z",
            "count": 1,
        }
        ok(server.kubectl("create", "-f", "-", input=json.dumps(event)))
        time.sleep(1.5)
    finally:
        watcher.terminate()
        out, err = watcher.communicate(timeout=10)
    assert "Successfully assigned default/hello to node-1" in out, out + err
    assert "pod/hello" in out


def test_auth_whoami_and_can_i(server: ServerProcess) -> None:
    who = ok(server.kubectl("auth", "whoami"))
    assert "admin" in who and "system:masters" in who
    # no authorization layer yet: an authenticated user may do everything
    assert ok(server.kubectl("auth", "can-i", "create", "pods")).strip() == "yes"
    assert ok(server.kubectl("auth", "can-i", "delete", "deployments", "-n",
                             "kube-system")).strip() == "yes"
