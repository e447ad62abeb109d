"""The embedded store: SQLite in WAL mode as a revision log (kine's model).

Table ``kv`` holds one row per write; the row id *is* the revision. A row carries the key,
whether it created the key or deleted it, the id of the key's previous row
(``prev_revision``, 0 for none) and the object as JSON (for a deletion: the last state,
stamped with the deletion's revision). The newest row of a key is its current state.

Invariants:

- Revisions are assigned by the single writer thread, without gaps, and never reused
  (``AUTOINCREMENT`` keeps the high-water mark even after compaction removed rows).
- Writes queued while a transaction commits are committed together in the next one
  (group commit); each write's coroutine returns only after its transaction committed.
- Durability: WAL with ``synchronous=NORMAL`` by default. A commit then appends to the WAL
  with ``write()`` before the coroutine returns, so a kill -9 of the process loses nothing
  that was acknowledged (the data is in the OS page cache); only a power cut or a kernel
  crash could lose the newest commits (never corrupt the database). ``synchronous="FULL"``
  also fsyncs the WAL on every commit (one fsync per group) for power-loss durability.
- Compaction to revision C keeps exactly the state at C and every row after C: it deletes
  rows superseded by a row at or before C and deletion rows at or before C. Watches and
  lists may start from any revision >= C (``oldest_revision``).
- The WAL stays bounded: a checkpointer thread copies it into the database beside the
  writer, the writer's own checkpoint caps it near ``wal_limit_frames`` pages, and it is
  truncated after each compaction; pages freed by compaction are returned with
  incremental vacuum.

The parts: :mod:`~kubelite.storage.sqlite_schema` (the SQL), :mod:`~kubelite.storage.sqlite_writer`
(connections, the writer thread, group commit, writes); this module adds opening and
closing, reads, watches and compaction.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson

from kubelite.aio import tasks as aiotasks
from kubelite.private_files import create_private, private_dir, tighten
from kubelite.storage.fanout import Watcher
from kubelite.storage.interface import (
    JSON,
    Compacted,
    Event,
    ListResult,
    StorageError,
)
from kubelite.storage.sqlite_schema import (
    _COMPACTED,
    _COUNT,
    _HEAD,
    _HISTORY,
    _LATEST,
    _LIST,
    _checkpoint,
    _compact_to,
    _event,
    prefix_range,
)
from kubelite.storage.sqlite_writer import SQLiteWriter, _Op

log = logging.getLogger(__name__)


class SQLiteStore(SQLiteWriter):
    """A :class:`~kubelite.storage.interface.Store` in one SQLite file.

    Every ``compact_interval`` seconds, history is compacted up to the newest revision that
    is at least ``keep_revisions`` behind the newest one and, when ``keep_seconds`` is set,
    was already written ``keep_seconds`` ago (so a list's continue token stays valid that
    long). ``watch_queue`` bounds each watcher's queue.
    Objects in events and list results are shared: treat them as read-only; ``create``,
    ``update``, ``delete`` and ``get`` return objects the caller owns.
    """
    # -- lifecycle -------------------------------------------------------------------------

    @property
    def revision(self) -> int:
        return self._rev

    @property
    def oldest_revision(self) -> int:
        return self._compact_rev

    async def start(self) -> None:
        if self._open:
            return
        # Secrets live in it: the folder 0700 and the file 0600 before SQLite opens it
        # (SQLite gives -wal and -shm the database file's mode)
        if not self.path.parent.exists():
            private_dir(self.path.parent)
        create_private(self.path)
        for suffix in ("-wal", "-shm"):
            tighten(self.path.with_name(self.path.name + suffix))
        self._loop = asyncio.get_running_loop()
        ready: asyncio.Future[tuple[int, int]] = self._loop.create_future()
        self._writer = threading.Thread(
            target=self._writer_main, args=(ready,), name=f"sqlite-writer:{self.path.name}"
        )
        self._writer.daemon = True
        self._writer.start()
        self._rev, self._compact_rev = await ready
        self._pool = ThreadPoolExecutor(self._readers, thread_name_prefix="sqlite-read")
        self._stop_checkpoints.clear()
        self._checkpointer = threading.Thread(
            target=self._checkpointer_main, name=f"sqlite-checkpoint:{self.path.name}"
        )
        self._checkpointer.daemon = True
        self._checkpointer.start()
        self._open = True
        if self.compact_interval > 0:
            self._compactor = aiotasks.guarded(self._compact_forever(), "sqlite-compactor")

    async def close(self) -> None:
        if not self._open:
            return
        self._open = False
        await aiotasks.stop([self._compactor])
        self._compactor = None
        self._hub.end_all()
        self._stop_checkpoints.set()
        if self._checkpointer is not None:
            await asyncio.to_thread(self._checkpointer.join)
            self._checkpointer = None
        self._queue.put(None)
        if self._writer is not None:
            await asyncio.to_thread(self._writer.join)
            self._writer = None
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        with self._conns_lock:
            for conn in self._conns:
                conn.close()
            self._conns.clear()
        self._local = threading.local()
    # -- reads -------------------------------------------------------------------------------

    async def get(self, key: str) -> JSON | None:
        def read(conn: sqlite3.Connection) -> JSON | None:
            row = conn.execute(_LATEST, (key,)).fetchone()
            if row is None or row[1]:
                return None
            out: JSON = orjson.loads(row[2])
            return out

        result: JSON | None = await self._read(read)
        return result

    async def list(
        self,
        prefix: str,
        *,
        revision: int = 0,
        limit: int = 0,
        start_after: str = "",
    ) -> ListResult:
        lo, hi = prefix_range(prefix)

        def read(conn: sqlite3.Connection) -> ListResult:
            conn.execute("BEGIN")
            try:
                head = conn.execute(_HEAD).fetchone()[0]
                compacted = conn.execute(_COMPACTED).fetchone()[0]
                at = revision or head
                if revision:
                    if revision < compacted:
                        raise Compacted(revision, compacted)
                    if revision > head:
                        raise StorageError(f"too large resource version: {revision} ({head})")
                take = limit + 1 if limit > 0 else -1
                rows = conn.execute(_LIST, (lo, hi, start_after, at, take)).fetchall()
                more = limit > 0 and len(rows) > limit
                if more:
                    rows = rows[:limit]
                remaining = 0
                if more:
                    remaining = conn.execute(_COUNT, (lo, hi, rows[-1][0], at)).fetchone()[0]
            finally:
                conn.execute("COMMIT")
            items = [orjson.loads(r[1]) for r in rows]
            keys = [r[0] for r in rows]
            return ListResult(items, at, more, remaining, keys[-1] if keys else "", keys)

        result: ListResult = await self._read(read)
        return result

    # -- watch -------------------------------------------------------------------------------

    def watch(self, prefix: str, from_revision: int) -> Watcher:
        if not self._open:
            raise StorageError("store is closed")
        if from_revision < self._compact_rev:
            raise Compacted(from_revision, self._compact_rev)
        upto = self._rev  # everything after this reaches the watcher live
        lo, hi = prefix_range(prefix)

        async def history(after: int) -> list[Event]:
            if after >= upto:
                return []

            def read(conn: sqlite3.Connection) -> list[Event]:
                conn.execute("BEGIN")
                try:
                    compacted = conn.execute(_COMPACTED).fetchone()[0]
                    if after < compacted:
                        raise Compacted(after, compacted)
                    rows = conn.execute(_HISTORY, (after, upto, lo, hi, 1000)).fetchall()
                finally:
                    conn.execute("COMMIT")
                return [_event(r) for r in rows]

            page: list[Event] = await self._read(read)
            return page

        w = Watcher(
            self._hub,
            prefix,
            from_revision,
            limit=self.watch_queue,
            history=history if from_revision < upto else None,
        )
        self._hub.add(w)
        return w

    # -- compaction ----------------------------------------------------------------------------

    async def compact(self, revision: int | None = None, *, step: int = 2000) -> int:
        """Compact up to ``revision`` (default: newest minus ``keep_revisions``), in steps
        of ``step`` revisions so writes interleave; then checkpoint the WAL. Returns the
        compacted revision."""
        target = self._rev - self.keep_revisions if revision is None else revision
        target = min(target, self._rev)
        while self._compact_rev < target:
            hi = min(target, self._compact_rev + step)
            await self._submit(_Op("call", self._future(), call=_compact_to(hi)))
        await self._submit(_Op("call", self._future(), call=_checkpoint))
        return self._compact_rev

    def _compaction_target(self, now: float) -> int:
        """The revision the periodic compaction may go up to at time ``now``."""
        target = self._rev - self.keep_revisions
        if self.keep_seconds > 0:
            marks = self._marks
            marks.append((now, self._rev))
            oldest: tuple[float, int] | None = None
            while marks and marks[0][0] <= now - self.keep_seconds:
                oldest = marks.popleft()
            if oldest is not None:
                marks.appendleft(oldest)  # still the newest mark old enough
            target = min(target, oldest[1] if oldest is not None else 0)
        return target

    async def _compact_forever(self) -> None:
        while True:
            await asyncio.sleep(self.compact_interval)
            try:
                await self.compact(self._compaction_target(time.monotonic()))
            except StorageError as e:
                log.warning("compaction failed: %s", e)

    async def stats(self) -> dict[str, int]:
        """Row count, database and WAL sizes in bytes (for tests and benchmarks)."""

        def read(conn: sqlite3.Connection) -> dict[str, int]:
            rows = conn.execute("SELECT COUNT(*) FROM kv").fetchone()[0]
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
            size = conn.execute("PRAGMA page_size").fetchone()[0]
            wal = Path(f"{self.path}-wal")
            return {
                "rows": rows,
                "db_bytes": pages * size,
                "wal_bytes": wal.stat().st_size if wal.exists() else 0,
            }

        result: dict[str, int] = await self._read(read)
        return result
