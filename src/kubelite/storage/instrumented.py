"""``InstrumentedStore``: any :class:`~kubelite.storage.interface.Store`, timed.

It adds ``etcd_request_duration_seconds{operation,type}`` (the name kube-apiserver gives
its storage calls, whatever the backend) to a registry: ``operation`` is ``create``,
``get``, ``update``, ``delete`` or ``listWithCount``; ``type`` is what ``type_of(key)``
says of the key or prefix (the API server passes the resource's storage prefix).
Failed calls are timed too. Everything else, watches included, passes through
unchanged: the wrapper keeps the Store contract exactly.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Histogram

from kubelite.storage.interface import JSON, ListResult, Store, Watch

BUCKETS = (0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 5.0,
           6.0, 8.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0)


class InstrumentedStore:
    """A Store that times every call of the inner one (see the module docstring)."""

    def __init__(self, inner: Store, registry: CollectorRegistry,
                 type_of: Callable[[str], str]) -> None:
        self.inner = inner
        self.type_of = type_of
        self.latency = Histogram(
            "etcd_request_duration_seconds",
            "Etcd request latency in seconds for each operation and object type.",
            ["operation", "type"], buckets=BUCKETS, registry=registry)

    def _observe(self, operation: str, key: str, start: float) -> None:
        self.latency.labels(operation, self.type_of(key)).observe(time.perf_counter() - start)

    async def start(self) -> None:
        await self.inner.start()

    async def close(self) -> None:
        await self.inner.close()

    @property
    def revision(self) -> int:
        return self.inner.revision

    @property
    def oldest_revision(self) -> int:
        return self.inner.oldest_revision

    async def create(self, key: str, obj: JSON) -> JSON:
        start = time.perf_counter()
        try:
            return await self.inner.create(key, obj)
        finally:
            self._observe("create", key, start)

    async def get(self, key: str) -> JSON | None:
        start = time.perf_counter()
        try:
            return await self.inner.get(key)
        finally:
            self._observe("get", key, start)

    async def update(self, key: str, obj: JSON, expected_revision: int | None = None) -> JSON:
        start = time.perf_counter()
        try:
            return await self.inner.update(key, obj, expected_revision)
        finally:
            self._observe("update", key, start)

    async def delete(self, key: str, expected_revision: int | None = None) -> JSON:
        start = time.perf_counter()
        try:
            return await self.inner.delete(key, expected_revision)
        finally:
            self._observe("delete", key, start)

    async def list(self, prefix: str, *, revision: int = 0, limit: int = 0,
                   start_after: str = "") -> ListResult:
        start = time.perf_counter()
        try:
            return await self.inner.list(prefix, revision=revision, limit=limit,
                                         start_after=start_after)
        finally:
            self._observe("listWithCount", prefix, start)

    def watch(self, prefix: str, from_revision: int) -> Watch:
        return self.inner.watch(prefix, from_revision)
