"""Watch cache specifics: slow watchers, losing the source, windows."""

from __future__ import annotations

import asyncio

import pytest

from kubelite.storage.interface import Compacted, Event, Watch
from kubelite.storage.watchcache import WatchCache
from kubelite.testing.memory_store import MemoryStore
from kubelite.testing.waiting import eventually


async def take(w: Watch, n: int) -> list[Event]:
    out: list[Event] = []

    async def go() -> None:
        async for ev in w:
            out.append(ev)
            if len(out) == n:
                return
    await asyncio.wait_for(go(), 5)
    return out


def key(i: int) -> str:
    return f"/registry/core/pods/default/p{i}"


def pod(i: int) -> dict[str, object]:
    return {"metadata": {"name": f"p{i}", "namespace": "default"}}


async def test_slow_watcher_gets_its_queue_then_ends() -> None:
    cache = WatchCache(MemoryStore(), watcher_queue=5)
    await cache.start()
    try:
        slow = cache.watch("/registry/core/pods/", cache.revision)
        fast = cache.watch("/registry/core/pods/", cache.revision)
        seen: list[int] = []

        async def follow() -> None:
            async for ev in fast:
                seen.append(ev.revision)

        task = asyncio.create_task(follow())
        for i in range(20):
            await cache.create(key(i), pod(i))
        got = [ev.revision async for ev in slow]
        assert got == [1, 2, 3, 4, 5]
        assert slow.overflowed
        assert seen == list(range(1, 21))
        assert cache.watchers == 1
        fast.close()
        await task
    finally:
        await cache.close()


async def test_cache_relists_when_its_source_watch_ends() -> None:
    inner = MemoryStore(watch_queue=3)
    cache = WatchCache(inner)
    await cache.start()
    try:
        w = cache.watch("", 0)
        # Writes straight to the inner store without yielding overflow the cache's watch.
        for i in range(10):
            await inner.create(key(i), pod(i))
        events = [ev async for ev in w]  # the cache ends its watches when it re-lists
        assert [e.revision for e in events] == [1, 2, 3]
        async def relisted() -> bool:
            return cache.revision == 10

        await eventually(relisted, 1.0)
        listed = await cache.list("/registry/core/pods/default/")
        assert len(listed.items) == 10 and listed.revision == 10
        # history before the re-list comes from the store, as long as it holds it
        old = cache.watch("", 5)
        assert [e.revision for e in await take(old, 5)] == [6, 7, 8, 9, 10]
        old.close()
        await inner.compact(8)
        with pytest.raises(Compacted):
            cache.watch("", 5)
        made = await cache.create(key(99), pod(99))
        assert (await cache.get(key(99))) == made
    finally:
        await cache.close()


async def test_list_of_many_namespaces_is_in_key_order() -> None:
    cache = WatchCache(MemoryStore())
    await cache.start()
    try:
        names = [(f"ns{n % 7}", f"p{n}") for n in range(200)]
        for ns, name in names:
            await cache.create(f"/registry/core/pods/{ns}/{name}", {"metadata": {"name": name}})
        await cache.create("/registry/core/pods/x", {"metadata": {"name": "odd"}})
        listed = await cache.list("/registry/core/pods/")
        assert listed.keys == sorted(listed.keys) and len(listed.keys) == 201
        partial = await cache.list("/registry/core/pods/ns1/p1")
        assert partial.keys == sorted(
            k for k in listed.keys if k.startswith("/registry/core/pods/ns1/p1")
        )
    finally:
        await cache.close()
