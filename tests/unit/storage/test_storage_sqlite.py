"""SQLite store specifics: recovery, compaction, bounded files."""

from __future__ import annotations

import asyncio
from pathlib import Path

from kubelite.storage.sqlite import SQLiteStore
from kubelite.testing.waiting import eventually


def key(i: int) -> str:
    return f"/registry/core/configmaps/default/c{i}"


def cm(i: int, v: int = 0) -> dict[str, object]:
    return {"metadata": {"name": f"c{i}", "namespace": "default"}, "data": {"v": str(v)}}


async def test_reopen_recovers_objects_revision_and_history(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "db", compact_interval=0)
    await store.start()
    for i in range(5):
        await store.create(key(i), cm(i))
    await store.update(key(0), cm(0, 1))
    await store.delete(key(1))
    last = store.revision
    await store.close()

    again = SQLiteStore(tmp_path / "db", compact_interval=0)
    await again.start()
    try:
        assert again.revision == last == 7
        listed = await again.list("/registry/core/configmaps/default/")
        assert listed.keys == [key(0), key(2), key(3), key(4)]
        assert listed.items[0]["data"] == {"v": "1"}
        w = again.watch("/registry/core/configmaps/", 5)
        made = await again.create(key(9), cm(9))
        events = [await anext(w) for _ in range(3)]
        w.close()
        assert [(e.type, e.revision) for e in events] == [
            ("MODIFIED", 6),
            ("DELETED", 7),
            ("ADDED", 8),
        ]
        assert events[0].prev is not None and events[0].prev["data"] == {"v": "0"}
        assert made["metadata"]["resourceVersion"] == "8"
    finally:
        await again.close()


async def test_revisions_are_never_reused_after_compaction(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "db", compact_interval=0)
    await store.start()
    await store.create(key(1), cm(1))
    await store.delete(key(1))
    await store.compact(store.revision)
    assert (await store.stats())["rows"] == 0
    await store.close()
    again = SQLiteStore(tmp_path / "db", compact_interval=0)
    await again.start()
    try:
        assert again.revision == 2
        assert again.oldest_revision == 2
        made = await again.create(key(1), cm(1))
        assert made["metadata"]["resourceVersion"] == "3"
    finally:
        await again.close()


async def test_background_compaction_bounds_rows_and_wal(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "db", compact_interval=0.05, keep_revisions=50)
    await store.start()
    try:
        for i in range(10):
            await store.create(key(i), cm(i))
        for round_ in range(1, 60):
            await asyncio.gather(*(store.update(key(i), cm(i, round_)) for i in range(10)))
        revision = store.revision
        async def compacted() -> dict[str, int] | None:  # compaction runs in the background
            stats = await store.stats()
            done = (store.oldest_revision >= revision - 50 and stats["rows"] <= 10 + 50
                    and stats["wal_bytes"] < 1 << 20)
            return stats if done else None

        try:
            stats = await eventually(compacted)
        except AssertionError:
            stats = await store.stats()
        assert store.oldest_revision >= revision - 50
        # Every key's current row plus at most the kept window of history.
        assert stats["rows"] <= 10 + 50
        assert stats["wal_bytes"] < 1 << 20
        # The newest state and the kept history are intact.
        listed = await store.list("/registry/core/configmaps/default/")
        assert [i["data"]["v"] for i in listed.items] == ["59"] * 10
        w = store.watch("", store.oldest_revision)
        first = await anext(w)
        w.close()
        assert first.revision == store.oldest_revision + 1 and first.prev is not None
    finally:
        await store.close()


async def test_group_commit_keeps_per_write_outcomes(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "db", compact_interval=0)
    await store.start()
    try:
        # The same key created concurrently: exactly one wins, in one batch or several.
        results = await asyncio.gather(
            *(store.create(key(0), cm(0, n)) for n in range(50)), return_exceptions=True
        )
        wins = [r for r in results if isinstance(r, dict)]
        assert len(wins) == 1 and store.revision == 1
        # A write that cannot be encoded fails alone.
        bad = {"metadata": {"name": "x"}, "data": {1j: "complex key"}}
        mixed = await asyncio.gather(
            store.create(key(1), cm(1)),
            store.create(key(2), bad),
            store.create(key(3), cm(3)),
            return_exceptions=True,
        )
        assert isinstance(mixed[0], dict) and isinstance(mixed[2], dict)
        assert isinstance(mixed[1], TypeError)
        assert (await store.get(key(2))) is None
        assert store.revision == 3
    finally:
        await store.close()


async def test_compaction_keeps_revisions_younger_than_keep_seconds(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "db", compact_interval=0, keep_revisions=2, keep_seconds=60)
    await store.start()
    try:
        for i in range(10):
            await store.create(key(i), cm(i))
        assert store._compaction_target(1000.0) == 0  # nothing is a minute old yet
        for i in range(10, 20):
            await store.create(key(i), cm(i))
        assert store._compaction_target(1030.0) == 0
        # At 1061 s the revision current at 1000 s (10) is over a minute old.
        assert store._compaction_target(1061.0) == 10
        # At 1095 s the revision of 1030 s (20) is old enough, but keep_revisions holds 2.
        assert store._compaction_target(1095.0) == 18
        await store.compact(store._compaction_target(1096.0))
        assert store.oldest_revision == 18
    finally:
        await store.close()
