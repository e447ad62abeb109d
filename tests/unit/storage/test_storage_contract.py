"""The Store contract, run against every implementation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from kubelite.storage.interface import (
    Compacted,
    Event,
    KeyExists,
    KeyNotFound,
    RevisionConflict,
    Store,
)
from kubelite.storage.sqlite import SQLiteStore
from kubelite.storage.watchcache import WatchCache
from kubelite.testing.memory_store import MemoryStore

FACTORIES: dict[str, Callable[[Path], Store]] = {
    "memory": lambda p: MemoryStore(),
    "sqlite": lambda p: SQLiteStore(p / "db.sqlite", compact_interval=0),
    "cache-sqlite": lambda p: WatchCache(SQLiteStore(p / "db.sqlite", compact_interval=0)),
    "cache-memory": lambda p: WatchCache(MemoryStore()),
}


@pytest.fixture(params=list(FACTORIES))
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    s = FACTORIES[request.param](tmp_path)
    await s.start()
    yield s
    await s.close()


def pod(ns: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "Pod", "metadata": {"name": name, "namespace": ns}, **extra}


def key(ns: str, name: str) -> str:
    return f"/registry/core/pods/{ns}/{name}"


def rv(obj: dict[str, Any]) -> int:
    return int(obj["metadata"]["resourceVersion"])


async def take(watch: Any, n: int, within: float = 5) -> list[Event]:
    out: list[Event] = []
    if n == 0:
        return out

    async def run() -> None:
        async for ev in watch:
            out.append(ev)
            if len(out) == n:
                return

    await asyncio.wait_for(run(), within)
    return out


async def test_create_sets_increasing_resource_versions(store: Store) -> None:
    a = await store.create(key("default", "a"), pod("default", "a"))
    b = await store.create(key("default", "b"), pod("default", "b"))
    assert rv(b) > rv(a) > 0
    assert store.revision == rv(b)
    got = await store.get(key("default", "a"))
    assert got == a
    assert got is not None and got["metadata"]["name"] == "a"


async def test_create_existing_key_fails(store: Store) -> None:
    await store.create(key("default", "a"), pod("default", "a"))
    with pytest.raises(KeyExists):
        await store.create(key("default", "a"), pod("default", "a"))


async def test_create_after_delete(store: Store) -> None:
    await store.create(key("default", "a"), pod("default", "a"))
    await store.delete(key("default", "a"))
    again = await store.create(key("default", "a"), pod("default", "a", spec={"x": 2}))
    assert (await store.get(key("default", "a"))) == again


async def test_get_missing_is_none(store: Store) -> None:
    assert await store.get(key("default", "nope")) is None


async def test_update_and_optimistic_concurrency(store: Store) -> None:
    a = await store.create(key("default", "a"), pod("default", "a"))
    b = await store.update(key("default", "a"), pod("default", "a", spec={"v": 1}), rv(a))
    assert rv(b) > rv(a)
    with pytest.raises(RevisionConflict) as err:
        await store.update(key("default", "a"), pod("default", "a", spec={"v": 2}), rv(a))
    assert err.value.current == rv(b)
    assert (await store.get(key("default", "a"))) == b
    c = await store.update(key("default", "a"), pod("default", "a", spec={"v": 3}))
    assert c["spec"] == {"v": 3}
    with pytest.raises(KeyNotFound):
        await store.update(key("default", "zz"), pod("default", "zz"))


async def test_delete_returns_last_state_at_deletion_revision(store: Store) -> None:
    a = await store.create(key("default", "a"), pod("default", "a", spec={"v": 1}))
    with pytest.raises(RevisionConflict):
        await store.delete(key("default", "a"), rv(a) + 100)
    gone = await store.delete(key("default", "a"), rv(a))
    assert gone["spec"] == {"v": 1}
    assert rv(gone) == store.revision > rv(a)
    assert await store.get(key("default", "a")) is None
    with pytest.raises(KeyNotFound):
        await store.delete(key("default", "a"))


async def test_caller_owns_objects(store: Store) -> None:
    obj = pod("default", "a", spec={"v": 1})
    out = await store.create(key("default", "a"), obj)
    obj["spec"]["v"] = 99
    got = await store.get(key("default", "a"))
    assert got is not None and got["spec"] == {"v": 1}
    got["spec"]["v"] = 42
    again = await store.get(key("default", "a"))
    assert again is not None and again["spec"] == {"v": 1}
    assert "resourceVersion" not in obj["metadata"] or out is not obj


async def test_list_prefix_order_and_pagination(store: Store) -> None:
    for ns, name in [("default", "c"), ("default", "a"), ("default2", "a"), ("kube", "b")]:
        await store.create(key(ns, name), pod(ns, name))
    await store.create("/registry/core/nodes/n1", {"metadata": {"name": "n1"}})
    result = await store.list("/registry/core/pods/default/")
    assert [i["metadata"]["name"] for i in result.items] == ["a", "c"]
    assert result.keys == [key("default", "a"), key("default", "c")]
    assert result.revision == store.revision
    assert not result.more and result.remaining == 0

    all_pods = await store.list("/registry/core/pods/")
    assert all_pods.keys == [
        key("default", "a"),
        key("default", "c"),
        key("default2", "a"),
        key("kube", "b"),
    ]
    page = await store.list("/registry/core/pods/", limit=2)
    assert page.more and page.remaining == 2 and page.last_key == key("default", "c")
    rest = await store.list(
        "/registry/core/pods/", revision=page.revision, limit=2, start_after=page.last_key
    )
    assert rest.keys == [key("default2", "a"), key("kube", "b")]
    assert not rest.more and rest.remaining == 0
    everything = await store.list("")
    assert len(everything.items) == 5


async def test_list_at_older_revision_is_a_snapshot(store: Store) -> None:
    a = await store.create(key("default", "a"), pod("default", "a", spec={"v": 1}))
    before = store.revision
    await store.update(key("default", "a"), pod("default", "a", spec={"v": 2}))
    await store.create(key("default", "b"), pod("default", "b"))
    await store.delete(key("default", "a"))
    old = await store.list("/registry/core/pods/default/", revision=before)
    assert old.revision == before
    assert old.items == [a]
    now = await store.list("/registry/core/pods/default/")
    assert now.keys == [key("default", "b")]


async def test_watch_yields_changes_in_order_with_prev(store: Store) -> None:
    start = store.revision
    w = store.watch("/registry/core/pods/default/", start)
    a = await store.create(key("default", "a"), pod("default", "a", spec={"v": 1}))
    await store.create(key("other", "x"), pod("other", "x"))
    b = await store.update(key("default", "a"), pod("default", "a", spec={"v": 2}))
    c = await store.delete(key("default", "a"))
    events = await take(w, 3)
    w.close()
    assert [e.type for e in events] == ["ADDED", "MODIFIED", "DELETED"]
    assert [e.revision for e in events] == [rv(a), rv(b), rv(c)]
    assert events[0].obj == a and events[0].prev is None
    assert events[1].obj == b and events[1].prev == a
    assert events[2].obj == c and events[2].prev == b
    assert rv(events[2].obj) == events[2].revision


async def test_watch_from_past_revision_replays(store: Store) -> None:
    await store.create(key("default", "a"), pod("default", "a"))
    mark = store.revision
    await store.create(key("default", "b"), pod("default", "b"))
    await store.update(key("default", "a"), pod("default", "a", spec={"v": 2}))
    w = store.watch("/registry/core/pods/", mark)
    await store.create(key("default", "c"), pod("default", "c"))
    events = await take(w, 3)
    w.close()
    assert [(e.type, e.key) for e in events] == [
        ("ADDED", key("default", "b")),
        ("MODIFIED", key("default", "a")),
        ("ADDED", key("default", "c")),
    ]


async def test_prefix_does_not_match_sibling_namespace(store: Store) -> None:
    w = store.watch("/registry/core/pods/default/", store.revision)
    await store.create(key("default2", "a"), pod("default2", "a"))
    await store.create(key("default", "a"), pod("default", "a"))
    events = await take(w, 1)
    w.close()
    assert events[0].key == key("default", "a")


async def test_closed_watch_ends(store: Store) -> None:
    w = store.watch("", store.revision)
    w.close()
    assert [e async for e in w] == []


async def test_exactly_once_in_order_under_concurrent_writers(store: Store) -> None:
    writers, per_writer = 20, 25
    start = store.revision
    watches = [store.watch("/registry/core/pods/", start) for _ in range(10)]
    ns_watch = store.watch("/registry/core/pods/ns3/", start)

    async def writer(i: int) -> None:
        for j in range(per_writer):
            k = key(f"ns{i}", f"p{j}")
            created = await store.create(k, pod(f"ns{i}", f"p{j}"))
            if j % 3 == 0:
                await store.update(k, pod(f"ns{i}", f"p{j}", spec={"j": j}), rv(created))
            if j % 5 == 0:
                await store.delete(k)

    await asyncio.gather(*(writer(i) for i in range(writers)))
    total = store.revision - start
    assert total == writers * (per_writer + 9 + 5)
    results = await asyncio.gather(*(take(w, total) for w in watches))
    for events in results:
        revs = [e.revision for e in events]
        assert revs == list(range(start + 1, store.revision + 1))
    ns3 = await take(ns_watch, per_writer + 9 + 5)
    assert all(e.key.startswith("/registry/core/pods/ns3/") for e in ns3)
    assert [e.revision for e in ns3] == sorted({e.revision for e in ns3})
    for w in [*watches, ns_watch]:
        w.close()


async def test_watch_and_list_before_oldest_revision_raise_compacted(store: Store) -> None:
    for i in range(12):
        await store.create(key("default", f"p{i}"), pod("default", f"p{i}"))
    await compact(store, store.revision - 2)
    oldest = store.oldest_revision
    assert 0 < oldest <= store.revision - 2
    with pytest.raises(Compacted) as err:
        store.watch("/registry/core/pods/", oldest - 1)
    assert err.value.oldest == oldest
    w = store.watch("/registry/core/pods/", oldest)
    events = await take(w, store.revision - oldest)
    assert [e.revision for e in events] == list(range(oldest + 1, store.revision + 1))
    w.close()
    if not isinstance(store, WatchCache):  # the cache delegates old lists to its store
        with pytest.raises(Compacted):
            await store.list("/registry/core/pods/", revision=oldest - 1)
    snapshot = await store.list("/registry/core/pods/", revision=oldest)
    assert len(snapshot.items) == oldest  # every revision so far was one create


async def compact(store: Store, revision: int) -> None:
    """Expire history up to ``revision`` in whichever way the implementation does."""
    if isinstance(store, WatchCache):
        # The cache forgets by its ring size (then serves older watches from its store):
        # shrink it, push events through, and compact the store itself.
        store.window = 2
        for i in range(3):
            await store.create(key("filler", f"f{i}"), pod("filler", f"f{i}"))
        store = store.inner
    assert isinstance(store, SQLiteStore | MemoryStore)
    await store.compact(revision)


async def test_watches_opened_mid_stream_get_exactly_the_later_changes(store: Store) -> None:
    writers, per_writer = 20, 20
    opened: list[tuple[int, Any]] = []

    async def writer(i: int) -> None:
        for j in range(per_writer):
            await store.create(key(f"w{i}", f"p{j}"), pod(f"w{i}", f"p{j}"))
            await asyncio.sleep(0)  # let the fake store interleave too

    async def opener() -> None:
        for n in range(8):
            await asyncio.sleep(0)
            at = max(0, store.revision - (n % 3) * 5)  # now, or a little in the past
            opened.append((at, store.watch("/registry/core/pods/", at)))

    await asyncio.gather(opener(), *(writer(i) for i in range(writers)))
    end = store.revision
    assert any(at < end for at, _ in opened)
    for at, w in opened:
        events = await take(w, end - at)
        w.close()
        assert [e.revision for e in events] == list(range(at + 1, end + 1))


async def test_close_ends_open_watches(store: Store) -> None:
    w = store.watch("/registry/core/pods/", store.revision)
    await store.create(key("default", "a"), pod("default", "a"))
    await store.close()
    events = [e async for e in w]
    assert [e.key for e in events] in ([], [key("default", "a")])
