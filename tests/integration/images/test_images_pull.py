"""Pulls from a fake registry on 127.0.0.1: content, auth, faults, coalescing, removal."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

from kubelite.images import (
    AuthError,
    Credentials,
    DigestMismatch,
    ImageInUse,
    ImageNotFound,
    ImageService,
    RegistryConfig,
    RegistryUnavailable,
    Timeouts,
)
from kubelite.testing.fake_registry import DOCKER_MANIFEST, Entry, FakeRegistry, layer_tar

pytestmark = pytest.mark.root

BASE = layer_tar([
    Entry("bin", "dir", mode=0o755),
    Entry("bin/tool", data=b"#!/bin/sh\necho tool\n", mode=0o755),
    Entry("bin/link", "symlink", target="tool", mode=0o777),
    Entry("bin/hard", "hardlink", target="bin/tool"),
    Entry("bin/su", data=b"x" * 3000, mode=0o4755),
    Entry("etc", "dir", mode=0o755),
    Entry("etc/passwd", data=b"root:x:0:0::/root:/bin/sh\n", mode=0o644),
    Entry("etc/gone", data=b"deleted in the next layer"),
    Entry("etc/olddir", "dir", mode=0o755),
    Entry("etc/olddir/file", data=b"old"),
    Entry("opaque", "dir", mode=0o750),
    Entry("opaque/old", data=b"hidden by the opaque marker"),
    Entry("home/app", "dir", mode=0o700, uid=101, gid=101),
    Entry("home/app/data", data=b"owned", mode=0o600, uid=101, gid=101),
])
TOP = layer_tar([
    Entry("etc", "dir", mode=0o755),
    Entry("etc/.wh.gone"),
    Entry("etc/.wh.olddir"),
    Entry("etc/added", data=b"new", mode=0o640),
    Entry("opaque", "dir", mode=0o750),
    Entry("opaque/.wh..wh..opq"),
    Entry("opaque/new", data=b"visible"),
])
CONFIG = {"Entrypoint": ["/bin/tool"], "Cmd": ["--help"], "Env": ["PATH=/bin", "A=1"],
          "WorkingDir": "/home/app", "User": "101:101", "ExposedPorts": {"8080/tcp": {}},
          "Labels": {"org.example": "yes"}, "StopSignal": "SIGTERM"}


@pytest.fixture
async def registry() -> AsyncIterator[FakeRegistry]:
    reg = FakeRegistry(stall=2.0)
    reg.add_image("library/app", "v1", [BASE, TOP], ["gzip", "zstd"], CONFIG)
    await reg.start()
    try:
        yield reg
    finally:
        await reg.stop()


def service(reg: FakeRegistry, data: Path, **kw: object) -> ImageService:
    timeouts = Timeouts(connect=2, read=0.5, attempts=2)
    return ImageService(data, RegistryConfig.from_dict(reg.registries()),
                        timeouts=timeouts, **kw)  # type: ignore[arg-type]


def assert_consistent(svc: ImageService) -> None:
    assert svc.store.fsck() == []
    assert list(svc.store.tmp_dir.iterdir()) == [] or all(
        p.name.startswith("index-") is False for p in svc.store.tmp_dir.iterdir())


async def test_pull_unpacks_layers_as_overlayfs_expects(registry: FakeRegistry,
                                                        tmp_path: Path) -> None:
    async with service(registry, tmp_path) as svc:
        img = await svc.pull("app:v1")
        assert img.repo_tags == ("docker.io/library/app:v1",)
        c = img.config
        assert (c.entrypoint, c.cmd, c.env) == (("/bin/tool",), ("--help",), ("PATH=/bin", "A=1"))
        assert (c.working_dir, c.user, c.exposed_ports) == ("/home/app", "101:101", ("8080/tcp",))
        assert (c.labels, c.stop_signal) == ({"org.example": "yes"}, "SIGTERM")
        base, top = img.layer_dirs
        # files, modes, owners, symlinks, hard links
        assert (base / "etc/passwd").read_bytes() == b"root:x:0:0::/root:/bin/sh\n"
        assert stat.S_IMODE((base / "bin/tool").stat().st_mode) == 0o755
        assert stat.S_IMODE((base / "bin/su").stat().st_mode) == 0o4755
        assert os.readlink(base / "bin/link") == "tool"
        assert (base / "bin/hard").stat().st_ino == (base / "bin/tool").stat().st_ino
        st = (base / "home/app/data").stat()
        assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (101, 101, 0o600)
        assert stat.S_IMODE((base / "opaque").stat().st_mode) == 0o750
        # whiteouts: character devices 0/0; opaque: trusted.overlay.opaque=y
        for name in ("etc/gone", "etc/olddir"):
            wst = os.lstat(top / name)
            assert stat.S_ISCHR(wst.st_mode) and wst.st_rdev == os.makedev(0, 0), name
        assert not list(top.rglob(".wh.*"))
        assert os.getxattr(top / "opaque", "trusted.overlay.opaque") == b"y"
        assert (top / "opaque/new").read_bytes() == b"visible"
        assert stat.S_IMODE((top / "etc/added").stat().st_mode) == 0o640
        assert img.lowerdir == f"{top}:{base}"
        # the merged view, as the runtime will mount it
        merged = tmp_path / "merged"
        merged.mkdir()
        mount = ["mount", "-t", "overlay", "overlay", "-o", f"lowerdir={img.lowerdir}",
                 str(merged)]
        rc = (await asyncio.to_thread(subprocess.run, mount, check=False)).returncode
        if rc == 0:
            try:
                assert sorted(p.name for p in (merged / "etc").iterdir()) == ["added", "passwd"]
                assert sorted(p.name for p in (merged / "opaque").iterdir()) == ["new"]
                assert (merged / "bin/link").read_bytes().startswith(b"#!/bin/sh")
            finally:
                await asyncio.to_thread(subprocess.run, ["umount", str(merged)], check=True)
        assert await svc.status("docker.io/library/app:v1") == img
        assert await svc.status(img.id) == img
        assert svc.store.fsck() == []


async def test_docker_schema2_and_manifest_list(tmp_path: Path) -> None:
    reg = FakeRegistry()
    amd = reg.add_image("library/multi", "amd", [BASE], config={"Cmd": ["amd64"]})
    arm = reg.add_image("library/multi", "arm", [TOP], config={"Cmd": ["arm64"]},
                        architecture="arm64")
    idx = reg.add_index("library/multi", "latest", [
        (arm, {"os": "linux", "architecture": "arm64", "variant": "v8"}),
        (amd, {"os": "linux", "architecture": "amd64"})])
    reg.add_image("library/d2", "latest", [BASE], media_type=DOCKER_MANIFEST)
    await reg.start()
    try:
        async with ImageService(tmp_path, RegistryConfig.from_dict(reg.registries()),
                                platform=("linux", "amd64", None)) as svc:
            img = await svc.pull("multi")
            assert img.config.cmd == ("amd64",)
            assert img.digest == idx  # the repo digest is the index's
            assert img.repo_digests == (f"docker.io/library/multi@{idx}",)
            assert reg.blob_gets[arm.layers[0][1]] == 0  # the other platform is not fetched
            d2 = await svc.pull("d2")
            assert (d2.layer_dirs[0] / "etc/passwd").exists()
            assert d2.layer_dirs == img.layer_dirs  # same layer, stored once
            by_digest = await svc.pull(f"multi@{idx}")
            assert by_digest.id == img.id
    finally:
        await reg.stop()


async def test_bearer_token_and_basic_auth(registry: FakeRegistry, tmp_path: Path) -> None:
    registry.auth = "bearer"
    registry.username = ""
    async with service(registry, tmp_path / "a") as svc:
        assert (await svc.pull("app:v1")).repo_tags
    registry.auth = "basic"
    registry.username = "user"
    async with service(registry, tmp_path / "b") as svc:
        with pytest.raises(AuthError, match="username and password"):
            await svc.pull("app:v1")
        with pytest.raises(AuthError):
            await svc.pull("app:v1", auth=Credentials("user", "wrong"))
        img = await svc.pull("app:v1", auth=Credentials("user", "secret"))
        assert img.config.user == "101:101"
        assert svc.store.fsck() == []
    # credentials from registries.yaml, keyed by the endpoint host
    doc = registry.registries()
    doc["configs"] = {registry.host: {"auth": {"username": "user", "password": "secret"}}}
    async with ImageService(tmp_path / "c", RegistryConfig.from_dict(doc)) as svc:
        assert (await svc.pull("app:v1")).repo_tags


async def expect_clean_failure(svc: ImageService, exc: type[Exception], match: str) -> None:
    with pytest.raises(exc, match=match):
        await svc.pull("app:v1")
    assert await svc.status("app:v1") is None
    assert svc.store.fsck() == []
    assert list(svc.store.layer_dir.iterdir()) == [] or all(
        svc.store.has_layer("sha256:" + p.name) for p in svc.store.layer_dir.iterdir())
    leftovers = [p.name for p in svc.store.tmp_dir.iterdir()]
    assert leftovers == [], leftovers


@pytest.mark.parametrize(
    ("fault", "target", "exc", "match"),
    [
        ("corrupt", "layer1", DigestMismatch, "corrupted"),
        ("truncate", "layer0", RegistryUnavailable, "cut short|ended after"),
        ("stall", "layer1", RegistryUnavailable, "timed out"),
        ("404", "manifest", ImageNotFound, "not found"),
        ("wrong-digest", "manifest", DigestMismatch, "registry says"),
        ("stall", "manifest", RegistryUnavailable, "timed out"),
    ],
)
async def test_faults_give_clear_errors_and_leave_nothing_corrupt(
        registry: FakeRegistry, tmp_path: Path, fault: str, target: str,
        exc: type[Exception], match: str) -> None:
    manifest = orjson.loads(registry.manifests[("library/app", "v1")][0])
    key = {"layer0": manifest["layers"][0]["digest"], "layer1": manifest["layers"][1]["digest"],
           "manifest": "library/app:v1"}[target]
    registry.faults[key] = fault
    async with service(registry, tmp_path) as svc:
        await expect_clean_failure(svc, exc, match)
        registry.faults.clear()
        img = await svc.pull("app:v1")  # a later good pull succeeds
        assert (img.layer_dirs[1] / "opaque/new").read_bytes() == b"visible"
        assert svc.store.fsck() == []


async def test_401_without_token_endpoint(registry: FakeRegistry, tmp_path: Path) -> None:
    registry.auth = "401-no-challenge"
    async with service(registry, tmp_path) as svc:
        await expect_clean_failure(svc, AuthError, "without a token endpoint")
        registry.auth = ""
        assert (await svc.pull("app:v1")).repo_tags


async def test_unreachable_registry(tmp_path: Path) -> None:
    cfg = RegistryConfig.from_dict({"mirrors": {"docker.io": {"endpoint": ["http://127.0.0.1:9"]}},
                                    "default_endpoint": False})
    async with ImageService(tmp_path, cfg) as svc:
        with pytest.raises(RegistryUnavailable, match=r"cannot reach http://127.0.0.1:9"):
            await svc.pull("app:v1")


async def test_mirror_falls_back_to_next_endpoint(registry: FakeRegistry, tmp_path: Path) -> None:
    cfg = RegistryConfig.from_dict({"mirrors": {"docker.io": {
        "endpoint": ["http://127.0.0.1:9", registry.url],
        "rewrite": {"^mirrored/(.*)": "library/$1"}}}, "default_endpoint": False})
    async with ImageService(tmp_path, cfg) as svc:
        img = await svc.pull("mirrored/app:v1")
        assert img.repo_tags == ("docker.io/mirrored/app:v1",)


async def test_concurrent_pulls_download_each_blob_once(registry: FakeRegistry,
                                                       tmp_path: Path) -> None:
    registry.chunk_delay = 0.01
    async with service(registry, tmp_path) as svc:
        manifest = orjson.loads(registry.manifests[("library/app", "v1")][0])
        digest = "sha256:" + __import__("hashlib").sha256(
            registry.manifests[("library/app", "v1")][0]).hexdigest()
        a, b, c = await asyncio.gather(svc.pull("app:v1"), svc.pull("docker.io/library/app:v1"),
                                       svc.pull(f"app@{digest}"))
        assert a.id == b.id == c.id
        assert await svc.status(f"app:v1@{digest}") == a
        assert await svc.status(f"docker.io/library/app@{digest}") == a
        for layer in manifest["layers"]:
            assert registry.blob_gets[layer["digest"]] == 1
        assert registry.blob_gets[manifest["config"]["digest"]] == 1
        # pulling again asks only for the manifest
        await svc.pull("app:v1")
        assert sum(registry.blob_gets.values()) == 3


async def test_remove_counts_references(registry: FakeRegistry, tmp_path: Path) -> None:
    registry.add_image("library/other", "v1", [BASE], config={"Cmd": ["other"]})
    in_use: set[str] = set()
    async with service(registry, tmp_path, in_use=lambda: in_use) as svc:
        app = await svc.pull("app:v1")
        other = await svc.pull("other:v1")
        base_dir, top_dir = app.layer_dirs
        assert other.layer_dirs == (base_dir,)
        in_use.add(app.id)
        with pytest.raises(ImageInUse, match="used by a container"):
            await svc.remove("app:v1")
        await svc.pull("app:v1")
        in_use.clear()
        await svc.remove("app:v1")  # the last tag: the image goes, with its digest ref
        assert await svc.status("app:v1") is None
        assert not top_dir.exists()  # only app used it
        assert base_dir.exists()  # other still uses it
        assert svc.store.fsck() == []
        await svc.remove("other:v1")
        assert not base_dir.exists()
        assert list(svc.store.blob_dir.iterdir()) == []
        assert svc.store.refs() == {}
        with pytest.raises(ImageNotFound):
            await svc.remove("other:v1")


async def test_a_transfer_cut_short_resumes_with_a_range_request(registry: FakeRegistry,
                                                                 tmp_path: Path) -> None:
    manifest = orjson.loads(registry.manifests[("library/app", "v1")][0])
    layer = manifest["layers"][0]
    registry.faults[layer["digest"]] = "truncate-once"
    async with service(registry, tmp_path) as svc:
        img = await svc.pull("app:v1")
        assert (img.layer_dirs[0] / "etc/passwd").exists()
        assert registry.blob_gets[layer["digest"]] == 2
        ((digest, offset),) = registry.range_gets
        assert digest == layer["digest"] and 0 < offset < layer["size"]
        assert svc.store.fsck() == []
