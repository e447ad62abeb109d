"""The image service contract (pull, status, list, remove as the CRI image service and
kubelite.images.service state it), run against ``FakeImageService`` and, as root, the
real ``ImageService`` pulling from the local test registry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pytest

from kubelite.images import ImageInUse, ImageNotFound
from kubelite.images.client import Progress
from kubelite.images.image import Image
from kubelite.images.registries import Credentials
from kubelite.images.service import ImageService
from kubelite.testing.fake_images import FakeImageService
from kubelite.testing.registry import TestRegistry

BUSYBOX = "docker.io/library/busybox:latest"


class Images(Protocol):
    async def pull(self, ref: str, auth: Credentials | None = None,
                   progress: Progress | None = None) -> Image: ...

    async def status(self, ref: str) -> Image | None: ...

    async def list(self) -> list[Image]: ...

    async def remove(self, ref: str) -> None: ...


@dataclass
class ImagesUnderTest:
    service: Images
    in_use: set[str] = field(default_factory=set)


@pytest.fixture(params=["fake", pytest.param("real", marks=pytest.mark.root)])
async def images(request: pytest.FixtureRequest, tmp_path: Path
                 ) -> AsyncIterator[ImagesUnderTest]:
    used: set[str] = set()
    if request.param == "fake":
        fake = FakeImageService()
        fake.in_use = used
        yield ImagesUnderTest(fake, used)
        return
    registry: TestRegistry = request.getfixturevalue("image_registry")
    real = ImageService(tmp_path, registry.registries_yaml, in_use=lambda: used)
    await real.start()
    try:
        yield ImagesUnderTest(real, used)
    finally:
        await real.close()


async def test_pull_status_list_remove(images: ImagesUnderTest) -> None:
    svc = images.service
    assert await svc.status(BUSYBOX) is None
    image = await svc.pull("busybox")  # normalised as docker.io/library/busybox:latest
    assert image.id.startswith("sha256:")
    assert BUSYBOX in image.repo_tags
    assert image.repo_digests and all("@sha256:" in d for d in image.repo_digests)
    assert image.config.cmd  # the image's Cmd comes with it
    assert await svc.status(BUSYBOX) == image
    assert await svc.status("busybox") == image
    assert await svc.status(image.id) == image  # by image id too
    assert [i.id for i in await svc.list()] == [image.id]
    again = await svc.pull(BUSYBOX)  # pulling again: the same image, listed once
    assert again.id == image.id
    assert [i.id for i in await svc.list()] == [image.id]

    await svc.remove(BUSYBOX)
    assert await svc.status(BUSYBOX) is None
    assert await svc.status(image.id) is None
    assert await svc.list() == []


async def test_missing_images(images: ImagesUnderTest) -> None:
    with pytest.raises(ImageNotFound):
        await images.service.pull("docker.io/library/no-such-image:1")
    with pytest.raises(ImageNotFound):
        await images.service.remove("docker.io/library/no-such-image:1")


async def test_an_image_in_use_is_not_removed(images: ImagesUnderTest) -> None:
    image = await images.service.pull(BUSYBOX)
    images.in_use.add(image.id)
    with pytest.raises(ImageInUse):
        await images.service.remove(BUSYBOX)
    assert await images.service.status(BUSYBOX) == image
    images.in_use.clear()
    await images.service.remove(BUSYBOX)
    assert await images.service.status(BUSYBOX) is None
