"""Unused image collection, as the kubelet's image garbage collector.

When the filesystem holding the images is fuller than ``imageGCHighThresholdPercent``,
images no container uses are removed, least recently used first, until usage would be
back under ``imageGCLowThresholdPercent``. An image must have gone unused for
``min_age`` (2 minutes, as upstream) before it may go. Level-based: a pass re-reads the
runtime and the store; running it twice is harmless.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from kubelite.images.image import Image
from kubelite.runtime.protocol import ContainerRuntime

log = logging.getLogger(__name__)
DiskUsage = Callable[[], tuple[int, int]]  # (used bytes, total bytes)


class ImageStoreLike(Protocol):
    async def list(self) -> list[Image]: ...

    async def remove(self, ref: str) -> None: ...


@dataclass
class ImageGCPolicy:
    high_percent: int = 85
    low_percent: int = 80
    min_age: float = 120.0


class ImageGC:
    """One collector per node; call :meth:`collect` periodically (the kubelet: 5 min)."""

    def __init__(self, images: ImageStoreLike, runtime: ContainerRuntime, usage: DiskUsage,
                 policy: ImageGCPolicy, clock: Callable[[], float] = time.monotonic) -> None:
        self.images = images
        self.runtime = runtime
        self.usage = usage
        self.policy = policy
        self.clock = clock
        self._last_used: dict[str, float] = {}  # image id -> when last seen in use

    async def collect(self) -> list[str]:
        """One pass: the names of the images removed (none when below the threshold)."""
        now = self.clock()
        in_use = {c.image_id for c in await self.runtime.list_containers() if c.image_id}
        images = await self.images.list()
        for img in images:
            if img.id in in_use or img.id not in self._last_used:
                self._last_used[img.id] = now
        known = {img.id for img in images}
        for gone in set(self._last_used) - known:
            del self._last_used[gone]
        used, total = self.usage()
        if total <= 0 or used * 100 < self.policy.high_percent * total:
            return []
        to_free = used - self.policy.low_percent * total // 100
        candidates = sorted(
            (img for img in images if img.id not in in_use
             and now - self._last_used[img.id] >= self.policy.min_age),
            key=lambda img: self._last_used[img.id])
        removed: list[str] = []
        for img in candidates:
            if to_free <= 0:
                break
            try:
                await self.images.remove(img.id)
            except Exception as exc:  # one image failing must not stop the pass
                log.warning("image GC: removing %s failed: %s", img.name, exc)
                continue
            removed.append(img.name)
            to_free -= img.size
            self._last_used.pop(img.id, None)
        if removed:
            log.info("image GC removed %s", ", ".join(removed))
        return removed
