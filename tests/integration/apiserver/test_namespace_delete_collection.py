"""DELETE on the namespaces collection is not a verb of namespaces: 405, nothing deleted."""

from __future__ import annotations

from kubelite.testing.inprocess import in_process_api


async def test_delete_collection_of_namespaces_is_405_and_deletes_nothing() -> None:
    async with in_process_api() as api:
        await api.server.bootstrap()
        for name in ("aaa", "abc"):  # sorted before "default"
            async with api.http.post("/api/v1/namespaces", json={
                    "apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": name}}) as r:
                assert r.status == 201
        async with api.http.delete("/api/v1/namespaces") as r:
            assert r.status == 405
            status = await r.json()
        assert status["reason"] == "MethodNotAllowed"
        assert status["message"] == ("the server does not allow this method on the "
                                     "requested resource")
        async with api.http.get("/api/v1/namespaces") as r:
            items = (await r.json())["items"]
        names = {i["metadata"]["name"] for i in items}
        assert {"aaa", "abc", "default"} <= names
        assert not any(i["metadata"].get("deletionTimestamp") for i in items)
        # collections that have the verb still work
        async with api.http.delete("/api/v1/namespaces/aaa/configmaps") as r:
            assert r.status == 200
