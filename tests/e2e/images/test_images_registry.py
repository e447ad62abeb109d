"""The real test images, pulled through a k3s-style mirror from Debian's docker-registry,
and imported from OCI and docker archives without any registry."""

from __future__ import annotations

import asyncio
import gzip
import os
import shutil
import stat
import subprocess
import tarfile
from pathlib import Path

import orjson
import pytest

from kubelite.cli.main import main as cli
from kubelite.images import ImageNotFound, ImageService, RegistryConfig, import_folder
from kubelite.images.image import Image
from kubelite.testing.registry import TEST_IMAGES, TestRegistry

pytestmark = pytest.mark.root


def layer_members(reg: TestRegistry, layout_tag: str) -> list[tarfile.TarInfo]:
    """The members of the (single) layer of a test image, read from the OCI layout."""
    layout = reg.oci_layout
    index = orjson.loads((layout / "index.json").read_bytes())
    entry = next(m for m in index["manifests"]
                 if m["annotations"]["org.opencontainers.image.ref.name"] == layout_tag)
    manifest = orjson.loads((layout / "blobs/sha256" / entry["digest"][7:]).read_bytes())
    (layer,) = manifest["layers"]
    with gzip.open(layout / "blobs/sha256" / layer["digest"][7:]) as f, \
            tarfile.open(fileobj=f, mode="r|") as tar:
        return list(tar)


def assert_matches(root: Path, members: list[tarfile.TarInfo]) -> None:
    """Every tar member is in ``root`` with its type, mode, owner, size and link target."""
    names = set()
    for m in members:
        name = m.name.removeprefix("./").rstrip("/")
        if not name:
            continue
        names.add(name)
        st = os.lstat(root / name)
        assert stat.S_IMODE(st.st_mode) == m.mode, name
        assert (st.st_uid, st.st_gid) == (m.uid, m.gid), name
        if m.isdir():
            assert stat.S_ISDIR(st.st_mode), name
        elif m.issym():
            assert os.readlink(root / name) == m.linkname, name
        elif m.islnk():
            assert st.st_ino == os.lstat(root / m.linkname).st_ino, name
        else:
            assert stat.S_ISREG(st.st_mode) and st.st_size == m.size, name
    on_disk = {str(p.relative_to(root)) for p in root.rglob("*")}
    assert on_disk == names


async def run(*cmd: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(subprocess.run, list(cmd), capture_output=True, text=True,
                                   check=check)


def service(reg: TestRegistry, data: Path) -> ImageService:
    return ImageService(data, reg.registries_yaml)


async def test_pull_every_test_image_through_the_mirror(image_registry: TestRegistry,
                                                        tmp_path: Path) -> None:
    async with service(image_registry, tmp_path) as svc:
        for ref, (layout_tag, _repo) in TEST_IMAGES.items():
            img = await svc.pull(ref)
            assert img.digest == image_registry.digests[ref]  # verified, as served
            assert img.repo_tags == (ref,)
            (layer,) = img.layer_dirs
            assert_matches(layer, layer_members(image_registry, layout_tag))
        assert svc.store.fsck() == []

        nginx = await svc.status("nginx")
        assert nginx is not None
        assert nginx.config.cmd == ("nginx", "-g", "daemon off;")
        assert nginx.config.exposed_ports == ("80/tcp",)
        assert nginx.config.stop_signal == "SIGQUIT"
        root = nginx.layer_dirs[0]
        assert os.readlink(root / "var/log/nginx/access.log") == "/dev/stdout"
        assert os.readlink(root / "bin") == "usr/bin"
        hello = await svc.status("gcr.io/google-samples/hello-app:2.0")
        assert hello is not None and hello.config.env[-1] == "PORT=8080"
        # the unpacked root filesystems work: run their binaries in a chroot
        ubuntu = await svc.status("ubuntu")
        assert ubuntu is not None
        out = await run("chroot", str(ubuntu.layer_dirs[0]), "/bin/bash", "-c",
                        "echo $((6*7)) | grep -c 42")
        assert out.stdout.strip() == "1", out.stderr
        cgi = await run("chroot", str(hello.layer_dirs[0]), "/www/cgi-bin/index.cgi")
        assert "Version: 2.0.0" in cgi.stdout


async def test_pull_of_a_missing_image_says_not_found(image_registry: TestRegistry,
                                                      tmp_path: Path) -> None:
    cfg = RegistryConfig.load(image_registry.registries_yaml)
    local = RegistryConfig(cfg.mirrors, cfg.configs, default_endpoint=False)
    async with ImageService(tmp_path, local) as svc:
        with pytest.raises(ImageNotFound, match="nope:latest not found"):
            await svc.pull("library/nope")


async def test_import_oci_and_docker_archives_without_a_registry(
        image_registry: TestRegistry, tmp_path: Path) -> None:
    oci_archive = image_registry.archives / "hello-app-2.0.tar"
    docker_archive = tmp_path / "busybox-docker.tar"
    await run("skopeo", "copy", "-q", f"oci:{image_registry.oci_layout}:busybox-latest",
              f"docker-archive:{docker_archive}:docker.io/library/busybox:latest", check=True)
    offline = RegistryConfig.from_dict({"mirrors": {"*": {"endpoint": ["http://127.0.0.1:9"]}},
                                        "default_endpoint": False})
    async with ImageService(tmp_path / "data", offline) as svc:
        (hello,) = await svc.import_archive(oci_archive)
        assert hello.repo_tags == ("gcr.io/google-samples/hello-app:2.0",)
        (busybox,) = await svc.import_archive(docker_archive)
        assert busybox.repo_tags == ("docker.io/library/busybox:latest",)
        assert busybox.repo_digests == ()
        for img, tag in ((hello, "hello-app-2.0"), (busybox, "busybox-latest")):
            assert_matches(img.layer_dirs[0], layer_members(image_registry, tag))
        # runs later without any registry
        got = await svc.status("busybox")
        assert isinstance(got, Image)
        out = await run("chroot", str(got.layer_dirs[0]), "/bin/sh", "-c", "echo hi")
        assert out.stdout == "hi\n"
        assert svc.store.fsck() == []

    # a folder of archives imported at start, once
    folder = tmp_path / "airgap"
    folder.mkdir()
    (folder / "hello.tar.gz").write_bytes(gzip.compress(oci_archive.read_bytes()))
    shutil.copy(docker_archive, folder / "busybox.tar")
    (folder / "notes.txt").write_text("ignored")
    async with ImageService(tmp_path / "data2", offline) as svc:
        first = await import_folder(svc, folder)
        assert sorted(i.name for i in first) == [
            "docker.io/library/busybox:latest", "gcr.io/google-samples/hello-app:2.0"]
        assert await import_folder(svc, folder) == []  # unchanged files are not re-read
        assert len(await svc.list()) == 2


def test_cli_pull_ls_rm_import(image_registry: TestRegistry, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    base = ["images", "--data-dir", str(tmp_path), "--registries",
            str(image_registry.registries_yaml)]
    assert cli([*base, "pull", "busybox"]) == 0
    assert "docker.io/library/busybox:latest: pulled sha256:" in capsys.readouterr().out
    assert cli([*base, "import", str(image_registry.archives / "nginx-latest.tar")]) == 0
    capsys.readouterr()
    assert cli([*base, "ls"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["IMAGE", "TAG", "IMAGE", "ID", "SIZE"]
    assert sorted(line.split()[0] for line in out[1:]) == [
        "docker.io/library/busybox", "docker.io/library/nginx"]
    assert cli([*base, "rm", "busybox", "nginx"]) == 0
    assert cli([*base, "ls", "-q"]) == 0
    assert capsys.readouterr().out.strip().endswith("Deleted: nginx")
    assert cli([*base, "rm", "busybox"]) == 1
    assert "not found" in capsys.readouterr().err
