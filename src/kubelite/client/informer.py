"""Informer: a local cache of one resource kept current by list + watch.

Contract: after :meth:`Informer.wait_synced`, :meth:`Informer.get` and
:meth:`Informer.list` reflect everything the server had at the first list, and every
later change is applied in resourceVersion order. Handlers run on the loop, in event
order, and must not block (they usually enqueue a key). A watch that ends is resumed
from the last resourceVersion seen; a 410 Expired (or any error) leads to a fresh
list, whose difference with the cache is delivered as add/update/delete.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from kubelite.aio import tasks as aiotasks
from kubelite.api import scheme
from kubelite.api.errors import StatusError
from kubelite.api.meta import JSON
from kubelite.client.errors import ClientError
from kubelite.client.rest import ApiClient

log = logging.getLogger(__name__)


def object_key(obj: JSON) -> str:
    """``namespace/name`` (or ``name`` for cluster-scoped objects), as client-go keys."""
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{ns}/{meta.get('name')}" if ns else str(meta.get("name"))


@dataclass
class Handlers:
    on_add: Callable[[JSON], None] | None = None
    on_update: Callable[[JSON, JSON], None] | None = None
    on_delete: Callable[[JSON], None] | None = None


class Informer:
    """List + watch of ``res`` (optionally one namespace, label and field selector)."""

    def __init__(self, client: ApiClient, res: scheme.Resource, namespace: str | None = None,
                 *, label_selector: str | None = None, field_selector: str | None = None,
                 retry_delay: float = 1.0) -> None:
        self.client = client
        self.res = res
        self.namespace = namespace
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.retry_delay = retry_delay
        self.cache: dict[str, JSON] = {}
        self.resource_version = ""
        self._handlers: list[Handlers] = []
        self._synced = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def add_handlers(self, on_add: Callable[[JSON], None] | None = None,
                     on_update: Callable[[JSON, JSON], None] | None = None,
                     on_delete: Callable[[JSON], None] | None = None) -> None:
        """Register handlers; objects already cached are delivered to ``on_add`` now."""
        h = Handlers(on_add, on_update, on_delete)
        self._handlers.append(h)
        if on_add is not None:
            for obj in list(self.cache.values()):
                on_add(obj)

    def get(self, key: str) -> JSON | None:
        return self.cache.get(key)

    def list(self) -> list[JSON]:
        return list(self.cache.values())

    @property
    def synced(self) -> bool:
        return self._synced.is_set()

    async def wait_synced(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        await asyncio.wait_for(self._synced.wait(), timeout)

    def start(self) -> None:
        if self._task is None:
            self._task = aiotasks.guarded(self.run(), f"informer-{self.res.plural}")

    async def stop(self) -> None:
        await aiotasks.stop([self._task])
        self._task = None

    # -- the loop ------------------------------------------------------------------------

    async def run(self) -> None:
        relist = True
        while True:
            try:
                if relist:
                    await self._list()
                    relist = False
                await self._watch()
            except StatusError as exc:
                if exc.code == 410:
                    log.debug("%s watch expired; re-listing", self.res.plural)
                else:
                    log.warning("%s informer: %s", self.res.plural, exc.message)
                    await asyncio.sleep(self.retry_delay)
                relist = True
            except ClientError as exc:
                log.debug("%s informer: %s", self.res.plural, exc)
                await asyncio.sleep(self.retry_delay)
                relist = True

    async def _list(self) -> None:
        result = await self.client.list(self.res, self.namespace,
                                        label_selector=self.label_selector,
                                        field_selector=self.field_selector)
        fresh = {object_key(o): o for o in result.get("items") or []}
        kind = self.res.kind
        for o in fresh.values():
            o.setdefault("apiVersion", self.res.api_version)
            o.setdefault("kind", kind)
        old = self.cache
        self.cache = fresh
        self.resource_version = str((result.get("metadata") or {}).get("resourceVersion") or "")
        for key, obj in old.items():
            if key not in fresh:
                self._fire_delete(obj)
        for key, obj in fresh.items():
            before = old.get(key)
            if before is None:
                self._fire_add(obj)
            elif _rv(before) != _rv(obj):
                self._fire_update(before, obj)
        self._synced.set()

    async def _watch(self) -> None:
        async for ev in self.client.watch(self.res, self.namespace,
                                          resource_version=self.resource_version,
                                          label_selector=self.label_selector,
                                          field_selector=self.field_selector,
                                          timeout_seconds=300):
            obj = ev.object
            rv = _rv(obj)
            if rv:
                self.resource_version = rv
            if ev.type == "BOOKMARK":
                continue
            key = object_key(obj)
            if ev.type == "DELETED":
                gone = self.cache.pop(key, None)
                self._fire_delete(gone or obj)
            else:
                before = self.cache.get(key)
                self.cache[key] = obj
                if before is None:
                    self._fire_add(obj)
                else:
                    self._fire_update(before, obj)

    def _fire_add(self, obj: JSON) -> None:
        for h in self._handlers:
            if h.on_add:
                _safe(h.on_add, obj)

    def _fire_update(self, old: JSON, new: JSON) -> None:
        for h in self._handlers:
            if h.on_update:
                _safe(h.on_update, old, new)

    def _fire_delete(self, obj: JSON) -> None:
        for h in self._handlers:
            if h.on_delete:
                _safe(h.on_delete, obj)


def _rv(obj: JSON) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")


def _safe(fn: Callable[..., None], *args: JSON) -> None:
    try:
        fn(*args)
    except Exception:  # a handler's bug must not stop the informer
        log.exception("informer handler failed")
