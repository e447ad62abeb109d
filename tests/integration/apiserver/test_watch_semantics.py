"""Watch semantics at the HTTP level: initial events, selectors, bookmarks, 410, timeouts."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp

from kubelite.storage.watchcache import WatchCache
from kubelite.testing.inprocess import in_process_api
from kubelite.testing.memory_store import MemoryStore
from kubelite.testing.waiting import eventually

CMS = "/api/v1/namespaces/default/configmaps"


def cm(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "labels": labels}, "data": {"k": "v"}}


async def read_events(resp: aiohttp.ClientResponse, count: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    async def go() -> None:
        async for line in resp.content:
            out.append(json.loads(line))
            if len(out) == count:
                return

    await asyncio.wait_for(go(), 5)
    return out


async def test_resource_version_zero_sends_existing_objects_first() -> None:
    async with in_process_api() as api:
        for n in ("a", "b"):
            async with api.http.post(CMS, json=cm(n)) as r:
                assert r.status == 201
        async with api.http.get(CMS + "?watch=true&resourceVersion=0") as resp:
            assert resp.headers["Content-Type"] == "application/json"
            events = await read_events(resp, 2)
            assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
                ("ADDED", "a"), ("ADDED", "b")]
            assert events[0]["object"]["kind"] == "ConfigMap"
            async with api.http.post(CMS, json=cm("c")) as r:
                assert r.status == 201
            (ev,) = await read_events(resp, 1)
            assert (ev["type"], ev["object"]["metadata"]["name"]) == ("ADDED", "c")


async def test_label_selector_turns_leaving_objects_into_deleted() -> None:
    async with in_process_api() as api:
        async with api.http.post(CMS, json=cm("x", app="web")) as r:
            rv = (await r.json())["metadata"]["resourceVersion"]
        url = f"{CMS}?watch=true&labelSelector=app%3Dweb&resourceVersion={rv}"
        async with api.http.get(url) as resp:
            patch = json.dumps({"metadata": {"labels": {"app": "db"}}})
            async with api.http.patch(CMS + "/x", data=patch, headers={
                    "Content-Type": "application/merge-patch+json"}) as r:
                assert r.status == 200
            patch = json.dumps({"metadata": {"labels": {"app": "web"}}})
            async with api.http.patch(CMS + "/x", data=patch, headers={
                    "Content-Type": "application/merge-patch+json"}) as r:
                assert r.status == 200
            events = await read_events(resp, 2)
            assert [e["type"] for e in events] == ["DELETED", "ADDED"]


async def test_too_old_resource_version_is_an_in_stream_410() -> None:
    inner = MemoryStore()
    store = WatchCache(inner, window=5)
    async with in_process_api(store) as api:
        for i in range(20):
            async with api.http.post(CMS, json=cm(f"o{i}")) as r:
                assert r.status == 201
        await inner.compact(inner.revision - 3)  # the store no longer holds revision 2
        async with api.http.get(CMS + "?watch=true&resourceVersion=2") as resp:
            assert resp.status == 200
            (ev,) = await read_events(resp, 1)
            assert ev["type"] == "ERROR"
            assert ev["object"]["code"] == 410
            assert ev["object"]["reason"] == "Expired"
            assert ev["object"]["message"].startswith("too old resource version: 2 (")


async def test_timeout_seconds_ends_the_stream() -> None:
    async with in_process_api() as api:
        t0 = time.monotonic()
        async with api.http.get(CMS + "?watch=true&timeoutSeconds=1") as resp:
            body = await asyncio.wait_for(resp.read(), 5)
        assert body == b""
        assert 0.9 <= time.monotonic() - t0 < 4


async def test_bookmarks_carry_the_newest_revision_when_asked(monkeypatch: Any) -> None:
    from kubelite.apiserver import watch

    monkeypatch.setattr(watch, "BOOKMARK_INTERVAL", 0.2)
    async with in_process_api() as api:
        async with api.http.post(CMS, json=cm("b1")) as r:
            rv = (await r.json())["metadata"]["resourceVersion"]
        url = f"{CMS}?watch=true&resourceVersion={rv}&allowWatchBookmarks=true"
        async with api.http.get(url) as resp:
            (ev,) = await read_events(resp, 1)
        assert ev["type"] == "BOOKMARK"
        assert ev["object"]["kind"] == "ConfigMap"
        assert int(ev["object"]["metadata"]["resourceVersion"]) >= int(rv)


async def test_table_watch_sends_column_definitions_only_first() -> None:
    async with in_process_api() as api:
        headers = {"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"}
        async with api.http.get(CMS + "?watch=true", headers=headers) as resp:
            for n in ("t1", "t2"):
                async with api.http.post(CMS, json=cm(n)) as r:
                    assert r.status == 201
            events = await read_events(resp, 2)
        first, second = (e["object"] for e in events)
        assert first["kind"] == "Table"
        assert [c["name"] for c in first["columnDefinitions"]] == ["Name", "Data", "Age"]
        assert second["columnDefinitions"] is None
        assert second["rows"][0]["cells"][0] == "t2"


async def test_list_pagination_with_limit_and_continue() -> None:
    async with in_process_api() as api:
        for i in range(5):
            async with api.http.post(CMS, json=cm(f"p{i}")) as r:
                assert r.status == 201
        names: list[str] = []
        token = ""
        pages = 0
        while True:
            async with api.http.get(CMS + f"?limit=2&continue={token}") as r:
                body = await r.json()
            pages += 1
            names += [i["metadata"]["name"] for i in body["items"]]
            token = body["metadata"].get("continue", "")
            if not token:
                break
            assert body["metadata"]["remainingItemCount"] > 0
        assert names == [f"p{i}" for i in range(5)]
        assert pages == 3


async def test_deleting_a_namespace_empties_it_then_removes_it() -> None:
    async with in_process_api() as api:
        ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}
        async with api.http.post("/api/v1/namespaces", json=ns) as r:
            assert r.status == 201
        async with api.http.post("/api/v1/namespaces/team/configmaps", json=cm("inside")) as r:
            assert r.status == 201
        async with api.http.delete("/api/v1/namespaces/team") as r:
            assert r.status == 200
            body = await r.json()
            assert body["status"]["phase"] == "Terminating"
        async with api.http.post("/api/v1/namespaces/team/configmaps", json=cm("late")) as r:
            assert r.status == 403
            assert (await r.json())["message"] == (
                "configmaps \"late\" is forbidden: unable to create new content in "
                "namespace team because it is being terminated")
        async def removed() -> bool:
            async with api.http.get("/api/v1/namespaces/team") as r:
                return r.status == 404

        await eventually(removed)  # else the namespace was not removed
        async with api.http.get("/api/v1/namespaces/team/configmaps/inside") as r:
            assert r.status == 404


async def test_system_namespaces_cannot_be_deleted() -> None:
    async with in_process_api() as api:
        async with api.http.delete("/api/v1/namespaces/default") as r:
            assert r.status == 403
            body = await r.json()
            assert body["message"] == (
                'namespaces "default" is forbidden: this namespace may not be deleted')


async def test_eviction_deletes_the_pod() -> None:
    async with in_process_api() as api:
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "ev"},
               "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
        async with api.http.post("/api/v1/namespaces/default/pods", json=pod) as r:
            assert r.status == 201
        eviction = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "ev"}}
        async with api.http.post("/api/v1/namespaces/default/pods/ev/eviction",
                                 json=eviction) as r:
            assert r.status == 201
            assert (await r.json())["status"] == "Success"
        async with api.http.get("/api/v1/namespaces/default/pods/ev") as r:
            assert r.status == 404
