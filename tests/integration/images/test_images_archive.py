"""Archive import error paths, with archives built in the test."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import orjson
import pytest

from kubelite.images import ArchiveError, ImageService, RegistryConfig
from kubelite.testing.fake_registry import Entry, digest_of, layer_tar

OFFLINE = RegistryConfig.from_dict({"mirrors": {"*": {"endpoint": ["http://127.0.0.1:9"]}},
                                    "default_endpoint": False})


def write_tar(path: Path, members: dict[str, bytes]) -> None:
    with tarfile.open(path, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def oci_archive(path: Path, ref_name: str, tamper: bool = False) -> str:
    layer = layer_tar([Entry("hello.txt", data=b"hi\n")])
    config = orjson.dumps({"architecture": "amd64", "os": "linux",
                           "config": {"Cmd": ["cat", "/hello.txt"]},
                           "rootfs": {"type": "layers", "diff_ids": [digest_of(layer)]}})
    manifest = orjson.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": digest_of(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": digest_of(layer), "size": len(layer)}]})
    index = orjson.dumps({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": digest_of(manifest), "size": len(manifest),
        "annotations": {"org.opencontainers.image.ref.name": ref_name}}]})
    blobs = {f"blobs/sha256/{digest_of(b)[7:]}": b for b in (layer, config, manifest)}
    if tamper:
        blobs[f"blobs/sha256/{digest_of(layer)[7:]}"] = layer.replace(b"hi\n", b"ho\n")
    write_tar(path, {"oci-layout": b'{"imageLayoutVersion":"1.0.0"}', "index.json": index,
                     **blobs})
    return digest_of(manifest)


async def test_oci_archive_with_a_bare_tag_takes_the_given_name(tmp_path: Path) -> None:
    archive = tmp_path / "img.tar"
    manifest_digest = oci_archive(archive, "v1")
    async with ImageService(tmp_path / "data", OFFLINE) as svc:
        (img,) = await svc.import_archive(archive, "example.com/team/app")
        assert img.repo_tags == ("example.com/team/app:v1",)
        assert img.repo_digests == (f"example.com/team/app@{manifest_digest}",)
        assert (img.layer_dirs[0] / "hello.txt").read_bytes() == b"hi\n"
        assert img.config.cmd == ("cat", "/hello.txt")


async def test_bad_archives_are_refused_and_leave_nothing(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar at all" * 100)
    other = tmp_path / "other.tar"
    write_tar(other, {"README": b"hello"})
    tampered = tmp_path / "tampered.tar"
    oci_archive(tampered, "example.com/app:v1", tamper=True)
    async with ImageService(tmp_path / "data", OFFLINE) as svc:
        with pytest.raises(ArchiveError, match="not an image archive"):
            await svc.import_archive(junk)
        with pytest.raises(ArchiveError, match="neither an OCI archive"):
            await svc.import_archive(other)
        with pytest.raises(ArchiveError, match="has content sha256:"):
            await svc.import_archive(tampered)
        with pytest.raises(ArchiveError, match="no such file"):
            await svc.import_archive(tmp_path / "missing.tar")
        assert await svc.list() == []
        assert svc.store.fsck() == []
        assert list(svc.store.tmp_dir.iterdir()) == []
