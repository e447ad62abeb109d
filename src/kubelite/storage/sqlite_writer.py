"""The embedded store's write side: its connections, its writer thread and group commit.

Contract: one writer thread owns the only writing connection and takes operations from a
queue; it commits every operation queued while the previous transaction ran in one
transaction (at most ``max_batch``), assigns their revisions without gaps, and hands the
results back to the event loop (``_finish``), which publishes the events to watchers
*before* it wakes the writes' coroutines. A failed operation fails alone; a failed
transaction fails all of its operations. ``call`` operations run a function on the writing
connection between transactions (compaction, checkpoints). A checkpointer thread copies
the WAL into the database beside the writer. Reads never use the writing connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import orjson

from kubelite.storage.fanout import Hub
from kubelite.storage.interface import (
    JSON,
    Event,
    KeyExists,
    KeyNotFound,
    RevisionConflict,
    StorageError,
)
from kubelite.storage.sqlite_schema import (
    _COMPACTED,
    _HEAD,
    _INSERT,
    _LATEST,
    _SCHEMA,
    Synchronous,
    _Compaction,
    stamp,
)

log = logging.getLogger("kubelite.storage.sqlite")  # the store's one logger


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


class SQLiteWriter:
    """The write side of :class:`~kubelite.storage.sqlite.SQLiteStore` (see there for the
    constructor's parameters); it neither starts nor stops its threads itself."""

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


def _settle(fut: asyncio.Future[Any] | None, value: Any) -> None:
    if fut is None or fut.done():
        return
    if isinstance(value, BaseException):
        fut.set_exception(value)
    else:
        fut.set_result(value)
