"""Client-side apply, label, annotate, patch types and graceful deletion with the real kubectl."""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml

from kubelite.testing.server_process import ServerProcess

pytestmark = pytest.mark.e2e


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


DEPLOYMENT = {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "web", "labels": {"app": "web"}},
    "spec": {
        "replicas": 1,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{
                "name": "web", "image": "gcr.io/google-samples/hello-app:2.0",
                "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
            }]},
        },
    },
}


def get(server: ServerProcess, *what: str) -> dict[str, object]:
    return json.loads(ok(server.kubectl("get", *what, "-o", "json")))  # type: ignore[no-any-return]


def test_apply_create_then_patch_then_unchanged(server: ServerProcess) -> None:
    manifest = json.dumps(DEPLOYMENT)
    assert ok(server.kubectl("apply", "-f", "-", input=manifest)).strip() == \
        "deployment.apps/web created"
    first = get(server, "deployment", "web")
    assert first["metadata"]["generation"] == 1  # type: ignore[index]
    applied = json.loads(
        first["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]  # type: ignore[index]
    )
    assert applied["spec"]["replicas"] == 1

    changed = json.loads(manifest)
    changed["metadata"]["labels"]["tier"] = "front"
    container = changed["spec"]["template"]["spec"]["containers"][0]
    container["image"] = "gcr.io/google-samples/hello-app:1.0"
    container["env"] = [{"name": "A", "value": "1"}, {"name": "C", "value": "3"}]
    assert ok(server.kubectl("apply", "-f", "-", input=json.dumps(changed))).strip() == \
        "deployment.apps/web configured"
    second = get(server, "deployment", "web")
    meta = second["metadata"]
    assert meta["labels"] == {"app": "web", "tier": "front"}  # type: ignore[index]
    assert meta["generation"] == 2  # type: ignore[index]
    c = second["spec"]["template"]["spec"]["containers"][0]  # type: ignore[index]
    assert c["image"] == "gcr.io/google-samples/hello-app:1.0"
    assert c["env"] == [{"name": "A", "value": "1"}, {"name": "C", "value": "3"}]

    again = ok(server.kubectl("apply", "-f", "-", input=json.dumps(changed)))
    assert again.strip() == "deployment.apps/web unchanged"
    assert get(server, "deployment", "web")["metadata"]["resourceVersion"] == \
        meta["resourceVersion"]  # type: ignore[index]


def test_label_annotate_and_patch_types(server: ServerProcess) -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "patched"},
           "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
    ok(server.kubectl("create", "-f", "-", input=json.dumps(pod)))
    assert ok(server.kubectl("label", "pod", "patched", "tier=db")).strip() == \
        "pod/patched labeled"
    assert ok(server.kubectl("annotate", "pod", "patched", "note=hi")).strip() == \
        "pod/patched annotated"
    ok(server.kubectl("patch", "pod", "patched", "--type", "merge", "-p",
                      '{"metadata":{"labels":{"extra":"1"}}}'))
    ok(server.kubectl("patch", "pod", "patched", "--type", "json", "-p",
                      '[{"op":"replace","path":"/spec/containers/0/image","value":"nginx"}]'))
    ok(server.kubectl("patch", "pod", "patched", "--type", "strategic", "-p",
                      '{"spec":{"containers":[{"name":"c","image":"ubuntu"}]}}'))
    got = get(server, "pod", "patched")
    meta = got["metadata"]
    assert meta["labels"] == {"tier": "db", "extra": "1"}  # type: ignore[index]
    assert meta["annotations"] == {"note": "hi"}  # type: ignore[index]
    assert got["spec"]["containers"][0]["image"] == "ubuntu"  # type: ignore[index]
    ok(server.kubectl("label", "pod", "patched", "tier-"))
    assert "tier" not in get(server, "pod", "patched")["metadata"]["labels"]  # type: ignore[index]

    bad = server.kubectl("patch", "pod", "patched", "--type", "json", "-p",
                         '[{"op":"test","path":"/metadata/name","value":"other"}]')
    assert bad.returncode == 1
    # kube-apiserver answers a failed "test" with a bare 422, which kubectl prints so
    assert "The request is invalid" in bad.stderr


def test_replace_is_a_put_with_conflict_detection(server: ServerProcess) -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "edited"},
          "data": {"a": "1"}}
    ok(server.kubectl("create", "-f", "-", input=json.dumps(cm)))
    live = get(server, "configmap", "edited")
    live["data"] = {"a": "2"}
    assert "replaced" in ok(server.kubectl("replace", "-f", "-", input=json.dumps(live)))
    stale = server.kubectl("replace", "-f", "-", input=json.dumps(live))
    assert stale.returncode == 1
    assert "the object has been modified" in stale.stderr


def test_delete_of_a_scheduled_pod_waits_for_the_kubelet(server: ServerProcess) -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "graceful"},
           "spec": {"nodeName": "node-x", "containers": [{"name": "c", "image": "busybox"}]}}
    ok(server.kubectl("create", "-f", "-", input=json.dumps(pod)))
    r = server.kubectl("delete", "pod", "graceful", "--wait=false")
    assert ok(r).strip() == 'pod "graceful" deleted'
    got = get(server, "pod", "graceful")
    assert got["metadata"]["deletionTimestamp"]  # type: ignore[index]
    assert got["metadata"]["deletionGracePeriodSeconds"] == 30  # type: ignore[index]
    table = ok(server.kubectl("get", "pod", "graceful"))
    assert table.splitlines()[1].split()[2] == "Terminating"
    # what the kubelet does once the containers are gone
    uid = got["metadata"]["uid"]  # type: ignore[index]
    body = json.dumps({"gracePeriodSeconds": 0, "preconditions": {"uid": uid}})
    raw = server.kubectl("delete", "--raw", "/api/v1/namespaces/default/pods/graceful",
                         "-f", "-", input=body)
    assert raw.returncode == 0, raw.stderr
    assert server.kubectl("get", "pod", "graceful").returncode == 1


def test_force_delete_removes_at_once(server: ServerProcess) -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "forced"},
           "spec": {"nodeName": "node-x", "containers": [{"name": "c", "image": "busybox"}]}}
    ok(server.kubectl("create", "-f", "-", input=json.dumps(pod)))
    r = server.kubectl("delete", "pod", "forced", "--force", "--grace-period=0")
    assert r.returncode == 0, r.stderr
    assert 'pod "forced" force deleted' in r.stdout
    assert server.kubectl("get", "pod", "forced").returncode == 1


def test_dry_run_server_stores_nothing(server: ServerProcess) -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dry"}}
    out = ok(server.kubectl("create", "-f", "-", "--dry-run=server", "-o", "yaml",
                            input=json.dumps(cm)))
    assert yaml.safe_load(out)["metadata"]["name"] == "dry"
    assert server.kubectl("get", "configmap", "dry").returncode == 1
