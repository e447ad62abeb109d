"""Watches see every change exactly once, in order; a kill -9 loses no acknowledged write."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
import pytest

from kubelite.testing.server_process import ServerProcess, client_ssl_context

pytestmark = pytest.mark.e2e

CMS = "/api/v1/namespaces/default/configmaps"


def session(server: ServerProcess) -> aiohttp.ClientSession:
    ctx = client_ssl_context(server.kubeconfig)
    return aiohttp.ClientSession(base_url=server.url,
                                 connector=aiohttp.TCPConnector(ssl=ctx, limit=64))


async def test_watchers_see_every_change_once_in_order_under_20_writers(
    server: ServerProcess,
) -> None:
    async with session(server) as http:
        async with http.get(CMS) as resp:
            start = (await resp.json())["metadata"]["resourceVersion"]

        seen: list[list[tuple[str, str, int]]] = [[] for _ in range(5)]
        expected_total = 20 * 10 * 3  # 20 writers x 10 objects x (create, update, delete)

        async def watcher(i: int) -> None:
            url = f"{CMS}?watch=true&resourceVersion={start}&timeoutSeconds=60"
            async with http.get(url) as resp:
                async for line in resp.content:
                    ev = json.loads(line)
                    meta = ev["object"]["metadata"]
                    if not meta["name"].startswith("w-"):
                        continue
                    seen[i].append((ev["type"], meta["name"], int(meta["resourceVersion"])))
                    if len(seen[i]) == expected_total:
                        return

        acked: list[tuple[str, str, int]] = []

        async def writer(w: int) -> None:
            for j in range(10):
                name = f"w-{w}-{j}"
                body = {"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": name}, "data": {"v": "1"}}
                async with http.post(CMS, json=body) as resp:
                    assert resp.status == 201
                    acked.append(("ADDED", name, int((await resp.json())["metadata"]
                                                     ["resourceVersion"])))
                patch = json.dumps({"data": {"v": "2"}})
                async with http.patch(f"{CMS}/{name}", data=patch, headers={
                        "Content-Type": "application/merge-patch+json"}) as resp:
                    assert resp.status == 200
                    acked.append(("MODIFIED", name, int((await resp.json())["metadata"]
                                                        ["resourceVersion"])))
                async with http.delete(f"{CMS}/{name}") as resp:
                    assert resp.status == 200
                    acked.append(("DELETED", name, int((await resp.json())["metadata"]
                                                       ["resourceVersion"])))

        watchers = [asyncio.create_task(watcher(i)) for i in range(5)]
        await asyncio.sleep(0.3)
        await asyncio.gather(*(writer(w) for w in range(20)))
        await asyncio.wait_for(asyncio.gather(*watchers), 30)

    want = sorted(acked, key=lambda e: e[2])
    assert len({e[2] for e in want}) == expected_total  # every write has its own revision
    for events in seen:
        assert events == want


def _create_stream_then_kill(server: ServerProcess, acked: list[str]) -> None:
    async def run() -> None:
        async with session(server) as http:
            stop = asyncio.Event()
            enough = asyncio.Event()

            async def creator(c: int) -> None:
                i = 0
                while not stop.is_set():
                    name = f"k-{c}-{i}"
                    i += 1
                    body = {"apiVersion": "v1", "kind": "ConfigMap",
                            "metadata": {"name": name}, "data": {"n": str(i)}}
                    try:
                        async with http.post(CMS, json=body) as resp:
                            if resp.status == 201:
                                await resp.read()
                                acked.append(name)
                                if len(acked) >= 300:
                                    enough.set()
                    except (aiohttp.ClientError, ConnectionError):
                        return

            async def killer() -> None:
                await enough.wait()
                await asyncio.to_thread(server.kill)
                stop.set()

            await asyncio.gather(killer(), *(creator(c) for c in range(8)))

    asyncio.run(run())


def test_kill_9_during_creates_loses_no_acknowledged_write(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data").start()
    acked: list[str] = []
    try:
        _create_stream_then_kill(server, acked)
        assert len(acked) >= 300
        server.start()
        listing = server.kubectl("get", "configmaps", "-o", "json")
        assert listing.returncode == 0, listing.stderr
        names = {item["metadata"]["name"] for item in json.loads(listing.stdout)["items"]}
        missing = [n for n in acked if n not in names]
        assert missing == []
    finally:
        server.stop()
