"""The SQL of the embedded store: its schema, its statements and the row decoding.

Contract: everything here is stateless. ``_SCHEMA`` is idempotent (run at every open).
:func:`prefix_range` gives the half-open key range of a prefix, :func:`stamp` the copy of
an object with its ``resourceVersion`` set, :func:`_event` the watch event of a history
row. :func:`_compact_to` makes the writer-thread call that compacts to a revision in one
transaction (see the compaction invariant in :mod:`kubelite.storage.sqlite`), and
:func:`_checkpoint` the call that returns freed pages and truncates the WAL.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import orjson

from kubelite.storage.interface import JSON, Event

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
