"""An in-memory :class:`~kubelite.storage.interface.Store` for tests of higher layers.

Same contract as the SQLite store except durability: nothing survives the process. It keeps
every revision until :meth:`MemoryStore.compact` is called, so tests decide when history
expires. Writes complete without suspending, so their order is the order of the calls.
"""

from __future__ import annotations

import bisect

import orjson

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


def _copy(obj: JSON) -> JSON:
    out: JSON = orjson.loads(orjson.dumps(obj))
    return out


def _stamp(obj: JSON, revision: int) -> JSON:
    out = _copy(obj)
    meta = out.get("metadata")
    if not isinstance(meta, dict):
        meta = out["metadata"] = {}
    meta["resourceVersion"] = str(revision)
    return out


class MemoryStore:
    """A store in dictionaries; ``watch_queue`` bounds each watcher's queue."""

    def __init__(self, *, watch_queue: int = 100_000) -> None:
        self.watch_queue = watch_queue
        self._rev = 0
        self._compact_rev = 0
        # Per key: revisions and states (None after a deletion), oldest first.
        self._revs: dict[str, list[int]] = {}
        self._states: dict[str, list[JSON | None]] = {}
        self._log: list[Event] = []  # every event after the compacted revision
        self._hub = Hub()
        self._open = False

    @property
    def revision(self) -> int:
        return self._rev

    @property
    def oldest_revision(self) -> int:
        return self._compact_rev

    async def start(self) -> None:
        self._open = True

    async def close(self) -> None:
        self._open = False
        self._hub.end_all()

    def _check(self) -> None:
        if not self._open:
            raise StorageError("store is closed")

    def _current(self, key: str) -> tuple[int, JSON | None]:
        revs = self._revs.get(key)
        if not revs:
            return 0, None
        return revs[-1], self._states[key][-1]

    def _record(self, event: Event, state: JSON | None) -> None:
        self._rev = event.revision
        self._revs.setdefault(event.key, []).append(event.revision)
        self._states.setdefault(event.key, []).append(state)
        self._log.append(event)
        self._hub.publish((event,))

    async def create(self, key: str, obj: JSON) -> JSON:
        self._check()
        if self._current(key)[1] is not None:
            raise KeyExists(key)
        new = _stamp(obj, self._rev + 1)
        self._record(Event("ADDED", key, self._rev + 1, new, None), new)
        return _copy(new)

    async def update(self, key: str, obj: JSON, expected_revision: int | None = None) -> JSON:
        self._check()
        current_rev, current = self._current(key)
        if current is None:
            raise KeyNotFound(key)
        if expected_revision is not None and expected_revision != current_rev:
            raise RevisionConflict(key, current_rev)
        new = _stamp(obj, self._rev + 1)
        self._record(Event("MODIFIED", key, self._rev + 1, new, current), new)
        return _copy(new)

    async def delete(self, key: str, expected_revision: int | None = None) -> JSON:
        self._check()
        current_rev, current = self._current(key)
        if current is None:
            raise KeyNotFound(key)
        if expected_revision is not None and expected_revision != current_rev:
            raise RevisionConflict(key, current_rev)
        last = _stamp(current, self._rev + 1)
        self._record(Event("DELETED", key, self._rev + 1, last, current), None)
        return _copy(last)

    async def get(self, key: str) -> JSON | None:
        self._check()
        current = self._current(key)[1]
        return _copy(current) if current is not None else None

    async def list(
        self,
        prefix: str,
        *,
        revision: int = 0,
        limit: int = 0,
        start_after: str = "",
    ) -> ListResult:
        self._check()
        if revision and revision < self._compact_rev:
            raise Compacted(revision, self._compact_rev)
        if revision > self._rev:
            raise StorageError(f"too large resource version: {revision} ({self._rev})")
        at = revision or self._rev
        keys: list[str] = []
        items: list[JSON] = []
        for key in sorted(k for k in self._revs if k.startswith(prefix) and k > start_after):
            i = bisect.bisect_right(self._revs[key], at) - 1
            state = self._states[key][i] if i >= 0 else None
            if state is not None:
                keys.append(key)
                items.append(state)
        more = 0 < limit < len(keys)
        remaining = len(keys) - limit if more else 0
        if more:
            keys, items = keys[:limit], items[:limit]
        return ListResult(items, at, more, remaining, keys[-1] if keys else "", keys)

    def watch(self, prefix: str, from_revision: int) -> Watcher:
        self._check()
        if from_revision < self._compact_rev:
            raise Compacted(from_revision, self._compact_rev)
        start = bisect.bisect_right([e.revision for e in self._log], from_revision)
        backlog = [e for e in self._log[start:] if e.key.startswith(prefix)]
        w = Watcher(self._hub, prefix, from_revision, limit=self.watch_queue, backlog=backlog)
        self._hub.add(w)
        return w

    async def compact(self, revision: int | None = None) -> int:
        """Forget history up to ``revision`` (default: the newest), keeping the state
        at it; returns the compacted revision."""
        target = self._rev if revision is None else min(revision, self._rev)
        if target <= self._compact_rev:
            return self._compact_rev
        for key in list(self._revs):
            revs, states = self._revs[key], self._states[key]
            i = bisect.bisect_right(revs, target) - 1
            if i > 0:
                del revs[:i], states[:i]
            if states[0] is None and revs[0] <= target:
                del revs[0], states[0]
            if not revs:
                del self._revs[key], self._states[key]
        self._log = [e for e in self._log if e.revision > target]
        self._compact_rev = target
        return target
