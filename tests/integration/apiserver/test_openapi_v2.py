"""``/openapi/v2`` serves Swagger 2.0 JSON whose references all resolve."""

from __future__ import annotations

from typing import Any

from kubelite.testing.inprocess import in_process_api


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        out = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        for v in node.values():
            out += _refs(v)
        return out
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


async def test_swagger_document_is_complete_and_consistent() -> None:
    async with in_process_api() as api:
        async with api.http.get("/openapi/v2", headers={"Accept": "application/json"}) as r:
            assert r.status == 200
            doc = await r.json()
    assert doc["swagger"] == "2.0"
    assert "io.k8s.api.apps.v1.Deployment" in doc["definitions"]
    gvk = doc["definitions"]["io.k8s.api.core.v1.Pod"]["x-kubernetes-group-version-kind"]
    assert {"group": "", "kind": "Pod", "version": "v1"} in gvk
    patch = doc["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"]
    assert "application/strategic-merge-patch+json" in patch["consumes"]
    assert patch["parameters"][0]["in"] == "body"
    for ref in _refs(doc):
        assert ref.startswith("#/definitions/")
        assert ref.removeprefix("#/definitions/") in doc["definitions"], ref


async def test_protobuf_only_clients_get_406() -> None:
    async with in_process_api() as api:
        accept = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
        async with api.http.get("/openapi/v2", headers={"Accept": accept}) as r:
            assert r.status == 406
            assert (await r.json())["reason"] == "NotAcceptable"
