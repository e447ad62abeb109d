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
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import orjson

from kubelite.aio import tasks as aiotasks
from kubelite.private_files import create_private, private_dir, tighten
from kubelite.storage.fanout import Hub, Watcher
from kubelite.storage.interface import (
    JSON,
    Compacted,
    Event,
    KeyExists,
    KeyNotFound,
    ListResult,
    RevisionConflict,
    StorageError,
)

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    created INTEGER NOT NULL,
    deleted INTEGER NOT NULL,
    prev_revision INTEGER NOT NULL,
    value BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS kv_key_id ON kv (key, id);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta (name, value) VALUES ('compact_revision', 0);
"""

_LATEST = "SELECT id, deleted, value FROM kv WHERE key = ? ORDER BY id DESC LIMIT 1"
_INSERT = (
    "INSERT INTO kv (id, key, created, deleted, prev_revision, value) VALUES (?, ?, ?, ?, ?, ?)"
)
_HEAD = "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'kv'), 0)"
_COMPACTED = "SELECT value FROM meta WHERE name = 'compact_revision'"
# The newest row of each key in [lo, hi) after ``start_after`` at or before a revision.
_LIST = """
SELECT kv.key, kv.value FROM kv WHERE kv.id IN (
    SELECT MAX(id) FROM kv WHERE key >= ? AND key < ? AND key > ? AND id <= ? GROUP BY key
) AND kv.deleted = 0 ORDER BY kv.key LIMIT ?
"""
_COUNT = """
SELECT COUNT(*) FROM kv WHERE kv.id IN (
    SELECT MAX(id) FROM kv WHERE key >= ? AND key < ? AND key > ? AND id <= ? GROUP BY key
) AND kv.deleted = 0
"""
_HISTORY = """
SELECT c.id, c.key, c.created, c.deleted, c.value, p.value FROM kv c
LEFT JOIN kv p ON p.id = c.prev_revision AND p.deleted = 0
WHERE c.id > ? AND c.id <= ? AND c.key >= ? AND c.key < ? ORDER BY c.id LIMIT ?
"""

_KEY_MAX = "\U0010ffff"
Synchronous = Literal["NORMAL", "FULL"]


def prefix_range(prefix: str) -> tuple[str, str]:
    """The half-open key range ``[lo, hi)`` of keys starting with ``prefix``."""
    if not prefix:
        return "", _KEY_MAX
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


def stamp(obj: JSON, revision: int) -> JSON:
    """A shallow copy of ``obj`` whose ``metadata.resourceVersion`` is ``revision``."""
    out = dict(obj)
    meta = dict(obj.get("metadata") or {})
    meta["resourceVersion"] = str(revision)
    out["metadata"] = meta
    return out


@dataclass(eq=False)
class _Op:
    kind: Literal["create", "update", "delete", "call"]
    future: asyncio.Future[Any] | None
    key: str = ""
    obj: JSON | None = None
    expected: int | None = None
    call: Callable[[sqlite3.Connection], Any] | None = None


@dataclass
class _Done:
    """What the writer hands back to the loop after one transaction."""

    results: list[tuple[asyncio.Future[Any] | None, Any]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    compact_revision: int | None = None


class SQLiteStore:
    """A :class:`~kubelite.storage.interface.Store` in one SQLite file.

    Every ``compact_interval`` seconds, history is compacted up to the newest revision that
    is at least ``keep_revisions`` behind the newest one and, when ``keep_seconds`` is set,
    was already written ``keep_seconds`` ago (so a list's continue token stays valid that
    long). ``watch_queue`` bounds each watcher's queue.
    Objects in events and list results are shared: treat them as read-only; ``create``,
    ``update``, ``delete`` and ``get`` return objects the caller owns.
    """

    def __init__(
        self,
        path: Path,
        *,
        compact_interval: float = 60,
        keep_revisions: int = 10_000,
        keep_seconds: float = 0,
        synchronous: Synchronous = "NORMAL",
        max_batch: int = 1000,
        watch_queue: int = 100_000,
        readers: int = 2,
        checkpoint_interval: float = 0.1,
        wal_limit_frames: int = 4096,
    ) -> None:
        self.path = Path(path)
        self.compact_interval = compact_interval
        self.keep_revisions = keep_revisions
        self.keep_seconds = keep_seconds
        self._marks: deque[tuple[float, int]] = deque()  # (monotonic time, revision)
        self.synchronous = synchronous
        self.max_batch = max_batch
        self.watch_queue = watch_queue
        self._readers = readers
        self.checkpoint_interval = checkpoint_interval
        self.wal_limit_frames = wal_limit_frames
        self._rev = 0
        self._compact_rev = 0
        self._hub = Hub()
        self._queue: queue.SimpleQueue[_Op | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._compactor: asyncio.Task[None] | None = None
        self._checkpointer: threading.Thread | None = None
        self._stop_checkpoints = threading.Event()
        self._open = False

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

    # -- connections -----------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, cached_statements=64
        )
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute(f"PRAGMA synchronous = {self.synchronous}")
        with self._conns_lock:
            self._conns.append(conn)
        return conn

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            conn.execute("PRAGMA query_only = 1")
            self._local.conn = conn
        return conn

    async def _read(self, fn: Callable[[sqlite3.Connection], Any]) -> Any:
        if not self._open or self._pool is None or self._loop is None:
            raise StorageError("store is closed")
        try:
            return await self._loop.run_in_executor(self._pool, lambda: fn(self._reader()))
        except sqlite3.Error as e:
            raise StorageError(f"{self.path}: {e}") from e

    # -- checkpoints -------------------------------------------------------------------------

    def _checkpointer_main(self) -> None:
        """Copy the WAL into the database beside the writer (PASSIVE checkpoints do not
        block writes), so commits seldom pay for a checkpoint. The WAL restarts from its
        beginning at the first write after a checkpoint caught up; should that not happen
        before it reaches ``wal_limit_frames`` pages, the writer's own automatic
        checkpoint copies the little that is left, so the WAL stays near that size."""
        try:
            conn = self._connect()
        except sqlite3.Error as e:
            log.error("checkpointer cannot open %s: %s", self.path, e)
            return
        while not self._stop_checkpoints.wait(self.checkpoint_interval):
            try:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error as e:
                log.warning("checkpoint failed: %s", e)

    # -- the writer thread -----------------------------------------------------------------

    def _writer_main(self, ready: asyncio.Future[tuple[int, int]]) -> None:
        loop = self._loop
        assert loop is not None
        try:
            conn = self._connect()
            if conn.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() != "wal":
                raise StorageError(f"{self.path}: cannot use WAL mode")
            conn.execute("PRAGMA auto_vacuum = INCREMENTAL")  # only takes on a new file
            conn.execute(f"PRAGMA journal_size_limit = {self.wal_limit_frames * 4096}")
            # Checkpoints run beside the writer (see _checkpointer_main); the writer's own
            # (PASSIVE) checkpoint is a safety net that finds little left to copy.
            conn.execute(f"PRAGMA wal_autocheckpoint = {self.wal_limit_frames}")
            conn.executescript(_SCHEMA)
            head = conn.execute(_HEAD).fetchone()[0]
            compacted = conn.execute(_COMPACTED).fetchone()[0]
        except Exception as e:
            loop.call_soon_threadsafe(_settle, ready, StorageError(f"{self.path}: {e}"))
            return
        loop.call_soon_threadsafe(_settle, ready, (head, compacted))
        rev = head
        get = self._queue.get
        get_nowait = self._queue.get_nowait
        stop = False
        while not stop:
            op = get()
            if op is None:
                break
            batch = [op]
            while len(batch) < self.max_batch:
                try:
                    nxt = get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            writes = [o for o in batch if o.kind != "call"]
            if writes:
                done, rev = self._commit(conn, writes, rev)
                loop.call_soon_threadsafe(self._finish, done)
            for o in batch:
                if o.kind == "call":
                    assert o.call is not None
                    done = _Done()
                    try:
                        value = o.call(conn)
                        if isinstance(value, _Compaction):
                            done.compact_revision = value.revision
                    except sqlite3.Error as e:
                        value = StorageError(f"{self.path}: {e}")
                    except Exception as e:
                        value = e
                    done.results.append((o.future, value))
                    loop.call_soon_threadsafe(self._finish, done)
        # Fail whatever is still queued.
        while True:
            try:
                op = get_nowait()
            except queue.Empty:
                break
            if op is not None:
                loop.call_soon_threadsafe(_settle, op.future, StorageError("store is closed"))
        with contextlib.suppress(sqlite3.Error):
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _commit(self, conn: sqlite3.Connection, ops: list[_Op], rev: int) -> tuple[_Done, int]:
        """Apply ``ops`` in one transaction; per-op failures leave the others in."""
        done = _Done()
        start = rev
        try:
            conn.execute("BEGIN IMMEDIATE")
            for op in ops:
                try:
                    returned, event = self._apply(conn, op, rev + 1)
                except (StorageError, TypeError, ValueError) as e:
                    done.results.append((op.future, e))
                    continue
                rev += 1
                done.results.append((op.future, returned))
                done.events.append(event)
            conn.execute("COMMIT")
        except sqlite3.Error as e:
            log.error("sqlite write failed: %s", e)
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            err = StorageError(f"write failed: {e}")
            return _Done(results=[(op.future, err) for op in ops]), start
        return done, rev

    @staticmethod
    def _apply(conn: sqlite3.Connection, op: _Op, rev: int) -> tuple[JSON, Event]:
        key = op.key
        row = conn.execute(_LATEST, (key,)).fetchone()
        live = row is not None and not row[1]
        prev_id = row[0] if row is not None else 0
        if op.kind == "create":
            if live:
                raise KeyExists(key)
            assert op.obj is not None
            new = stamp(op.obj, rev)
            data = orjson.dumps(new)
            conn.execute(_INSERT, (rev, key, 1, 0, prev_id, data))
            return new, Event("ADDED", key, rev, orjson.loads(data), None)
        if not live:
            raise KeyNotFound(key)
        if op.expected is not None and op.expected != prev_id:
            raise RevisionConflict(key, prev_id)
        prev = orjson.loads(row[2])
        if op.kind == "update":
            assert op.obj is not None
            new = stamp(op.obj, rev)
            data = orjson.dumps(new)
            conn.execute(_INSERT, (rev, key, 0, 0, prev_id, data))
            return new, Event("MODIFIED", key, rev, orjson.loads(data), prev)
        data = orjson.dumps(stamp(prev, rev))
        conn.execute(_INSERT, (rev, key, 0, 1, prev_id, data))
        return orjson.loads(data), Event("DELETED", key, rev, orjson.loads(data), prev)

    def _finish(self, done: _Done) -> None:
        """On the loop: publish the committed events, then wake the writers."""
        if done.events:
            self._rev = done.events[-1].revision
            self._hub.publish(done.events)
        if done.compact_revision is not None:
            self._compact_rev = max(self._compact_rev, done.compact_revision)
        for fut, value in done.results:
            _settle(fut, value)

    async def _submit(self, op: _Op) -> Any:
        if not self._open:
            raise StorageError("store is closed")
        assert op.future is not None
        self._queue.put(op)
        return await op.future

    def _future(self) -> asyncio.Future[Any]:
        if self._loop is None:
            raise StorageError("store is not started")
        return self._loop.create_future()

    # -- writes ------------------------------------------------------------------------------

    async def create(self, key: str, obj: JSON) -> JSON:
        result: JSON = await self._submit(_Op("create", self._future(), key, obj))
        return result

    async def update(self, key: str, obj: JSON, expected_revision: int | None = None) -> JSON:
        result: JSON = await self._submit(
            _Op("update", self._future(), key, obj, expected_revision)
        )
        return result

    async def delete(self, key: str, expected_revision: int | None = None) -> JSON:
        result: JSON = await self._submit(
            _Op("delete", self._future(), key, None, expected_revision)
        )
        return result

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


@dataclass(frozen=True)
class _Compaction:
    revision: int


def _compact_to(hi: int) -> Callable[[sqlite3.Connection], _Compaction]:
    def run(conn: sqlite3.Connection) -> _Compaction:
        conn.execute("BEGIN IMMEDIATE")
        try:
            lo = conn.execute(_COMPACTED).fetchone()[0]
            if hi <= lo:
                conn.execute("COMMIT")
                return _Compaction(lo)
            ids = conn.execute(
                "SELECT prev_revision FROM kv WHERE id > ? AND id <= ? AND prev_revision > 0 "
                "UNION SELECT id FROM kv WHERE id > ? AND id <= ? AND deleted = 1",
                (lo, hi, lo, hi),
            ).fetchall()
            conn.executemany("DELETE FROM kv WHERE id = ?", ids)
            conn.execute("UPDATE meta SET value = ? WHERE name = 'compact_revision'", (hi,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return _Compaction(hi)

    return run


def _checkpoint(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA incremental_vacuum").fetchall()  # each step frees one page
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()


def _event(row: tuple[int, str, int, int, bytes, bytes | None]) -> Event:
    rev, key, created, deleted, value, prev = row
    obj = orjson.loads(value)
    if created:
        return Event("ADDED", key, rev, obj, None)
    prev_obj = orjson.loads(prev) if prev is not None else None
    return Event("DELETED" if deleted else "MODIFIED", key, rev, obj, prev_obj)


def _settle(fut: asyncio.Future[Any] | None, value: Any) -> None:
    if fut is None or fut.done():
        return
    if isinstance(value, BaseException):
        fut.set_exception(value)
    else:
        fut.set_result(value)
