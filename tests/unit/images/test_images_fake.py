import pytest

from kubelite.images import ImageInUse, ImageNotFound, RegistryUnavailable
from kubelite.testing.fake_images import FakeImageService


async def test_fake_pull_status_remove() -> None:
    svc = FakeImageService()
    assert await svc.status("nginx") is None
    img = await svc.pull("nginx")
    assert img.repo_tags == ("docker.io/library/nginx:latest",)
    assert img.config.stop_signal == "SIGQUIT"
    assert await svc.status("docker.io/library/nginx:latest") == img
    assert [i.id for i in await svc.list()] == [img.id]
    with pytest.raises(ImageNotFound, match="not found"):
        await svc.pull("nope")
    svc.fail("busybox", RegistryUnavailable("down"), times=1)
    with pytest.raises(RegistryUnavailable):
        await svc.pull("busybox")
    assert (await svc.pull("busybox")).config.cmd == ("sh",)
    svc.in_use.add(img.id)
    with pytest.raises(ImageInUse):
        await svc.remove("nginx")
    svc.in_use.clear()
    await svc.remove("nginx")
    assert await svc.status("nginx") is None
    assert svc.pulls == ["docker.io/library/nginx:latest", "docker.io/library/nope:latest",
                         "docker.io/library/busybox:latest", "docker.io/library/busybox:latest"]
