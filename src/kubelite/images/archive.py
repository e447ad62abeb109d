"""Import image archives: OCI image layouts in a tar (``skopeo copy ... oci-archive:``,
``docker save`` since Docker 25) and ``docker save`` archives (``manifest.json``).

Blocking: run in a worker thread. Every blob is hashed while it is copied into the store
and must match its name; layers are unpacked and checked against the config's diff ids.
An archive may be plain, gzip or zstd compressed.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
import tarfile
from pathlib import Path
from typing import IO, Any

import orjson
import zstandard

from kubelite.images import manifest as mf
from kubelite.images.errors import ArchiveError, ImageError
from kubelite.images.reference import parse
from kubelite.images.store import ContentStore, ImageRecord, LayerRecord
from kubelite.images.unpack import GZIP_MAGIC, ZSTD_MAGIC, compression_of, unpack_layer

REF_NAME = "org.opencontainers.image.ref.name"
CONTAINERD_NAME = "io.containerd.image.name"


def import_archive(store: ContentStore, path: Path, name: str | None = None
                   ) -> list[ImageRecord]:
    """Import every image in the archive at ``path``; ``name`` names an image whose archive
    gives only a tag (or nothing). Returns the records stored."""
    if not path.is_file():
        raise ArchiveError(f"{path}: no such file")
    plain = path
    scratch: Path | None = None
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
            if magic == ZSTD_MAGIC or magic.startswith(GZIP_MAGIC):
                # decompressed once to a scratch file: members are read in any order
                scratch = store.temp_file()
                f.seek(0)
                with open(scratch, "wb") as out:
                    if magic == ZSTD_MAGIC:
                        zstandard.ZstdDecompressor().copy_stream(f, out)
                    else:
                        with gzip.GzipFile(fileobj=f) as gz:
                            shutil.copyfileobj(gz, out, 1 << 20)
                plain = scratch
        try:
            tar = tarfile.open(plain, "r:*")
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise ArchiveError(f"{path}: not an image archive: {exc}") from exc
        with tar:
            names = set(tar.getnames())
            members = {n.removeprefix("./"): n for n in names}
            if "oci-layout" in members and "index.json" in members:
                return _import_oci(store, tar, members, path, name)
            if "manifest.json" in members:
                return _import_docker(store, tar, members, path, name)
            raise ArchiveError(f"{path}: neither an OCI archive (oci-layout, index.json) nor "
                               f"a docker archive (manifest.json)")
    except (tarfile.TarError, EOFError, zstandard.ZstdError, gzip.BadGzipFile) as exc:
        raise ArchiveError(f"{path}: damaged archive: {exc}") from exc
    finally:
        if scratch is not None:
            scratch.unlink(missing_ok=True)


def _read(tar: tarfile.TarFile, members: dict[str, str], name: str, path: Path) -> bytes:
    f = _open(tar, members, name, path)
    with f:
        return f.read()


def _open(tar: tarfile.TarFile, members: dict[str, str], name: str, path: Path) -> IO[bytes]:
    real = members.get(name.removeprefix("./"))
    f = tar.extractfile(real) if real else None
    if f is None:
        raise ArchiveError(f"{path}: {name} is missing from the archive")
    return f


def _copy_blob(store: ContentStore, src: IO[bytes], want: str | None, path: Path
               ) -> tuple[str, int]:
    """Copy a member into the store, hashing; ``want`` is the digest it must have."""
    tmp = store.temp_file()
    h = hashlib.sha256()
    size = 0
    try:
        with open(tmp, "wb") as out:
            while chunk := src.read(1 << 20):
                h.update(chunk)
                size += len(chunk)
                out.write(chunk)
        digest = "sha256:" + h.hexdigest()
        if want and digest != want:
            raise ArchiveError(f"{path}: blob {want} has content {digest}")
        store.commit_blob(tmp, digest)
        return digest, size
    finally:
        tmp.unlink(missing_ok=True)


def _blob(store: ContentStore, tar: tarfile.TarFile, members: dict[str, str],
          desc: mf.Descriptor, path: Path) -> bytes | None:
    """Store the blob ``desc`` from ``blobs/sha256/<hex>``; returns small blobs' bytes."""
    if not store.has_blob(desc.digest):
        member = "blobs/" + desc.digest.replace(":", "/")
        with _open(tar, members, member, path) as f:
            _, size = _copy_blob(store, f, desc.digest, path)
        if size != desc.size:
            store.blob_path(desc.digest).unlink(missing_ok=True)
            raise ArchiveError(f"{path}: blob {desc.digest} is {size} bytes, "
                               f"expected {desc.size}")
    return store.read_blob(desc.digest) if desc.size < (4 << 20) else None


def _unpack(store: ContentStore, blob: str, diff_id: str) -> None:
    if store.has_layer(diff_id):
        return
    tmp = store.temp_dir()
    try:
        unpack_layer(store.blob_path(blob), tmp, diff_id)
        store.commit_layer(tmp, diff_id)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _name_for(annotations: dict[str, str], name: str | None) -> str | None:
    """A full reference from an index entry's annotations (or ``name`` for a bare tag)."""
    full = annotations.get(CONTAINERD_NAME)
    ref = annotations.get(REF_NAME, "")
    if not full and ref:
        if "/" in ref or ":" in ref or "@" in ref:
            full = ref
        elif name:
            full = f"{str(parse(name)).rsplit(':', 1)[0]}:{ref}" if ":" in name else (
                f"{name}:{ref}")
    full = full or name
    return str(parse(full)) if full else None


def _import_oci(store: ContentStore, tar: tarfile.TarFile, members: dict[str, str],
                path: Path, name: str | None) -> list[ImageRecord]:
    index = orjson.loads(_read(tar, members, "index.json", path))
    out: list[ImageRecord] = []
    for entry in (mf.Descriptor.from_json(d) for d in index.get("manifests") or ()):
        ref = _name_for(entry.annotations, name)
        raw = _blob(store, tar, members, entry, path) or b""
        mt = mf.sniff_media_type(raw, entry.media_type)
        extra: tuple[str, ...] = ()
        top = entry.digest
        if mt in mf.INDEX_TYPES:
            chosen = mf.select_platform(raw)
            extra = (entry.digest,)
            raw = _blob(store, tar, members, chosen, path) or b""
            mt = mf.sniff_media_type(raw, chosen.media_type)
            entry = chosen
        m = mf.Manifest.parse(raw, mt)
        rec = _store_image(store, tar, members, path, m, entry.digest, len(raw), extra)
        refs = [ref] if ref else []
        if ref:
            refs.append(f"{parse(ref).name}@{top}")
        store.add_image(rec, refs)
        out.append(rec)
    if not out:
        raise ArchiveError(f"{path}: the OCI index lists no images")
    return out


def _store_image(store: ContentStore, tar: tarfile.TarFile, members: dict[str, str],
                 path: Path, m: mf.Manifest, manifest_digest: str, manifest_size: int,
                 extra: tuple[str, ...]) -> ImageRecord:
    config_raw = _blob(store, tar, members, m.config, path)
    if config_raw is None:
        raise ArchiveError(f"{path}: image config {m.config.digest} is too large")
    config = mf.ImageConfig.parse(config_raw)
    if len(config.diff_ids) != len(m.layers):
        raise ArchiveError(f"{path}: {len(m.layers)} layers but {len(config.diff_ids)} "
                           f"diff ids in the config")
    for layer, diff_id in zip(m.layers, config.diff_ids, strict=True):
        _blob(store, tar, members, layer, path)
        _unpack(store, layer.digest, diff_id)
    return ImageRecord(
        id=m.config.digest, manifest_digest=manifest_digest, manifest_media_type=m.media_type,
        layers=tuple(LayerRecord(d.digest, i, d.size, d.media_type)
                     for d, i in zip(m.layers, config.diff_ids, strict=True)),
        size=manifest_size + m.config.size + sum(d.size for d in m.layers),
        extra_blobs=extra)


_LAYER_TYPES = {"gzip": mf.DOCKER_LAYER_GZIP, "zstd": mf.OCI_LAYER_ZSTD,
                "none": "application/vnd.docker.image.rootfs.diff.tar"}


def _import_docker(store: ContentStore, tar: tarfile.TarFile, members: dict[str, str],
                   path: Path, name: str | None) -> list[ImageRecord]:
    entries: Any = orjson.loads(_read(tar, members, "manifest.json", path))
    if not isinstance(entries, list) or not entries:
        raise ArchiveError(f"{path}: manifest.json lists no images")
    out: list[ImageRecord] = []
    for e in entries:
        try:
            config_name, layer_names = str(e["Config"]), [str(x) for x in e["Layers"]]
        except (KeyError, TypeError) as exc:
            raise ArchiveError(f"{path}: malformed manifest.json entry: {exc}") from exc
        with _open(tar, members, config_name, path) as f:
            config_digest, config_size = _copy_blob(store, f, None, path)
        config = mf.ImageConfig.parse(store.read_blob(config_digest))
        if len(config.diff_ids) != len(layer_names):
            raise ArchiveError(f"{path}: {len(layer_names)} layers but "
                               f"{len(config.diff_ids)} diff ids in {config_name}")
        layers: list[dict[str, Any]] = []
        for layer_name, diff_id in zip(layer_names, config.diff_ids, strict=True):
            with _open(tar, members, layer_name, path) as f:
                digest, size = _copy_blob(store, f, None, path)
            media_type = _LAYER_TYPES[compression_of(store.blob_path(digest))]
            _unpack(store, digest, diff_id)
            layers.append({"mediaType": media_type, "digest": digest, "size": size})
        manifest = orjson.dumps({
            "schemaVersion": 2, "mediaType": mf.DOCKER_MANIFEST,
            "config": {"mediaType": mf.DOCKER_CONFIG, "digest": config_digest,
                       "size": config_size},
            "layers": layers})
        manifest_digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
        store.write_blob(manifest, manifest_digest)
        rec = ImageRecord(
            id=config_digest, manifest_digest=manifest_digest,
            manifest_media_type=mf.DOCKER_MANIFEST,
            layers=tuple(LayerRecord(x["digest"], i, x["size"], x["mediaType"])
                         for x, i in zip(layers, config.diff_ids, strict=True)),
            size=len(manifest) + config_size + sum(x["size"] for x in layers))
        tags = [str(t) for t in e.get("RepoTags") or ()]
        if not tags and name:
            tags = [name]
        try:
            refs = [str(parse(t)) for t in tags]
        except ImageError as exc:
            raise ArchiveError(f"{path}: bad tag in manifest.json: {exc}") from exc
        store.add_image(rec, refs)
        out.append(rec)
    return out
