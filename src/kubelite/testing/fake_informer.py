"""An in-memory informer for node components' tests (the proxy's and DNS's sources).

Contract: the same reading surface as :class:`kubelite.client.informer.Informer`
(``list``, ``get``, ``add_handlers``, ``wait_synced``); :meth:`FakeSource.put` and
:meth:`FakeSource.delete` change the cache and call the handlers at once, in order, as
a watch event would. It is synced from the start.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from kubelite.api.meta import JSON
from kubelite.client.informer import Handlers, object_key


class FakeSource:
    """A cache of objects keyed ``namespace/name`` that tests write directly."""

    def __init__(self, objects: Iterable[JSON] = ()) -> None:
        self.cache: dict[str, JSON] = {object_key(o): o for o in objects}
        self._handlers: list[Handlers] = []

    def list(self) -> list[JSON]:
        return list(self.cache.values())

    def get(self, key: str) -> JSON | None:
        return self.cache.get(key)

    def add_handlers(self, on_add: Callable[[JSON], None] | None = None,
                     on_update: Callable[[JSON, JSON], None] | None = None,
                     on_delete: Callable[[JSON], None] | None = None) -> None:
        self._handlers.append(Handlers(on_add, on_update, on_delete))
        if on_add is not None:
            for obj in list(self.cache.values()):
                on_add(obj)

    async def wait_synced(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        return None

    def put(self, obj: JSON) -> None:
        """Add or replace ``obj``, as an ADDED or MODIFIED watch event."""
        key = object_key(obj)
        old = self.cache.get(key)
        self.cache[key] = obj
        for h in self._handlers:
            if old is None and h.on_add is not None:
                h.on_add(obj)
            elif old is not None and h.on_update is not None:
                h.on_update(old, obj)

    def delete(self, key: str) -> None:
        """Remove the object at ``key`` (if any), as a DELETED watch event."""
        old = self.cache.pop(key, None)
        if old is None:
            return
        for h in self._handlers:
            if h.on_delete is not None:
                h.on_delete(old)
