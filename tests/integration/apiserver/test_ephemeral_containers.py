"""The pods/ephemeralcontainers subresource over HTTP: only spec.ephemeralContainers
changes, added containers are neither changed nor removed, kube's texts."""

from __future__ import annotations

from typing import Any

from kubelite.testing.inprocess import in_process_api

POD = "/api/v1/namespaces/default/pods/p"
SUB = POD + "/ephemeralcontainers"
DEBUG = {"name": "debugger", "image": "busybox", "targetContainerName": "app",
         "stdin": True, "tty": True}


def pod() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "app", "image": "busybox"}]}}


async def test_add_ephemeral_container_by_patch_then_not_change_it() -> None:
    async with in_process_api() as api:
        async with api.http.post("/api/v1/namespaces/default/pods", json=pod()) as r:
            assert r.status == 201
        smp = {"headers": {"Content-Type": "application/strategic-merge-patch+json"}}
        # other fields of the body are ignored: only the ephemeral containers are written
        async with api.http.patch(SUB, json={"metadata": {"labels": {"x": "y"}},
                                             "spec": {"ephemeralContainers": [DEBUG]}},
                                  **smp) as r:
            assert r.status == 200, await r.text()
            body = await r.json()
        assert body["metadata"].get("labels") is None
        ec = body["spec"]["ephemeralContainers"][0]
        assert ec["name"] == "debugger" and ec["targetContainerName"] == "app"
        assert ec["terminationMessagePolicy"] == "File"  # defaulted as any container
        async with api.http.get(SUB) as r:
            assert (await r.json())["spec"]["ephemeralContainers"][0]["name"] == "debugger"

        changed = dict(body)
        changed["spec"] = dict(body["spec"], ephemeralContainers=[dict(ec, image="alpine")])
        async with api.http.put(SUB, json=changed) as r:
            assert r.status == 422
            text = (await r.json())["message"]
        assert 'spec.ephemeralContainers[debugger]: Forbidden: existing ephemeral ' \
               'containers "debugger" may not be changed' in text
        removed = dict(body)
        removed["spec"] = dict(body["spec"], ephemeralContainers=[])
        async with api.http.put(SUB, json=removed) as r:
            assert r.status == 422
            assert 'existing ephemeral containers \\"debugger\\" may not be removed' in \
                await r.text()


async def test_ephemeral_container_rules() -> None:
    async with in_process_api() as api:
        with_ec = pod()
        with_ec["spec"]["ephemeralContainers"] = [DEBUG]
        async with api.http.post("/api/v1/namespaces/default/pods", json=with_ec) as r:
            assert r.status == 422
            assert "spec.ephemeralContainers: Forbidden: cannot be set on create" in \
                (await r.json())["message"]
        async with api.http.post("/api/v1/namespaces/default/pods", json=pod()) as r:
            stored = await r.json()
        bad = dict(stored)
        bad["spec"] = dict(stored["spec"], ephemeralContainers=[
            dict(DEBUG, targetContainerName="nope", ports=[{"containerPort": 80}]),
            dict(DEBUG, name="app")])
        async with api.http.put(SUB, json=bad) as r:
            assert r.status == 422
            msg = (await r.json())["message"]
        assert "spec.ephemeralContainers[0].ports: Forbidden: cannot be set for an " \
               "Ephemeral Container" in msg
        assert 'spec.ephemeralContainers[0].targetContainerName: Not found: "nope"' in msg
        assert 'spec.ephemeralContainers[1].name: Duplicate value: "app"' in msg
        # the plain pod update may not add them
        plain = dict(stored)
        plain["spec"] = dict(stored["spec"], ephemeralContainers=[DEBUG])
        async with api.http.put(POD, json=plain) as r:
            assert r.status == 422
