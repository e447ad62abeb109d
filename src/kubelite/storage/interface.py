"""The storage seam: a revision log of JSON objects by key, with watches.

Contract (what every ``Store`` guarantees, SQLite or etcd):

- Every successful write (create, update, delete) gets a new *revision*, an integer
  strictly greater than every revision before it, store-wide. The object's
  ``metadata.resourceVersion`` is that revision as a decimal string; the store sets it.
- A write is durable once its coroutine returns: a kill -9 right after loses nothing.
- ``update`` and ``delete`` take ``expected_revision``: when given and not equal to the
  key's current revision, they raise :class:`RevisionConflict` and change nothing.
- ``watch(prefix, from_revision)`` yields every change to keys under ``prefix`` with a
  revision greater than ``from_revision``, each exactly once, in revision order. If
  ``from_revision`` is older than the oldest revision still kept (compaction), it raises
  :class:`Compacted` (the API turns that into 410 Gone).
- ``list`` reads a consistent snapshot: the state at one revision (the newest, or a given
  one still in the window), in key order, resumable with ``start_after``.
- Objects a store hands out in ``list`` results and watch events may be shared with the
  store's cache: treat them as read-only (copy before changing). Objects returned by
  ``create``, ``update``, ``delete`` and ``get`` belong to the caller, and a store never
  keeps a reference to an object passed to it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Literal, Protocol

from kubelite.api.meta import JSON as JSON

EventType = Literal["ADDED", "MODIFIED", "DELETED"]


class StorageError(Exception):
    """Base of storage errors."""


class KeyExists(StorageError):
    def __init__(self, key: str) -> None:
        super().__init__(f"key exists: {key}")
        self.key = key


class KeyNotFound(StorageError):
    def __init__(self, key: str) -> None:
        super().__init__(f"key not found: {key}")
        self.key = key


class RevisionConflict(StorageError):
    def __init__(self, key: str, current: int) -> None:
        super().__init__(f"revision conflict on {key}: current revision {current}")
        self.key = key
        self.current = current


class Compacted(StorageError):
    """The asked revision is older than the oldest kept one."""

    def __init__(self, requested: int, oldest: int) -> None:
        super().__init__(f"too old resource version: {requested} ({oldest})")
        self.requested = requested
        self.oldest = oldest


@dataclass(frozen=True)
class Event:
    """One change: ``obj`` is the new state (the last state for DELETED); ``prev`` the one
    before (None for ADDED). Both carry their ``metadata.resourceVersion``; for DELETED,
    ``obj``'s resourceVersion is the deletion's revision."""

    type: EventType
    key: str
    revision: int
    obj: JSON
    prev: JSON | None


@dataclass(frozen=True)
class ListResult:
    items: list[JSON]
    revision: int  # the snapshot's revision
    more: bool  # True when ``limit`` cut the list; continue after items[-1]'s key
    remaining: int  # how many more keys follow (0 when not more)
    last_key: str  # key of the last item returned ("" when none)
    keys: list[str] = field(default_factory=list)  # the key of each item, in order


class Watch(Protocol):
    """An open watch; iterate it for events, close it to stop."""

    def __aiter__(self) -> AsyncIterator[Event]: ...

    def close(self) -> None: ...


class Store(Protocol):
    """A revision log of JSON objects keyed by strings like ``/registry/core/pods/ns/name``."""

    async def start(self) -> None:
        """Open the database, recover, start background work (compaction)."""

    async def close(self) -> None:
        """Stop background work, end open watches, close the database."""

    @property
    def revision(self) -> int:
        """The newest revision written (0 for an empty store)."""

    @property
    def oldest_revision(self) -> int:
        """The oldest revision a watch or list may still start from."""

    async def create(self, key: str, obj: JSON) -> JSON:
        """Store a new object; raise :class:`KeyExists` if the key has a live object."""

    async def get(self, key: str) -> JSON | None:
        """The newest state of ``key``, or None."""

    async def update(self, key: str, obj: JSON, expected_revision: int | None = None) -> JSON:
        """Replace ``key``'s object; :class:`KeyNotFound`, :class:`RevisionConflict`."""

    async def delete(self, key: str, expected_revision: int | None = None) -> JSON:
        """Delete ``key``; return the last state with the deletion's resourceVersion."""

    async def list(
        self,
        prefix: str,
        *,
        revision: int = 0,
        limit: int = 0,
        start_after: str = "",
    ) -> ListResult:
        """Objects under ``prefix`` at ``revision`` (0: newest), keys > ``start_after``."""

    def watch(self, prefix: str, from_revision: int) -> Watch:
        """Changes under ``prefix`` after ``from_revision``; :class:`Compacted` if too old."""
