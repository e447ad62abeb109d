"""An in-memory ``ImageService`` for tests without a registry.

It behaves like :class:`kubelite.images.ImageService` at the seam: references are
normalised the same way, a pull of an image the fake "registry" does not have raises
:class:`~kubelite.images.ImageNotFound`, errors set with :meth:`FakeImageService.fail`
are raised by the next pulls, and ``pulls`` records every pull in order.
"""

from __future__ import annotations

import asyncio
import builtins
import hashlib
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from kubelite.images.client import Progress
from kubelite.images.errors import ImageError, ImageInUse, ImageNotFound
from kubelite.images.image import Image
from kubelite.images.manifest import ImageConfig
from kubelite.images.reference import parse
from kubelite.images.registries import Credentials

DEFAULT_IMAGES: dict[str, ImageConfig] = {
    "docker.io/library/busybox:latest": ImageConfig(cmd=("sh",)),
    "docker.io/library/nginx:latest": ImageConfig(
        cmd=("nginx", "-g", "daemon off;"), exposed_ports=("80/tcp",), stop_signal="SIGQUIT"),
    "docker.io/library/ubuntu:latest": ImageConfig(cmd=("/bin/bash",)),
    "gcr.io/google-samples/hello-app:2.0": ImageConfig(
        cmd=("/hello-app",), env=("PORT=8080",), exposed_ports=("8080/tcp",)),
}


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


class FakeImageService:
    """Same methods as ``ImageService``; content lives in ``available`` (the registry)."""

    def __init__(self, available: dict[str, ImageConfig] | None = None,
                 pull_delay: float = 0.0,
                 in_use: Iterable[str] | None = None) -> None:
        self.available = {str(parse(k)): v for k, v in (available or DEFAULT_IMAGES).items()}
        self.pull_delay = pull_delay
        self.in_use: set[str] = set(in_use or ())
        self.pulls: list[str] = []
        self.credentials: list[Credentials | None] = []
        self._images: dict[str, Image] = {}
        self._failures: dict[str, list[ImageError]] = {}

    def fail(self, ref: str, error: ImageError, times: int = 1) -> None:
        """Make the next ``times`` pulls of ``ref`` raise ``error``."""
        self._failures.setdefault(str(parse(ref)), []).extend([error] * times)

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def pull(self, ref: str, auth: Credentials | None = None,
                   progress: Progress | None = None) -> Image:
        key = str(parse(ref))
        self.pulls.append(key)
        self.credentials.append(auth)
        if self.pull_delay:
            await asyncio.sleep(self.pull_delay)
        pending = self._failures.get(key)
        if pending:
            raise pending.pop(0)
        config = self.available.get(key)
        if config is None:
            raise ImageNotFound(f'failed to resolve reference "{key}": {key}: not found')
        image = self._images.get(key)
        if image is None:
            name = key.rsplit(":", 1)[0] if "@" not in key else key.split("@")[0]
            repo_digest = _digest("manifest " + key)
            image = Image(id=_digest("config " + key), digest=repo_digest,
                          repo_tags=(key,) if "@" not in key else (),
                          repo_digests=(f"{name}@{repo_digest}",), size=1 << 20,
                          layer_dirs=(Path("/nonexistent/fake-layer") / key,),
                          config=config)
            self._images[key] = image
        if progress is not None:
            progress(image.id, image.size, image.size)
        return image

    async def status(self, ref: str) -> Image | None:
        if ref.startswith("sha256:"):
            return next((i for i in self._images.values() if i.id == ref), None)
        return self._images.get(str(parse(ref)))

    async def list(self) -> builtins.list[Image]:
        return list({i.id: i for i in self._images.values()}.values())

    async def remove(self, ref: str) -> None:
        image = await self.status(ref)
        if image is None:
            raise ImageNotFound(f"image {ref!r} not found")
        if image.id in self.in_use:
            raise ImageInUse(f"image {ref} ({image.id}) is used by a container")
        for k in [k for k, v in self._images.items() if v.id == image.id]:
            del self._images[k]

    def add(self, ref: str, config: ImageConfig | None = None) -> None:
        """Make ``ref`` available in the fake registry."""
        self.available[str(parse(ref))] = config or ImageConfig()

    def preload(self, ref: str) -> None:
        """Put ``ref`` in the store as if pulled earlier (no pull recorded)."""
        key = str(parse(ref))
        self.available.setdefault(key, ImageConfig())
        image = Image(id=_digest("config " + key), digest=None, repo_tags=(key,),
                      repo_digests=(), size=1 << 20, layer_dirs=(),
                      config=self.available[key])
        self._images[key] = replace(image)
