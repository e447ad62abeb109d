"""Bad input gets the Status Kubernetes returns, and kubectl prints it the same way."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
import pytest

from kubelite.testing.server_process import ServerProcess, client_ssl_context

pytestmark = pytest.mark.e2e

PODS = "/api/v1/namespaces/default/pods"


@pytest.fixture
async def http(server: ServerProcess) -> AsyncIterator[aiohttp.ClientSession]:
    ctx = client_ssl_context(server.kubeconfig)
    async with aiohttp.ClientSession(
        base_url=server.url, connector=aiohttp.TCPConnector(ssl=ctx)
    ) as session:
        yield session


def pod(name: str, **spec: object) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": spec or {"containers": [{"name": "c", "image": "busybox"}]}}


async def status_of(resp: aiohttp.ClientResponse) -> dict[str, object]:
    assert resp.headers["Content-Type"].startswith("application/json")
    body = await resp.json()
    assert body["kind"] == "Status" and body["status"] == "Failure"
    assert body["code"] == resp.status
    return body  # type: ignore[no-any-return]


async def test_malformed_json_is_400(http: aiohttp.ClientSession) -> None:
    async with http.post(PODS, data=b'{"apiVersion": "v1", "kind": ',
                         headers={"Content-Type": "application/json"}) as resp:
        assert resp.status == 400
        body = await status_of(resp)
        assert body["reason"] == "BadRequest"


async def test_malformed_yaml_is_400(http: aiohttp.ClientSession) -> None:
    async with http.post(PODS, data=b"kind: Pod\n  metadata: [\n",
                         headers={"Content-Type": "application/yaml"}) as resp:
        assert resp.status == 400
        assert (await status_of(resp))["reason"] == "BadRequest"


async def test_unknown_content_type_is_415(http: aiohttp.ClientSession) -> None:
    async with http.post(PODS, data=b"x", headers={"Content-Type": "text/csv"}) as resp:
        assert resp.status == 415
        assert (await status_of(resp))["reason"] == "UnsupportedMediaType"


async def test_body_too_large_is_413(http: aiohttp.ClientSession) -> None:
    big = pod("big")
    big["metadata"] = {"name": "big", "annotations": {"a": "x" * (4 * 1024 * 1024)}}
    async with http.post(PODS, data=json.dumps(big),
                         headers={"Content-Type": "application/json"}) as resp:
        assert resp.status == 413
    async with http.get(PODS + "/big") as resp:
        assert resp.status == 404


async def test_pod_without_containers_is_422_and_not_stored(
    http: aiohttp.ClientSession,
) -> None:
    async with http.post(PODS, json=pod("empty", containers=[])) as resp:
        assert resp.status == 422
        body = await status_of(resp)
        assert body["reason"] == "Invalid"
        fields = [c["field"] for c in body["details"]["causes"]]  # type: ignore[index]
        assert "spec.containers" in fields
    async with http.get(PODS + "/empty") as resp:
        assert resp.status == 404


async def test_bad_name_is_422(http: aiohttp.ClientSession) -> None:
    async with http.post(PODS, json=pod("Bad_Name")) as resp:
        assert resp.status == 422
        body = await status_of(resp)
        causes = body["details"]["causes"]  # type: ignore[index]
        assert any(c["field"] == "metadata.name" for c in causes)


async def test_unknown_field_strict_is_400(http: aiohttp.ClientSession) -> None:
    obj = pod("strict")
    obj["spec"]["bogus"] = 1  # type: ignore[index]
    async with http.post(PODS + "?fieldValidation=Strict", json=obj) as resp:
        assert resp.status == 400
        body = await status_of(resp)
        assert 'unknown field "spec.bogus"' in str(body["message"])
    async with http.get(PODS + "/strict") as resp:
        assert resp.status == 404


async def test_stale_resource_version_is_409(http: aiohttp.ClientSession) -> None:
    async with http.post(PODS, json=pod("stale")) as resp:
        assert resp.status == 201
        first = await resp.json()
    async with http.patch(PODS + "/stale", data=json.dumps({"metadata": {"labels": {"a": "b"}}}),
                          headers={"Content-Type": "application/merge-patch+json"}) as resp:
        assert resp.status == 200
    async with http.put(PODS + "/stale", json=first) as resp:
        assert resp.status == 409
        body = await status_of(resp)
        assert body["reason"] == "Conflict"
        assert "the object has been modified" in str(body["message"])


async def test_already_exists_is_409(http: aiohttp.ClientSession) -> None:
    async with http.post(PODS, json=pod("twice")) as resp:
        assert resp.status == 201
    async with http.post(PODS, json=pod("twice")) as resp:
        assert resp.status == 409
        body = await status_of(resp)
        assert body["reason"] == "AlreadyExists"
        assert body["message"] == 'pods "twice" already exists'


async def test_missing_or_wrong_credentials_are_401(server: ServerProcess) -> None:
    ctx = client_ssl_context(server.kubeconfig)
    bare = aiohttp.TCPConnector(ssl=ctx)
    async with aiohttp.ClientSession(base_url=server.url, connector=bare) as s:
        async with s.get(PODS, headers={"Authorization": "Bearer wrong"}) as resp:
            assert resp.status == 401
            assert (await status_of(resp))["reason"] == "Unauthorized"
    import ssl

    anon_ctx = ssl.create_default_context(cafile=None)
    anon_ctx.check_hostname = False
    anon_ctx.verify_mode = ssl.CERT_NONE
    async with aiohttp.ClientSession(base_url=server.url,
                                     connector=aiohttp.TCPConnector(ssl=anon_ctx)) as s:
        async with s.get(PODS) as resp:
            assert resp.status == 401
        async with s.get("/healthz") as resp:
            assert resp.status == 200
            assert await resp.text() == "ok"


def test_kubectl_prints_statuses_as_kubernetes(server: ServerProcess) -> None:
    r = server.kubectl("get", "pod", "nope")
    assert r.returncode == 1
    assert r.stderr.strip() == 'Error from server (NotFound): pods "nope" not found'

    r = server.kubectl("create", "-f", "-", input=json.dumps(pod("empty2", containers=[])))
    assert r.returncode == 1
    assert 'The Pod "empty2" is invalid: spec.containers: Required value' in r.stderr

    manifest = json.dumps(pod("dup"))
    assert server.kubectl("create", "-f", "-", input=manifest).returncode == 0
    r = server.kubectl("create", "-f", "-", input=manifest)
    assert r.returncode == 1
    assert 'Error from server (AlreadyExists)' in r.stderr
    assert 'pods "dup" already exists' in r.stderr

    bad = server.kubeconfig.read_text()
    token_cfg = server.data_dir / "bad-kubeconfig.yaml"
    import yaml

    cfg = yaml.safe_load(bad)
    cfg["users"][0]["user"] = {"token": "not-a-valid-token"}
    token_cfg.write_text(yaml.safe_dump(cfg))
    import subprocess

    r = subprocess.run(["kubectl", "--kubeconfig", str(token_cfg), "--cache-dir",
                        str(server.data_dir / "cache2"), "get", "pods"],
                       capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 1
    assert "You must be logged in to the server" in r.stderr


async def test_unparseable_quantity_is_400(http: aiohttp.ClientSession) -> None:
    bad = pod("bad-quantity", containers=[{"name": "c", "image": "busybox",
                                           "resources": {"limits": {"memory": "lots"}}}])
    async with http.post(PODS, json=bad) as resp:
        assert resp.status == 400
        body = await status_of(resp)
        assert "quantities must match the regular expression" in str(body["message"])
    async with http.get(PODS + "/bad-quantity") as resp:
        assert resp.status == 404
