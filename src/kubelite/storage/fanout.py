"""Delivery of store events to open watches.

A :class:`Hub` routes each published event to the watches whose prefix the key starts
with; each :class:`Watcher` has its own bounded queue.

Invariants:

- A watcher yields events in strictly increasing revision order and never the same
  revision twice (anything at or below the last yielded revision is skipped), so a source
  may overlap its catch-up and its live events freely.
- A watcher whose queue is full when a new event arrives *overflows*: it accepts nothing
  more, yields what it already holds, then ends. The consumer resumes from the last
  revision it saw (the API server ends the stream; the client re-watches).
- Iteration also ends when the consumer calls :meth:`Watcher.close` (immediately) or when
  the source ends the watcher with :meth:`Watcher.end` (after the queued events).
- Objects inside events are shared between watchers: treat them as read-only.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence

from kubelite.storage.interface import Event

# Reads the next page of past events for a catch-up: called with the last revision yielded,
# returns events after it in revision order, or an empty list when caught up.
HistoryPage = Callable[[int], Awaitable[list[Event]]]


class Watcher:
    """One open watch: events under ``prefix`` with a revision greater than ``after``."""

    __slots__ = (
        "_ended",
        "_history",
        "_history_buf",
        "_hub",
        "_last",
        "_limit",
        "_queue",
        "_waiter",
        "closed",
        "overflowed",
        "prefix",
    )

    def __init__(
        self,
        hub: Hub,
        prefix: str,
        after: int,
        *,
        limit: int,
        backlog: Sequence[Event] = (),
        history: HistoryPage | None = None,
    ) -> None:
        self._hub = hub
        self.prefix = prefix
        self._last = after
        # The backlog does not count against the live allowance.
        self._limit = limit + len(backlog)
        self._queue: deque[Event] = deque(backlog)
        self._history = history
        self._history_buf: deque[Event] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._ended = False
        self.closed = False
        self.overflowed = False

    def push(self, event: Event) -> None:
        """Queue a live event (the hub calls this); overflow when the queue is full."""
        if self._ended:
            return
        if len(self._queue) >= self._limit:
            self.overflowed = True
            self.end()
            return
        self._queue.append(event)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def end(self) -> None:
        """End after the queued events (source side)."""
        if not self._ended:
            self._ended = True
            self._hub.remove(self)
            waiter = self._waiter
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    def close(self) -> None:
        """Stop now; queued events are dropped (consumer side)."""
        self.closed = True
        self._queue.clear()
        self._history = None
        self.end()

    def __aiter__(self) -> Watcher:
        return self

    async def __anext__(self) -> Event:
        while True:
            if self.closed:
                raise StopAsyncIteration
            if self._history is not None:
                if not self._history_buf:
                    page = await self._history(self._last)
                    if self.closed:
                        raise StopAsyncIteration
                    if not page:
                        self._history = None
                        continue
                    self._history_buf.extend(page)
                event = self._history_buf.popleft()
            elif self._queue:
                event = self._queue.popleft()
            elif self._ended:
                raise StopAsyncIteration
            else:
                self._waiter = asyncio.get_running_loop().create_future()
                try:
                    await self._waiter
                finally:
                    self._waiter = None
                continue
            if event.revision <= self._last:
                continue
            self._last = event.revision
            return event


class Hub:
    """Routes events to watchers by key prefix.

    Watchers on ``""`` or on prefixes ending in ``/`` are found by dictionary look-ups of
    the key's ``/``-terminated prefixes, so routing costs the same for 1 or 1,000 watchers
    on other prefixes; any other prefix is matched with ``startswith``.
    """

    def __init__(self) -> None:
        self._by_prefix: dict[str, dict[Watcher, None]] = {}
        self._odd: dict[Watcher, None] = {}
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def add(self, watcher: Watcher) -> None:
        prefix = watcher.prefix
        if prefix == "" or prefix.endswith("/"):
            self._by_prefix.setdefault(prefix, {})[watcher] = None
        else:
            self._odd[watcher] = None
        self._count += 1

    def remove(self, watcher: Watcher) -> None:
        prefix = watcher.prefix
        group = self._by_prefix.get(prefix) if prefix == "" or prefix.endswith("/") else self._odd
        if group is not None and watcher in group:
            del group[watcher]
            self._count -= 1
            if not group and group is not self._odd:
                del self._by_prefix[prefix]

    def publish(self, events: Iterable[Event]) -> None:
        """Deliver ``events`` (in revision order) to every matching watcher."""
        if not self._count:
            return
        by_prefix = self._by_prefix
        for event in events:
            key = event.key
            group = by_prefix.get("")
            if group:
                for w in list(group):
                    w.push(event)
            i = key.find("/")
            while i != -1:
                group = by_prefix.get(key[: i + 1])
                if group:
                    for w in list(group):
                        w.push(event)
                i = key.find("/", i + 1)
            if self._odd:
                for w in list(self._odd):
                    if key.startswith(w.prefix):
                        w.push(event)

    def end_all(self) -> None:
        """End every watcher (the source is closing)."""
        watchers = [w for g in self._by_prefix.values() for w in g] + list(self._odd)
        for w in watchers:
            w.end()
