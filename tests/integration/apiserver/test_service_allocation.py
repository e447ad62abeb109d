"""Service clusterIPs and nodePorts through the API: allocated on create, refused with
kube's 422 when out of range or taken (nothing stored), never twice, released on delete,
kept across a restart; the default/kubernetes Service and its endpoints."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from kubelite.storage.sqlite import SQLiteStore
from kubelite.testing.inprocess import InProcessAPI, in_process_api

SVCS = "/api/v1/namespaces/default/services"


def service(name: str, **spec: Any) -> dict[str, Any]:
    spec.setdefault("ports", [{"port": 80}])
    spec.setdefault("selector", {"app": name})
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec}


async def create(api: InProcessAPI, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    async with api.http.post(SVCS, json=body) as r:
        return r.status, await r.json()


async def exists(api: InProcessAPI, name: str) -> bool:
    async with api.http.get(f"{SVCS}/{name}") as r:
        return r.status == 200


async def test_allocation_and_refusals() -> None:
    async with in_process_api() as api:
        code, web = await create(api, service("web"))
        assert code == 201
        spec = web["spec"]
        assert spec["clusterIP"].startswith("10.43.") and spec["clusterIPs"] == [
            spec["clusterIP"]]
        assert (spec["ipFamilies"], spec["ipFamilyPolicy"]) == (["IPv4"], "SingleStack")

        code, status = await create(api, service("outside", clusterIP="10.0.0.1"))
        assert code == 422
        assert status["message"] == (
            'Service "outside" is invalid: spec.clusterIPs: Invalid value: '
            '[]string{"10.0.0.1"}: failed to allocate IP 10.0.0.1: the provided IP '
            '(10.0.0.1) is not in the valid range. The range of valid IPs is 10.43.0.0/16')
        code, status = await create(api, service("dup", clusterIP=spec["clusterIP"]))
        assert code == 422
        assert status["message"] == (
            f'Service "dup" is invalid: spec.clusterIPs: Invalid value: '
            f'[]string{{"{spec["clusterIP"]}"}}: failed to allocate IP {spec["clusterIP"]}: '
            f'provided IP is already allocated')
        code, np1 = await create(api, service("np1", type="NodePort",
                                              ports=[{"port": 80, "nodePort": 30080}]))
        assert code == 201 and np1["spec"]["ports"][0]["nodePort"] == 30080
        code, status = await create(api, service("np2", type="NodePort",
                                                 ports=[{"port": 80, "nodePort": 30080}]))
        assert code == 422
        assert status["message"] == ('Service "np2" is invalid: spec.ports[0].nodePort: '
                                     'Invalid value: 30080: provided port is already allocated')
        for name in ("outside", "dup", "np2"):
            assert not await exists(api, name)

        code, headless = await create(api, service("headless", clusterIP="None"))
        assert code == 201 and headless["spec"]["clusterIPs"] == ["None"]
        code, ext = await create(api, {
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": "ext"},
            "spec": {"type": "ExternalName", "externalName": "example.com"}})
        assert code == 201 and "clusterIP" not in ext["spec"]

        # the clusterIP may not change; leaving it out keeps it
        changed = dict(web)
        changed["spec"] = {**spec, "clusterIP": "10.43.0.99"}
        async with api.http.put(f"{SVCS}/web", json=changed) as r:
            assert r.status == 422
            assert (await r.json())["message"] == (
                'Service "web" is invalid: spec.clusterIPs[0]: Invalid value: '
                '[]string{"10.43.0.99"}: may not change once set')
        async with api.http.patch(f"{SVCS}/web", data='{"metadata":{"labels":{"a":"b"}}}',
                                  headers={"Content-Type":
                                           "application/merge-patch+json"}) as r:
            assert r.status == 200
            assert (await r.json())["spec"]["clusterIP"] == spec["clusterIP"]

        # deleting gives the IP and the port back
        for name in ("web", "np1"):
            async with api.http.delete(f"{SVCS}/{name}") as r:
                assert r.status == 200
        code, again = await create(api, service("again", clusterIP=spec["clusterIP"],
                                                type="NodePort",
                                                ports=[{"port": 80, "nodePort": 30080}]))
        assert code == 201, again


async def test_concurrent_creates_never_share_an_ip_or_port() -> None:
    async with in_process_api() as api:
        results = await asyncio.gather(*(
            create(api, service(f"s{i}", type="NodePort")) for i in range(60)))
        assert all(code == 201 for code, _ in results)
        ips = {body["spec"]["clusterIP"] for _, body in results}
        ports = {body["spec"]["ports"][0]["nodePort"] for _, body in results}
        assert len(ips) == 60 and len(ports) == 60
        # the same requested IP, asked for by many at once: exactly one wins
        results = await asyncio.gather(*(
            create(api, service(f"race{i}", clusterIP="10.43.0.200")) for i in range(10)))
        assert sorted(code for code, _ in results) == [201] + [422] * 9


async def test_allocations_survive_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    async with InProcessAPI(tmp_path, SQLiteStore(db)) as api:
        code, body = await create(api, service("web", type="NodePort",
                                               ports=[{"port": 80, "nodePort": 30111}]))
        assert code == 201
        ip = body["spec"]["clusterIP"]
    async with InProcessAPI(tmp_path, SQLiteStore(db)) as api:
        code, status = await create(api, service("other", clusterIP=ip))
        assert code == 422 and "provided IP is already allocated" in status["message"]
        code, status = await create(api, service("other", type="NodePort",
                                                 ports=[{"port": 80, "nodePort": 30111}]))
        assert code == 422 and "provided port is already allocated" in status["message"]
        code, body = await create(api, service("other"))
        assert code == 201 and body["spec"]["clusterIP"] != ip


async def test_the_kubernetes_service_points_at_the_api_server() -> None:
    async with in_process_api() as api:
        async with api.http.get(f"{SVCS}/kubernetes") as r:
            svc = await r.json()
        assert svc["metadata"]["labels"] == {"component": "apiserver",
                                             "provider": "kubernetes"}
        assert svc["spec"]["clusterIP"] == "10.43.0.1"
        assert svc["spec"]["ports"] == [{"name": "https", "port": 443, "protocol": "TCP",
                                         "targetPort": api.server.port}]
        async with api.http.get("/api/v1/namespaces/default/endpoints/kubernetes") as r:
            ep = await r.json()
        assert ep["subsets"] == [{"addresses": [{"ip": "127.0.0.1"}], "ports": [
            {"name": "https", "port": api.server.port, "protocol": "TCP"}]}]
        async with api.http.get("/apis/discovery.k8s.io/v1/namespaces/default/"
                                "endpointslices/kubernetes") as r:
            es = await r.json()
        assert es["addressType"] == "IPv4"
        assert es["endpoints"] == [{"addresses": ["127.0.0.1"],
                                    "conditions": {"ready": True}}]
        # a changed spec is put back at the next pass
        async with api.http.patch(
                "/api/v1/namespaces/default/endpoints/kubernetes",
                data='{"subsets":[{"addresses":[{"ip":"10.9.9.9"}],"ports":[{"port":1}]}]}',
                headers={"Content-Type": "application/merge-patch+json"}) as r:
            assert r.status == 200
        await api.server.kubernetes_service.ensure(api.server.port)
        async with api.http.get("/api/v1/namespaces/default/endpoints/kubernetes") as r:
            assert (await r.json())["subsets"][0]["addresses"] == [{"ip": "127.0.0.1"}]


async def test_dry_runs_claim_nothing_and_updates_move_node_ports() -> None:
    async with in_process_api() as api:
        body = service("dry", clusterIP="10.43.0.33")
        async with api.http.post(f"{SVCS}?dryRun=All", json=body) as r:
            assert r.status == 201
        assert not await exists(api, "dry")
        code, _ = await create(api, body)
        assert code == 201  # the dry run did not keep 10.43.0.33
        async with api.http.post(f"{SVCS}?dryRun=All",
                                 json=service("dry2", clusterIP="10.43.0.33")) as r:
            assert r.status == 422

        for name, port in (("a", 30001), ("b", 30002)):
            code, _ = await create(api, service(name, type="NodePort",
                                                ports=[{"port": 80, "nodePort": port}]))
            assert code == 201
        patch = '{"spec":{"ports":[{"port":80,"nodePort":30001}]}}'
        headers = {"Content-Type": "application/merge-patch+json"}
        async with api.http.patch(f"{SVCS}/b", data=patch, headers=headers) as r:
            assert r.status == 422
            assert (await r.json())["message"].endswith(
                "spec.ports[0].nodePort: Invalid value: 30001: provided port is already "
                "allocated")
        patch = '{"spec":{"ports":[{"port":80,"nodePort":30003}]}}'
        async with api.http.patch(f"{SVCS}/b", data=patch, headers=headers) as r:
            assert r.status == 200
        # 30002 is free again, 30003 is b's
        code, _ = await create(api, service("c", type="NodePort",
                                            ports=[{"port": 80, "nodePort": 30002}]))
        assert code == 201
        code, _ = await create(api, service("d", type="NodePort",
                                                 ports=[{"port": 80, "nodePort": 30003}]))
        assert code == 422
        # NodePort -> ClusterIP drops the nodePorts it left as they were, and frees them
        patch = '{"spec":{"type":"ClusterIP"}}'
        async with api.http.patch(f"{SVCS}/a", data=patch, headers=headers) as r:
            assert r.status == 200, await r.text()
            assert "nodePort" not in (await r.json())["spec"]["ports"][0]
        code, _ = await create(api, service("e", type="NodePort",
                                            ports=[{"port": 80, "nodePort": 30001}]))
        assert code == 201


async def test_to_external_name_and_back() -> None:
    async with in_process_api() as api:
        code, _ = await create(api, service("web", clusterIP="10.43.0.44"))
        assert code == 201
        headers = {"Content-Type": "application/merge-patch+json"}
        patch = '{"spec":{"type":"ExternalName","externalName":"example.com"}}'
        async with api.http.patch(f"{SVCS}/web", data=patch, headers=headers) as r:
            assert r.status == 200, await r.text()
            spec = (await r.json())["spec"]
        assert "clusterIP" not in spec and "ipFamilies" not in spec
        code, _ = await create(api, service("other", clusterIP="10.43.0.44"))
        assert code == 201  # released
        patch = '{"spec":{"type":"ClusterIP","externalName":null}}'
        async with api.http.patch(f"{SVCS}/web", data=patch, headers=headers) as r:
            assert r.status == 200, await r.text()
            spec = (await r.json())["spec"]
        assert spec["clusterIP"].startswith("10.43.") and spec["clusterIP"] != "10.43.0.44"
