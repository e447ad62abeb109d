"""The Endpoints and EndpointSlice controllers on the in-process API: addresses follow
the selected pods' IPs and readiness, and go with their Service."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kubelite.client.resources import PODS, SERVICES
from kubelite.client.rest import ApiClient
from kubelite.controllers.manager import ControllerManager
from kubelite.controllers.resources import ENDPOINTS, ENDPOINTSLICES
from kubelite.testing.inprocess import InProcessAPI
from kubelite.testing.waiting import eventually

JSON = dict[str, Any]
NS = "default"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"


async def _pod(client: ApiClient, name: str, ip: str, ready: bool) -> None:
    await client.create(PODS, {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "web"}},
        "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "busybox",
                                                   "ports": [{"name": "http",
                                                              "containerPort": 8080}]}]}},
        NS)
    await _set_ready(client, name, ip, ready)


async def _set_ready(client: ApiClient, name: str, ip: str, ready: bool) -> None:
    pod = await client.get(PODS, name, NS)
    pod["status"] = {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
                     "conditions": [{"type": "Ready",
                                     "status": "True" if ready else "False"}]}
    await client.update_status(PODS, pod)


async def _slices(client: ApiClient) -> list[JSON]:
    items = (await client.list(ENDPOINTSLICES, NS)).get("items", [])
    return [es for es in items
            if (es["metadata"].get("labels") or {}).get("kubernetes.io/service-name")
            == "web"]


async def test_endpoints_and_slices_follow_pods(tmp_path: Path) -> None:
    async with InProcessAPI(tmp_path) as api:
        client = api.client()
        manager = ControllerManager(api.client())
        await manager.start()
        try:
            await client.create(SERVICES, {
                "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                "spec": {"selector": {"app": "web"},
                         "ports": [{"port": 80, "targetPort": "http"}]}}, NS)
            await _pod(client, "a", "10.1.0.5", True)
            await _pod(client, "b", "10.1.0.6", False)

            async def endpoints_ready() -> JSON:
                ep = await client.get(ENDPOINTS, "web", NS)
                assert ep["subsets"][0]["addresses"][0]["ip"] == "10.1.0.5"
                return ep
            ep = await eventually(endpoints_ready)
            assert [a["ip"] for a in ep["subsets"][0]["notReadyAddresses"]] == ["10.1.0.6"]
            assert ep["subsets"][0]["ports"] == [{"port": 8080, "protocol": "TCP"}]

            async def two_endpoints() -> list[JSON]:
                slices = await _slices(client)
                assert len(slices) == 1 and len(slices[0]["endpoints"]) == 2
                return slices
            es = (await eventually(two_endpoints))[0]
            assert es["metadata"]["ownerReferences"][0]["kind"] == "Service"
            assert [(e["addresses"], e["conditions"]["ready"]) for e in es["endpoints"]] == [
                (["10.1.0.5"], True), (["10.1.0.6"], False)]
            async with api.http.get(
                    "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices",
                    headers={"Accept": TABLE}) as r:
                table = await r.json()
            assert [c["name"] for c in table["columnDefinitions"]] == [
                "Name", "AddressType", "Ports", "Endpoints", "Age"]
            row = next(r["cells"] for r in table["rows"]
                       if r["cells"][0] == es["metadata"]["name"])
            assert row[1:4] == ["IPv4", "8080", "10.1.0.5,10.1.0.6"]

            # readiness lost and regained
            await _set_ready(client, "a", "10.1.0.5", False)

            async def none_ready() -> bool:
                slices = await _slices(client)
                return not any(e["conditions"]["ready"] for e in slices[0]["endpoints"])
            await eventually(none_ready)
            await _set_ready(client, "a", "10.1.0.5", True)

            async def a_ready() -> bool:
                slices = await _slices(client)
                return slices[0]["endpoints"][0]["conditions"]["ready"] is True
            await eventually(a_ready)

            await client.delete(SERVICES, "web", NS)

            async def gone() -> bool:
                items = (await client.list(ENDPOINTS, NS))["items"]
                return await _slices(client) == [] and [
                    e["metadata"]["name"] for e in items] == ["kubernetes"]
            await eventually(gone)
        finally:
            await manager.stop()
