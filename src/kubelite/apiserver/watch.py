"""Watch streams: chunked newline-delimited JSON events, as kube-apiserver sends them.

Semantics (kubectl-wire.md 3.4):
- ``resourceVersion`` unset or "0": synthetic ADDED for every matching object, then changes.
- ``resourceVersion=N``: every change after N, exactly once, in order.
- too old: an in-stream ERROR event with a 410 Expired Status, then the stream ends.
- selectors apply to both the old and new object: an object that stops matching is sent as
  DELETED, one that starts matching as ADDED.
- ``allowWatchBookmarks``: BOOKMARK events carry the newest revision while idle, and once
  more when the watch times out, so a client resumes from there.
- the stream ends after ``timeoutSeconds`` or when the server stops; without it (or with 0)
  after the server's own watch timeout, picked at random between ``--min-request-timeout``
  and twice that (:func:`server_timeout`), so idle clients are cut loose and spread out.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import web

from kubelite.api import scheme
from kubelite.storage.interface import JSON, Compacted, Event, Store

BOOKMARK_INTERVAL = 30.0
DEFAULT_MIN_REQUEST_TIMEOUT = 1800.0  # seconds, kube-apiserver's --min-request-timeout
Matcher = Callable[[JSON], bool]
RowEncoder = Callable[[JSON, bool], JSON]  # (object, first event) -> Table


def _expired(requested: int, oldest: int) -> JSON:
    return {
        "type": "ERROR",
        "object": {
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": f"too old resource version: {requested} ({oldest})",
            "reason": "Expired", "code": 410,
        },
    }


def server_timeout(min_request_timeout: float = DEFAULT_MIN_REQUEST_TIMEOUT,
                   rand: Callable[[], float] = random.random) -> float:
    """A watch's timeout when the client gave none: uniform in [min, 2*min)."""
    return min_request_timeout * (1.0 + rand())


def classify(event: Event, match: Matcher) -> str | None:
    """The event type a watcher with ``match`` sees for ``event`` (None: not at all)."""
    now_matches = event.type != "DELETED" and match(event.obj)
    before = event.prev is not None and match(event.prev)
    if event.type == "DELETED":
        return "DELETED" if match(event.obj) else None
    if now_matches and before:
        return "MODIFIED"
    if now_matches:
        return "ADDED"
    if before:
        return "DELETED"
    return None


class WatchStream:
    """One client's watch: writes events to an aiohttp StreamResponse until done."""

    def __init__(
        self,
        store: Store,
        res: scheme.Resource,
        prefix: str,
        match: Matcher,
        *,
        table: RowEncoder | None = None,
        bookmarks: bool = False,
        timeout: float | None = None,
        transform: Callable[[JSON], JSON] | None = None,
        stopping: asyncio.Event | None = None,
        on_event: Callable[[], None] | None = None,
    ) -> None:
        """``on_event`` is called for each event sent (the API server counts them)."""
        self.store = store
        self.on_event = on_event
        self.res = res
        self.prefix = prefix
        self.match = match
        self.table = table
        self.bookmarks = bookmarks
        self.timeout = timeout if timeout else server_timeout()
        self.transform = transform
        self.stopping = stopping
        self._first = True

    def _encode(self, kind: str, obj: JSON) -> bytes:
        if self.on_event is not None:
            self.on_event()
        if self.transform is not None:
            obj = self.transform(obj)
        if self.table is not None:
            obj = self.table(obj, self._first)
            self._first = False
        return orjson.dumps({"type": kind, "object": obj}) + b"\n"

    def _bookmark(self, revision: int) -> bytes:
        obj: dict[str, Any] = {
            "kind": self.res.kind, "apiVersion": self.res.api_version,
            "metadata": {"resourceVersion": str(revision)},
        }
        return orjson.dumps({"type": "BOOKMARK", "object": obj}) + b"\n"

    async def run(self, request: web.Request, resource_version: str | None) -> web.StreamResponse:
        response = web.StreamResponse(
            status=200, headers={"Content-Type": "application/json",
                                 "Cache-Control": "no-cache, private"},
        )
        response.enable_chunked_encoding()
        await response.prepare(request)
        initial: list[JSON] = []
        if not resource_version or resource_version == "0":
            listing = await self.store.list(self.prefix)
            start = listing.revision
            initial = [o for o in listing.items if self.match(o)]
        else:
            try:
                start = int(resource_version)
            except ValueError:
                start = -1
        try:
            watch = self.store.watch(self.prefix, start)
        except Compacted as exc:
            await response.write(orjson.dumps(_expired(exc.requested, exc.oldest)) + b"\n")
            return response
        try:
            if initial:
                await response.write(b"".join(self._encode("ADDED", o) for o in initial))
            await self._pump(response, watch, start)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            watch.close()
        return response

    async def _pump(self, response: web.StreamResponse, watch: Any, revision: int) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        events = aiter(watch)
        last = revision
        stop_task: asyncio.Task[Any] | None = None
        if self.stopping is not None:
            stop_task = asyncio.ensure_future(self.stopping.wait())
        try:
            while True:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    if self.bookmarks:  # the newest revision to resume from, as the watch ends
                        await response.write(self._bookmark(max(last, 0)))
                    return
                wait = min(remaining, BOOKMARK_INTERVAL) if self.bookmarks else remaining
                nxt = asyncio.ensure_future(anext(events))
                waiters: set[asyncio.Future[Any]] = {nxt}
                if stop_task is not None:
                    waiters.add(stop_task)
                done, _ = await asyncio.wait(waiters, timeout=wait,
                                             return_when=asyncio.FIRST_COMPLETED)
                if nxt not in done:
                    nxt.cancel()
                    with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                        await nxt
                    if stop_task is not None and stop_task.done():
                        return
                    if self.bookmarks and loop.time() < deadline:  # else the final one
                        await response.write(self._bookmark(max(last, 0)))
                    continue
                try:
                    event: Event = nxt.result()
                except StopAsyncIteration:
                    return
                except Compacted as exc:
                    await response.write(orjson.dumps(_expired(exc.requested, exc.oldest)) + b"\n")
                    return
                last = event.revision
                kind = classify(event, self.match)
                if kind is not None:
                    await response.write(self._encode(kind, event.obj))
        finally:
            if stop_task is not None:
                stop_task.cancel()
