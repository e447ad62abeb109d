"""After a restart the watch cache starts at the newest revision; watches from older
revisions are served from SQLite's history instead of 410 Gone."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from kubelite.storage.interface import Compacted, Event
from kubelite.storage.sqlite import SQLiteStore
from kubelite.storage.watchcache import WatchCache

PREFIX = "/registry/core/configmaps/default/"


async def collect(w: object, n: int) -> list[Event]:
    out: list[Event] = []

    async def go() -> None:
        async for ev in w:  # type: ignore[attr-defined]
            out.append(ev)
            if len(out) == n:
                return
    await asyncio.wait_for(go(), 5)
    return out


async def test_watch_from_before_a_restart_replays_the_stored_history(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    first = WatchCache(SQLiteStore(db, compact_interval=0))
    await first.start()
    revs = []
    for i in range(5):
        made = await first.create(PREFIX + f"c{i}", {"metadata": {"name": f"c{i}"}})
        revs.append(int(made["metadata"]["resourceVersion"]))
    await first.close()

    cache = WatchCache(SQLiteStore(db, compact_interval=0))
    await cache.start()
    try:
        assert cache.revision == revs[-1]
        w = cache.watch(PREFIX, revs[1])  # older than the restarted cache's window
        later = await cache.create(PREFIX + "after", {"metadata": {"name": "after"}})
        events = await collect(w, 4)
        assert [e.key.rsplit("/", 1)[1] for e in events] == ["c2", "c3", "c4", "after"]
        assert events[-1].revision == int(later["metadata"]["resourceVersion"])
        w.close()
        assert isinstance(cache.inner, SQLiteStore)
        await cache.inner.compact(revs[3])
        with pytest.raises(Compacted):  # only what the store compacted away is gone
            cache.watch(PREFIX, revs[1])
    finally:
        await cache.close()
