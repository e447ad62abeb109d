"""OpenAPI v3 documents: what kubectl needs from them (kubectl-wire.md 2.13, 3.9)."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web
from openapi_harness import PODS, REQUESTS, TOKEN, make_app

from kubelite.api import scheme
from kubelite.apiserver.openapi import openapi


def doc(path: str) -> dict[str, Any]:
    result: dict[str, Any] = orjson.loads(openapi.document(path))
    return result


def test_root_lists_every_served_group_version_with_its_hash() -> None:
    root = orjson.loads(openapi.root())
    expected = {openapi.gv_path(r.group, r.version) for r in scheme.RESOURCES}
    assert set(root["paths"]) == expected
    for key, entry in root["paths"].items():
        assert not key.startswith("/")
        url = entry["serverRelativeURL"]
        assert url == f"/openapi/v3/{key}?hash={openapi.document_hash(key)}"
        digest = url.rsplit("=", 1)[1]
        assert len(digest) == 128 and digest == digest.upper()


def test_document_bytes_and_hash_are_stable_across_builds() -> None:
    first = orjson.dumps(openapi.build_document("apps", "v1"), option=orjson.OPT_SORT_KEYS)
    second = orjson.dumps(openapi.build_document("apps", "v1"), option=orjson.OPT_SORT_KEYS)
    assert first == second == openapi.document("apis/apps/v1")


@pytest.mark.parametrize(("gv", "prefix", "kind"), [
    ("api/v1", "/api/v1/namespaces/{namespace}/pods", "Pod"),
    ("apis/apps/v1", "/apis/apps/v1/namespaces/{namespace}/deployments", "Deployment"),
    ("api/v1", "/api/v1/nodes", "Node"),
])
def test_paths_carry_gvk_and_patch_accepts_every_patch_type(
        gv: str, prefix: str, kind: str) -> None:
    d = doc(gv)
    group = gv.split("/")[1] if gv.startswith("apis/") else ""
    want = {"group": group, "version": "v1", "kind": kind}
    item = d["paths"][prefix + "/{name}"]
    for method in ("get", "put", "patch", "delete"):
        assert item[method]["x-kubernetes-group-version-kind"] == want
    assert d["paths"][prefix]["get"]["x-kubernetes-action"] == "list"
    patch = item["patch"]
    assert patch["x-kubernetes-action"] == "patch"
    assert set(patch["requestBody"]["content"]) == set(openapi.PATCH_CONTENT_TYPES)
    names = {p["name"] for p in patch["parameters"] if p["in"] == "query"}
    assert {"fieldValidation", "fieldManager", "dryRun", "force"} <= names
    for ref in patch["requestBody"]["content"].values():
        assert ref["schema"]["$ref"].removeprefix(openapi.REF_PREFIX) in \
            d["components"]["schemas"]


def test_every_served_kind_has_a_schema_tagged_with_its_gvk() -> None:
    for res in scheme.RESOURCES:
        schemas = doc(openapi.gv_path(res.group, res.version))["components"]["schemas"]
        want = {"group": res.group, "version": res.version, "kind": res.kind}
        assert any(want in s.get("x-kubernetes-group-version-kind", [])
                   for s in schemas.values()), res


def test_every_reference_in_a_document_resolves_inside_it() -> None:
    for key in orjson.loads(openapi.root())["paths"]:
        d = doc(key)
        text = openapi.document(key).decode()
        for part in text.split('"$ref":"')[1:]:
            name = part.split('"', 1)[0].removeprefix(openapi.REF_PREFIX)
            assert name in d["components"]["schemas"], (key, name)


def test_schemas_use_openapi3_forms() -> None:
    schemas = doc("api/v1")["components"]["schemas"]
    spec = schemas["io.k8s.api.core.v1.PodSpec"]["properties"]
    assert spec["restartPolicy"]["type"] == "string"
    assert spec["restartPolicy"]["enum"] == ["Always", "Never", "OnFailure"]
    assert spec["restartPolicy"]["description"].startswith("Restart policy for all containers")
    assert spec["containers"]["x-kubernetes-patch-merge-key"] == "name"
    assert spec["containers"]["x-kubernetes-patch-strategy"] == "merge"
    assert spec["volumes"]["x-kubernetes-patch-strategy"] == "merge,retainKeys"
    assert spec["securityContext"]["allOf"] == [
        {"$ref": "#/components/schemas/io.k8s.api.core.v1.PodSecurityContext"}]
    pod = schemas["io.k8s.api.core.v1.Pod"]
    assert "enum" not in pod["properties"]["kind"]
    container = schemas["io.k8s.api.core.v1.Container"]["properties"]
    assert container["imagePullPolicy"]["enum"] == ["Always", "IfNotPresent", "Never"]
    assert schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["format"] == \
        "int-or-string"
    text = openapi.document("api/v1").decode()
    assert '"null"' not in text and "$defs" not in text


def test_subresources_have_their_own_kinds() -> None:
    apps = doc("apis/apps/v1")
    scale = apps["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]
    assert scale["patch"]["x-kubernetes-group-version-kind"] == {
        "group": "autoscaling", "version": "v1", "kind": "Scale"}
    assert "io.k8s.api.autoscaling.v1.Scale" in apps["components"]["schemas"]
    core = doc("api/v1")
    evict = core["paths"]["/api/v1/namespaces/{namespace}/pods/{name}/eviction"]["post"]
    assert evict["x-kubernetes-group-version-kind"]["kind"] == "Eviction"
    assert "io.k8s.api.policy.v1.Eviction" in core["components"]["schemas"]
    exec_ = core["paths"]["/api/v1/namespaces/{namespace}/pods/{name}/exec"]
    assert exec_["get"]["x-kubernetes-action"] == "connect"


def test_schema_for_resolves_references_for_patch_and_validation() -> None:
    deploy = openapi.schema_for("apps", "v1", "Deployment")
    assert deploy is not None
    containers = (deploy["properties"]["spec"]["properties"]["template"]["properties"]
                  ["spec"]["properties"]["containers"])
    assert containers["x-kubernetes-patch-merge-key"] == "name"
    env = containers["items"]["properties"]["env"]
    assert env["x-kubernetes-patch-merge-key"] == "name"
    assert env["items"]["properties"]["value"]["type"] == "string"
    assert deploy["properties"]["spec"]["description"].startswith("Specification")
    assert openapi.schema_for("", "v1", "NoSuchKind") is None
    # recursive definitions do not loop forever
    crd = openapi.resolved_schema(
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps")
    assert "properties" in crd


# --------------------------------------------------------------------- real kubectl

KUBECTL = shutil.which("kubectl")


@pytest.fixture
async def server(tmp_path: Path) -> Any:
    runner = web.AppRunner(make_app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: t\n"
        f"clusters:\n- name: t\n  cluster:\n    server: http://127.0.0.1:{port}\n"
        f"users:\n- name: t\n  user:\n    token: {TOKEN}\n"
        "contexts:\n- name: t\n  context:\n    cluster: t\n    user: t\n")
    yield kubeconfig, tmp_path / "cache", runner.app[REQUESTS], runner.app[PODS]
    await runner.cleanup()


async def kubectl(kubeconfig: Path, cache: Path, *args: str) -> str:
    assert KUBECTL is not None
    proc = await asyncio.create_subprocess_exec(
        KUBECTL, "--kubeconfig", str(kubeconfig), "--cache-dir", str(cache), *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "HOME": str(cache.parent)})
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    return out.decode()


@pytest.mark.skipif(KUBECTL is None, reason="kubectl not installed")
async def test_kubectl_explain_restart_policy_shows_description_and_enum(server: Any) -> None:
    kubeconfig, cache, requests, _ = server
    out = await kubectl(kubeconfig, cache, "explain", "pods.spec.restartPolicy")
    assert "Restart policy for all containers within the pod" in out
    assert "ENUM:" in out
    for value in ("Always", "OnFailure", "Never"):
        assert f"    {value}\n" in out
    assert any(r.startswith("/openapi/v3/api/v1?hash=") for r in requests)


@pytest.mark.skipif(KUBECTL is None, reason="kubectl not installed")
async def test_kubectl_explain_deployment_spec_and_probe(server: Any) -> None:
    kubeconfig, cache, _, _ = server
    out = await kubectl(kubeconfig, cache, "explain", "deployment.spec")
    assert "GROUP:      apps" in out and "KIND:       Deployment" in out
    assert "template\t<PodTemplateSpec> -required-" in out
    assert "strategy\t<DeploymentStrategy>" in out
    out = await kubectl(kubeconfig, cache, "explain", "pods.spec.containers.livenessProbe")
    assert "FIELD: livenessProbe <Probe>" in out
    assert "httpGet\t<HTTPGetAction>" in out
    out = await kubectl(kubeconfig, cache, "explain", "deploy.spec.strategy.type")
    assert "Recreate" in out and "RollingUpdate" in out


POD_YAML = """apiVersion: v1
kind: Pod
metadata:
  name: hello-world
  labels: {app: hello}
spec:
  containers:
  - name: hello-world
    image: gcr.io/google-samples/hello-app:%s
    env: %s
  - name: sidecar
    image: busybox
"""


@pytest.mark.skipif(KUBECTL is None, reason="kubectl not installed")
async def test_kubectl_apply_computes_smp_from_our_schemas_and_we_apply_it(
        server: Any, tmp_path: Path) -> None:
    kubeconfig, cache, requests, pods = server
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(POD_YAML % ("2.0", "[{name: A, value: '1'}, {name: B, value: '2'}]"))
    out = await kubectl(kubeconfig, cache, "apply", "-f", str(manifest))
    assert "pod/hello-world created" in out
    # a field set by the server survives the three-way patch
    pods["hello-world"]["spec"]["containers"][0]["imagePullPolicy"] = "IfNotPresent"
    manifest.write_text(POD_YAML % ("1.0", "[{name: A, value: '1'}, {name: C, value: '3'}]"))
    out = await kubectl(kubeconfig, cache, "apply", "-f", str(manifest))
    assert "pod/hello-world configured" in out
    assert "PATCH application/strategic-merge-patch+json" in requests
    assert not any(r.startswith("/openapi/v2") for r in requests)
    first, second = pods["hello-world"]["spec"]["containers"]
    assert first["image"] == "gcr.io/google-samples/hello-app:1.0"
    assert first["env"] == [{"name": "A", "value": "1"}, {"name": "C", "value": "3"}]
    assert first["imagePullPolicy"] == "IfNotPresent"
    assert second == {"name": "sidecar", "image": "busybox"}
