"""Unused images go when the image filesystem is too full; images in use never do."""

from __future__ import annotations

from kubelite.kubelet.image_gc import ImageGC, ImageGCPolicy
from kubelite.runtime.protocol import ContainerConfig, ImageSpec, PodSandboxConfig
from kubelite.testing.fake_images import FakeImageService
from kubelite.testing.fake_runtime import FakeRuntime

MiB = 1 << 20


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def setup(used_mib: int, low: int = 80,
                ) -> tuple[ImageGC, FakeImageService, Clock, dict[str, int]]:
    images = FakeImageService()
    for ref in ("busybox", "nginx", "ubuntu"):
        images.preload(ref)
    runtime = FakeRuntime()
    nginx = await images.status("nginx")
    assert nginx is not None
    sandbox = await runtime.run_pod_sandbox(PodSandboxConfig("web", "default", "uid-1"))
    await runtime.create_container(
        sandbox, ContainerConfig("web", ImageSpec("nginx", (), cmd=("nginx",), image_id=nginx.id)),
        PodSandboxConfig("web", "default", "uid-1"))
    disk = {"used": used_mib * MiB, "total": 100 * MiB}
    clock = Clock()
    gc = ImageGC(images, runtime, lambda: (disk["used"], disk["total"]),
                 ImageGCPolicy(high_percent=85, low_percent=low, min_age=120), clock)
    return gc, images, clock, disk


async def names(images: FakeImageService) -> list[str]:
    return sorted(i.name for i in await images.list())


async def test_nothing_goes_below_the_high_threshold() -> None:
    gc, images, clock, _ = await setup(used_mib=84)
    await gc.collect()
    clock.now += 600
    assert await gc.collect() == []
    assert len(await names(images)) == 3


async def test_above_the_threshold_unused_images_go_oldest_first_until_low() -> None:
    gc, images, clock, _ = await setup(used_mib=90)
    assert await gc.collect() == []  # first sighting: younger than min_age
    clock.now += 600
    removed = await gc.collect()
    # 10 MiB over the low mark, 1 MiB per fake image: both unused images go, nginx stays
    assert sorted(removed) == ["docker.io/library/busybox:latest",
                               "docker.io/library/ubuntu:latest"]
    assert await names(images) == ["docker.io/library/nginx:latest"]


async def test_only_what_is_needed_is_removed() -> None:
    gc, images, clock, _ = await setup(used_mib=85, low=84)  # 1 MiB to free
    await gc.collect()
    clock.now += 600
    removed = await gc.collect()
    assert len(removed) == 1  # one 1 MiB image is enough
    assert len(await names(images)) == 2
    assert "docker.io/library/nginx:latest" in await names(images)
