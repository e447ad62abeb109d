"""The namespace finalizer: empties a Terminating namespace, then lets it go.

kube-controller-manager's namespace controller in small, run inside the API server over
the registry: when a namespace has a deletionTimestamp, every namespaced object in it is
deleted (pods gracefully, so their kubelet finishes them); once nothing is left, the
``kubernetes`` finalizer is removed and the namespace disappears. Level-based: a pass
re-reads everything, so running it twice is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from kubelite.aio import tasks as aiotasks
from kubelite.api import errors, scheme
from kubelite.apiserver.kinds.namespaces import FINALIZER
from kubelite.apiserver.registry import DeleteOptions, Registry
from kubelite.storage.interface import JSON

log = logging.getLogger(__name__)

_NAMESPACES = scheme.lookup("", "v1", "namespaces")
# Resources that share storage with another one are emptied once, through the first.
_CONTENT = [r for r in scheme.RESOURCES if r.namespaced and not r.group == "events.k8s.io"]


class NamespaceFinalizer:
    """Watches namespaces; drains and removes those being deleted."""

    def __init__(self, registry: Registry, interval: float = 1.0) -> None:
        self.registry = registry
        self.interval = interval
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def start(self) -> None:
        self._task = aiotasks.guarded(self._run(), "namespace-finalizer")

    async def stop(self) -> None:
        await aiotasks.stop([self._task])
        self._task = None

    async def _run(self) -> None:
        assert _NAMESPACES is not None
        store = self.registry.store
        watch = store.watch(_NAMESPACES.prefix(None), store.revision)
        waker = aiotasks.guarded(self._wake_on_events(watch), "namespace-finalizer-watch")
        try:
            while True:
                try:
                    await self.sync_all()
                except Exception:  # a worker logs and carries on
                    log.exception("namespace finalizer pass failed")
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.interval)
        finally:
            await aiotasks.stop([waker])
            watch.close()

    async def _wake_on_events(self, watch: object) -> None:
        async for _ in watch:  # type: ignore[attr-defined]
            self._wake.set()

    async def sync_all(self) -> None:
        """One pass over every terminating namespace."""
        assert _NAMESPACES is not None
        listing = await self.registry.list(_NAMESPACES, None)
        for ns in listing.items:
            if ns["metadata"].get("deletionTimestamp"):
                await self.sync(ns)

    async def sync(self, ns: JSON) -> None:
        """Delete the namespace's content; finalize it when empty."""
        assert _NAMESPACES is not None
        name = ns["metadata"]["name"]
        remaining = 0
        for res in _CONTENT:
            listing = await self.registry.list(res, name)
            for obj in listing.items:
                remaining += 1
                if obj["metadata"].get("deletionTimestamp"):
                    continue
                with contextlib.suppress(errors.StatusError):
                    await self.registry.delete(res, name, obj["metadata"]["name"],
                                               DeleteOptions())
        if remaining:
            return

        def finalize(current: JSON) -> JSON:
            spec = current.setdefault("spec", {})
            spec["finalizers"] = [f for f in spec.get("finalizers") or [] if f != FINALIZER]
            return current

        with contextlib.suppress(errors.StatusError):
            await self.registry.guaranteed_update(_NAMESPACES, None, name, finalize)
