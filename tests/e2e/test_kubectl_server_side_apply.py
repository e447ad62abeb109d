"""The real kubectl's server-side apply against kubelite: create, no-op, conflicts, force,
managedFields, and the Update entries other writes leave."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
import yaml

from kubelite.testing.server_process import ServerProcess

pytestmark = pytest.mark.e2e

DATA = Path(__file__).resolve().parents[1] / "data"
DEPLOYMENT = DATA / "deployment-hello-world.yaml"
HINT = "Please review the fields above--they currently have other managers."


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def manifest(**changes: object) -> dict[str, object]:
    doc: dict[str, object] = yaml.safe_load(DEPLOYMENT.read_text())
    spec = doc["spec"]
    assert isinstance(spec, dict)
    spec.update(changes)
    return doc


def write(tmp_path: Path, name: str, doc: object) -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def get(server: ServerProcess, *what: str, managed: bool = True) -> dict[str, object]:
    args = ["get", *what, "-o", "yaml"]
    if managed:
        args.append("--show-managed-fields")
    doc: dict[str, object] = yaml.safe_load(ok(server.kubectl(*args)))
    return doc


def entries(obj: dict[str, object]) -> list[dict[str, object]]:
    meta = obj["metadata"]
    assert isinstance(meta, dict)
    found: list[dict[str, object]] = meta.get("managedFields") or []
    return found


def settled(server: ServerProcess, *what: str) -> dict[str, object]:
    """The object once the controllers have stopped writing to it (same resourceVersion
    twice, half a second apart)."""
    last = get(server, *what)
    for _ in range(40):
        time.sleep(0.5)
        now = get(server, *what)
        if now["metadata"]["resourceVersion"] == last["metadata"]["resourceVersion"]:
            return now
        last = now
    raise AssertionError(f"{what} keeps changing")


def test_apply_creates_then_is_a_no_op(server: ServerProcess) -> None:
    out = ok(server.kubectl("apply", "--server-side", "-f", str(DEPLOYMENT)))
    assert out.strip() == "deployment.apps/hello-world serverside-applied"

    first = settled(server, "deployment", "hello-world")
    # as on a real cluster, the deployment controller's status writes are recorded too
    by_manager = {e["manager"]: e for e in entries(first)}
    assert set(by_manager) == {"kubectl", "kube-controller-manager"}
    assert by_manager["kube-controller-manager"]["operation"] == "Update"
    assert by_manager["kube-controller-manager"]["subresource"] == "status"
    entry = by_manager["kubectl"]
    assert entry["manager"] == "kubectl"
    assert entry["operation"] == "Apply"
    assert entry["apiVersion"] == "apps/v1"
    assert entry["fieldsType"] == "FieldsV1"
    fields = entry["fieldsV1"]
    assert isinstance(fields, dict)
    spec = fields["f:spec"]
    assert spec["f:replicas"] == {} and spec["f:selector"] == {}
    container = spec["f:template"]["f:spec"]["f:containers"]['k:{"name":"hello-world"}']
    assert container["."] == {} and container["f:image"] == {}
    assert 'k:{"containerPort":8080,"protocol":"TCP"}' in container["f:ports"]

    again = ok(server.kubectl("apply", "--server-side", "-f", str(DEPLOYMENT)))
    assert again.strip() == "deployment.apps/hello-world serverside-applied"
    second = get(server, "deployment", "hello-world")
    assert second["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]

    hidden = get(server, "deployment", "hello-world", managed=False)
    assert "managedFields" not in hidden["metadata"]


def test_other_manager_conflicts_until_forced(server: ServerProcess, tmp_path: Path) -> None:
    ok(server.kubectl("apply", "--server-side", "-f", str(DEPLOYMENT)))
    scaled = write(tmp_path, "scaled.yaml", manifest(replicas=3))

    refused = server.kubectl("apply", "--server-side", "--field-manager=other", "-f", scaled)
    assert refused.returncode != 0
    assert ('error: Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas'
            in refused.stderr)
    assert HINT in refused.stderr
    assert "--force-conflicts" in refused.stderr
    assert get(server, "deployment", "hello-world")["spec"]["replicas"] == 1

    forced = ok(server.kubectl("apply", "--server-side", "--field-manager=other",
                               "--force-conflicts", "-f", scaled))
    assert forced.strip() == "deployment.apps/hello-world serverside-applied"
    obj = get(server, "deployment", "hello-world")
    assert obj["spec"]["replicas"] == 3
    by_manager = {e["manager"]: e for e in entries(obj)}
    assert by_manager["other"]["operation"] == "Apply"
    assert "f:replicas" in by_manager["other"]["fieldsV1"]["f:spec"]
    assert "f:replicas" not in by_manager["kubectl"]["fieldsV1"]["f:spec"]


def test_dropped_fields_are_removed(server: ServerProcess, tmp_path: Path) -> None:
    doc = yaml.safe_load(DEPLOYMENT.read_text())
    doc["metadata"]["name"] = "pruned"
    doc["metadata"]["labels"] = {"tier": "web", "team": "a"}
    ok(server.kubectl("apply", "--server-side", "-f", write(tmp_path, "a.yaml", doc)))
    del doc["metadata"]["labels"]["team"]
    del doc["spec"]["template"]["spec"]["containers"][0]["startupProbe"]
    ok(server.kubectl("apply", "--server-side", "-f", write(tmp_path, "b.yaml", doc)))
    obj = get(server, "deployment", "pruned", managed=False)
    assert obj["metadata"]["labels"] == {"tier": "web"}
    assert "startupProbe" not in obj["spec"]["template"]["spec"]["containers"][0]


def test_updates_are_recorded_and_conflict_with_appliers(server: ServerProcess,
                                                         tmp_path: Path) -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "owned", "labels": {"a": "1"}},
           "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
    ok(server.kubectl("create", "-f", write(tmp_path, "pod.yaml", pod)))
    # the scheduler also records its status write (PodScheduled False: no nodes)
    (created,) = [e for e in entries(get(server, "pod", "owned")) if "subresource" not in e]
    assert created["manager"] == "kubectl-create"
    assert created["operation"] == "Update"
    assert created["fieldsV1"]["f:metadata"]["f:labels"] == {".": {}, "f:a": {}}

    ok(server.kubectl("label", "pod", "owned", "a=2", "--overwrite"))
    by_manager = {e["manager"]: e for e in entries(get(server, "pod", "owned"))}
    assert "f:a" in by_manager["kubectl-label"]["fieldsV1"]["f:metadata"]["f:labels"]

    pod["metadata"]["labels"] = {"a": "3"}
    refused = server.kubectl("apply", "--server-side", "-f", write(tmp_path, "pod2.yaml", pod))
    assert refused.returncode != 0
    assert ('Apply failed with 1 conflict: conflict with "kubectl-label" using v1: '
            ".metadata.labels.a") in refused.stderr

    out = ok(server.kubectl("apply", "--server-side", "--force-conflicts", "-f",
                            write(tmp_path, "pod3.yaml", pod)))
    assert out.strip() == "pod/owned serverside-applied"
    obj = get(server, "pod", "owned")
    assert obj["metadata"]["labels"] == {"a": "3"}
    managers = {(e["manager"], e["operation"]) for e in entries(obj)}
    assert ("kubectl", "Apply") in managers
