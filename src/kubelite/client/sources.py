"""What a node component reads from informers: the cache surface of an informer.

:class:`~kubelite.client.informer.Informer` follows it, and so does the in-memory
``kubelite.testing.fake_informer.FakeSource`` that tests feed directly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from kubelite.api.meta import JSON


class Source(Protocol):
    """A synced cache of objects with change handlers."""

    def list(self) -> list[JSON]: ...

    def add_handlers(self, on_add: Callable[[JSON], None] | None = None,
                     on_update: Callable[[JSON, JSON], None] | None = None,
                     on_delete: Callable[[JSON], None] | None = None) -> None: ...

    async def wait_synced(self, timeout: float | None = None) -> None: ...  # noqa: ASYNC109


class EmptySource:
    """A synced source with no objects, for a kind this build does not serve."""

    def list(self) -> list[JSON]:
        return []

    def add_handlers(self, on_add: Callable[[JSON], None] | None = None,
                     on_update: Callable[[JSON, JSON], None] | None = None,
                     on_delete: Callable[[JSON], None] | None = None) -> None:
        return None

    async def wait_synced(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        return None
