"""An in-memory cache in front of a store, as kube-apiserver's cacher.

:class:`WatchCache` is itself a :class:`~kubelite.storage.interface.Store`: writes go to
the wrapped store; reads and watches are served from memory.

Invariants:

- The cache follows the wrapped store with one watch on ``""``, applying events in
  revision order; ``revision`` is the last applied one.
- Read-your-writes: a write returns only once the cache has applied its revision, so any
  later ``get``/``list``/``watch`` on this cache sees it.
- The ring buffer holds every event after ``oldest_revision`` (at most ``window`` of
  them). ``watch(prefix, N)`` replays buffered events after N, then follows live; N
  older than the buffer is served by the wrapped store (its history, then live), and
  raises :class:`Compacted` only where the store compacted it away. Revision 0 is not
  special here.
- A watcher whose queue (``watcher_queue`` events) fills up is ended after its queued
  events; the consumer resumes from the last revision it saw.
- If the wrapped store's watch ends or reports :class:`Compacted`, the cache re-lists and
  ends every open watch (their consumers re-list), as kube-apiserver does.
- ``get`` returns a copy the caller owns; objects in ``list`` results and events are
  shared with the cache: read-only.
"""

from __future__ import annotations

import asyncio
import bisect
import heapq
import itertools
import logging
from collections import deque

import orjson

from kubelite.aio import tasks as aiotasks
from kubelite.storage.fanout import Hub, Watcher
from kubelite.storage.interface import (
    JSON,
    Compacted,
    Event,
    ListResult,
    StorageError,
    Store,
    Watch,
)

log = logging.getLogger(__name__)


def _split(key: str) -> tuple[str, str]:
    cut = key.rfind("/") + 1
    return key[:cut], key[cut:]


class _Index:
    """Current objects by key, grouped by directory (the key up to its last ``/``) so a
    list of one namespace does not scan the others."""

    def __init__(self) -> None:
        self.dirs: dict[str, dict[str, JSON]] = {}
        self._sorted_dirs: list[str] = []
        self._sorted_names: dict[str, list[str]] = {}

    def get(self, key: str) -> JSON | None:
        d, name = _split(key)
        names = self.dirs.get(d)
        return names.get(name) if names is not None else None

    def put(self, key: str, obj: JSON) -> None:
        d, name = _split(key)
        names = self.dirs.get(d)
        if names is None:
            names = self.dirs[d] = {}
            bisect.insort(self._sorted_dirs, d)
        if name not in names:
            self._sorted_names.pop(d, None)
        names[name] = obj

    def remove(self, key: str) -> None:
        d, name = _split(key)
        names = self.dirs.get(d)
        if names is None or name not in names:
            return
        del names[name]
        self._sorted_names.pop(d, None)
        if not names:
            del self.dirs[d]
            self._sorted_dirs.remove(d)

    def keys(self, prefix: str) -> list[str]:
        """Keys starting with ``prefix``, sorted."""
        base, _ = _split(prefix)
        sorted_dirs = self._sorted_dirs
        i = bisect.bisect_left(sorted_dirs, base)
        out: list[str] = []
        runs = 0
        while i < len(sorted_dirs) and sorted_dirs[i].startswith(base):
            d = sorted_dirs[i]
            i += 1
            names = self._sorted_names.get(d)
            if names is None:
                names = self._sorted_names[d] = sorted(self.dirs[d])
            if d == prefix:
                out.extend([d + n for n in names])
            else:
                out.extend([k for k in (d + n for n in names) if k.startswith(prefix)])
            runs += 1
        if runs > 1:
            out.sort()  # runs of sorted keys: timsort merges them
        return out


class WatchCache:
    """A :class:`~kubelite.storage.interface.Store` serving reads and watches from memory."""

    def __init__(
        self,
        inner: Store,
        *,
        window: int = 10_000,
        watcher_queue: int = 1000,
        page: int = 5000,
    ) -> None:
        self.inner = inner
        self.window = window
        self.watcher_queue = watcher_queue
        self._page = page
        self._index = _Index()
        self._ring: deque[Event] = deque()
        self._rev = 0
        self._base = 0
        self._hub = Hub()
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._source: Watch | None = None
        self._task: asyncio.Task[None] | None = None
        self._open = False
        self._failure: BaseException | None = None

    @property
    def revision(self) -> int:
        return self._rev

    @property
    def oldest_revision(self) -> int:
        """Lists and watches may start here: the store's oldest revision (watches newer
        than the window's start are served from memory, older ones by the store)."""
        return self.inner.oldest_revision

    @property
    def watchers(self) -> int:
        """Open watches."""
        return len(self._hub)

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        if self._open:
            return
        await self.inner.start()
        await self._relist()
        self._open = True
        self._failure = None
        self._task = aiotasks.guarded(self._follow(), "watchcache-follow")

    async def close(self) -> None:
        if not self._open:
            return
        self._open = False
        if self._source is not None:
            self._source.close()
        await aiotasks.stop([self._task])
        self._task = None
        self._hub.end_all()
        self._fail_waiters(StorageError("store is closed"))
        await self.inner.close()

    async def _relist(self) -> None:
        """Load every object at one revision and open the follow watch from it."""
        while True:
            try:
                index = _Index()
                first = await self.inner.list("", limit=self._page)
                at = first.revision
                result = first
                while True:
                    for key, obj in zip(result.keys, result.items, strict=True):
                        index.put(key, obj)
                    if not result.more:
                        break
                    result = await self.inner.list(
                        "", revision=at, limit=self._page, start_after=result.last_key
                    )
                source = self.inner.watch("", at)
            except Compacted:
                continue
            break
        self._index = index
        self._ring.clear()
        self._rev = self._base = at
        self._source = source
        self._wake_waiters()

    async def _follow(self) -> None:
        while True:
            source = self._source
            assert source is not None
            try:
                async for event in source:
                    self._apply(event)
            except Compacted:
                pass
            except Exception as e:
                log.exception("watch cache lost its source")
                self._failure = e
                self._fail_waiters(StorageError(f"watch cache failed: {e}"))
                self._hub.end_all()
                return
            if not self._open:
                return
            log.warning("watch cache source ended at revision %d; re-listing", self._rev)
            self._hub.end_all()
            try:
                await self._relist()
            except Exception as e:
                self._failure = e
                self._fail_waiters(StorageError(f"watch cache failed: {e}"))
                return

    def _apply(self, event: Event) -> None:
        rev = event.revision
        if rev <= self._rev:
            return
        if event.type == "DELETED":
            self._index.remove(event.key)
        else:
            self._index.put(event.key, event.obj)
        ring = self._ring
        if len(ring) >= self.window:
            self._base = ring.popleft().revision
        ring.append(event)
        self._rev = rev
        self._hub.publish((event,))
        if self._waiters and self._waiters[0][0] <= rev:
            self._wake_waiters()

    # -- read-your-writes -------------------------------------------------------------------

    def _wake_waiters(self) -> None:
        waiters = self._waiters
        while waiters and waiters[0][0] <= self._rev:
            _, _, fut = heapq.heappop(waiters)
            if not fut.done():
                fut.set_result(None)

    def _fail_waiters(self, error: BaseException) -> None:
        for _, _, fut in self._waiters:
            if not fut.done():
                fut.set_exception(error)
        self._waiters.clear()

    async def _caught_up(self, revision: int) -> None:
        if self._rev >= revision:
            return
        if self._failure is not None or not self._open:
            raise StorageError("watch cache is not following its store")
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (revision, next(self._seq), fut))
        await fut

    # -- writes ------------------------------------------------------------------------------

    async def create(self, key: str, obj: JSON) -> JSON:
        out = await self.inner.create(key, obj)
        await self._caught_up(_revision_of(out))
        return out

    async def update(self, key: str, obj: JSON, expected_revision: int | None = None) -> JSON:
        out = await self.inner.update(key, obj, expected_revision)
        await self._caught_up(_revision_of(out))
        return out

    async def delete(self, key: str, expected_revision: int | None = None) -> JSON:
        out = await self.inner.delete(key, expected_revision)
        await self._caught_up(_revision_of(out))
        return out

    # -- reads -------------------------------------------------------------------------------

    async def get(self, key: str) -> JSON | None:
        self._check()
        obj = self._index.get(key)
        if obj is None:
            return None
        copy: JSON = orjson.loads(orjson.dumps(obj))
        return copy

    async def list(
        self,
        prefix: str,
        *,
        revision: int = 0,
        limit: int = 0,
        start_after: str = "",
    ) -> ListResult:
        self._check()
        if revision > self._rev:
            try:
                await asyncio.wait_for(self._caught_up(revision), timeout=3)
            except TimeoutError:
                raise StorageError(
                    f"too large resource version: {revision} ({self._rev})"
                ) from None
        if revision and revision != self._rev:
            return await self.inner.list(
                prefix, revision=revision, limit=limit, start_after=start_after
            )
        keys = self._index.keys(prefix)
        start = bisect.bisect_right(keys, start_after) if start_after else 0
        end = len(keys) if limit <= 0 else min(len(keys), start + limit)
        get = self._index.get
        page = keys[start:end]
        items: list[JSON] = [get(k) for k in page]  # type: ignore[misc]  # all present
        more = end < len(keys)
        return ListResult(
            items, self._rev, more, len(keys) - end if more else 0, page[-1] if page else "", page
        )

    def _check(self) -> None:
        if not self._open:
            raise StorageError("store is closed")
        if self._failure is not None:
            raise StorageError(f"watch cache failed: {self._failure}")

    # -- watch -------------------------------------------------------------------------------

    def watch(self, prefix: str, from_revision: int) -> Watch:
        self._check()
        oldest = self.inner.oldest_revision
        if from_revision < oldest:
            raise Compacted(from_revision, oldest)
        if from_revision < self._base:
            # older than the window (e.g. after a restart, which starts the window at the
            # current revision): the store still holds that history
            return self.inner.watch(prefix, from_revision)
        backlog: list[Event] = []
        if from_revision < self._rev:
            for event in reversed(self._ring):
                if event.revision <= from_revision:
                    break
                if event.key.startswith(prefix):
                    backlog.append(event)
            backlog.reverse()
        w = Watcher(self._hub, prefix, from_revision, limit=self.watcher_queue, backlog=backlog)
        self._hub.add(w)
        return w


def _revision_of(obj: JSON) -> int:
    return int(obj["metadata"]["resourceVersion"])
