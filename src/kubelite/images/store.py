"""The content-addressed image store under one directory.

Layout::

    blobs/sha256/<hex>      manifests, indexes, configs and layer blobs, verified
    layers/sha256/<hex>/    one unpacked layer per diff id (an overlayfs lowerdir)
    tmp/                    downloads and unpacks in progress (emptied on open)
    index.json              images (by config digest) and references -> image id

Invariants: a file under ``blobs/`` always has the digest in its name (written to ``tmp/``,
verified, then renamed); a directory under ``layers/`` is always a complete layer (unpacked
in ``tmp/``, then renamed); ``index.json`` is replaced atomically and names only images whose
blobs and layers are all present. So a process killed at any point leaves a consistent store;
what it leaves behind is at worst complete but unreferenced content, which the next pull
reuses and :meth:`ContentStore.prune` removes once it is old. Blobs and layers are shared
between images and deleted when the last image that references them is removed.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from kubelite.images.errors import ImageError, ImageNotFound
from kubelite.images.reference import validate_digest


@dataclass(frozen=True, slots=True)
class LayerRecord:
    digest: str  # blob digest (compressed)
    diff_id: str  # uncompressed digest: the unpacked directory's key
    size: int  # blob size
    media_type: str


@dataclass(frozen=True, slots=True)
class ImageRecord:
    """One stored image; ``id`` is the config digest (the CRI image id)."""

    id: str
    manifest_digest: str
    manifest_media_type: str
    layers: tuple[LayerRecord, ...]
    size: int  # manifest + config + layer blobs, as CRI reports it
    extra_blobs: tuple[str, ...] = ()  # e.g. the index a pull resolved through

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "manifest_digest": self.manifest_digest,
            "manifest_media_type": self.manifest_media_type, "size": self.size,
            "extra_blobs": list(self.extra_blobs),
            "layers": [{"digest": x.digest, "diff_id": x.diff_id, "size": x.size,
                        "media_type": x.media_type} for x in self.layers],
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ImageRecord:
        return cls(d["id"], d["manifest_digest"], d["manifest_media_type"],
                   tuple(LayerRecord(**x) for x in d["layers"]), int(d["size"]),
                   tuple(d.get("extra_blobs") or ()))

    def blobs(self) -> set[str]:
        return {self.id, self.manifest_digest, *self.extra_blobs,
                *(x.digest for x in self.layers)}


def _hex(digest: str) -> str:
    return validate_digest(digest).split(":", 1)[1]


class ContentStore:
    """Blobs, unpacked layers and the image index under ``root``. Safe across processes
    for index updates (``flock``); blob and layer writes are atomic renames."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.blob_dir = self.root / "blobs" / "sha256"
        self.layer_dir = self.root / "layers" / "sha256"
        self.tmp_dir = self.root / "tmp"
        self.index_path = self.root / "index.json"
        for d in (self.blob_dir, self.layer_dir, self.tmp_dir):
            d.mkdir(parents=True, exist_ok=True)
        self._lock_path = self.root / "index.lock"

    # ---- scratch space -------------------------------------------------------
    def clean_tmp(self) -> None:
        """Drop everything a previous (crashed) process left in ``tmp/``."""
        with self._locked():
            for p in self.tmp_dir.iterdir():
                if p.is_dir() and not p.is_symlink():
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    p.unlink(missing_ok=True)

    def temp_file(self) -> Path:
        return self.tmp_dir / f"blob-{uuid.uuid4().hex}"

    def temp_dir(self) -> Path:
        return Path(tempfile.mkdtemp(prefix="layer-", dir=self.tmp_dir))

    # ---- blobs ---------------------------------------------------------------
    def blob_path(self, digest: str) -> Path:
        return self.blob_dir / _hex(digest)

    def has_blob(self, digest: str) -> bool:
        return self.blob_path(digest).is_file()

    def read_blob(self, digest: str) -> bytes:
        try:
            return self.blob_path(digest).read_bytes()
        except FileNotFoundError as exc:
            raise ImageNotFound(f"blob {digest} is not in the store") from exc

    def commit_blob(self, tmp: Path, digest: str) -> Path:
        """Move a verified temp file into place (a no-op if the blob is already there)."""
        dest = self.blob_path(digest)
        os.replace(tmp, dest)
        return dest

    def write_blob(self, data: bytes, digest: str) -> Path:
        tmp = self.temp_file()
        tmp.write_bytes(data)
        return self.commit_blob(tmp, digest)

    # ---- layers --------------------------------------------------------------
    def layer_path(self, diff_id: str) -> Path:
        return self.layer_dir / _hex(diff_id)

    def has_layer(self, diff_id: str) -> bool:
        return self.layer_path(diff_id).is_dir()

    def commit_layer(self, tmp: Path, diff_id: str) -> Path:
        dest = self.layer_path(diff_id)
        try:
            os.rename(tmp, dest)
        except OSError:
            if not dest.is_dir():
                raise
            shutil.rmtree(tmp, ignore_errors=True)  # another pull got there first
        return dest

    # ---- index ---------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self._lock_path, "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _load(self) -> dict[str, Any]:
        try:
            doc: dict[str, Any] = orjson.loads(self.index_path.read_bytes())
        except FileNotFoundError:
            doc = {}
        except orjson.JSONDecodeError as exc:
            raise ImageError(f"image index {self.index_path} is corrupt: {exc}") from exc
        doc.setdefault("images", {})
        doc.setdefault("refs", {})
        doc.setdefault("imported", {})
        return doc

    def _save(self, doc: dict[str, Any]) -> None:
        tmp = self.tmp_dir / f"index-{uuid.uuid4().hex}.json"
        with open(tmp, "wb") as f:
            f.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.index_path)

    def images(self) -> dict[str, ImageRecord]:
        return {k: ImageRecord.from_json(v) for k, v in self._load()["images"].items()}

    def refs(self) -> dict[str, str]:
        """Reference string (``name:tag`` or ``name@digest``) -> image id."""
        refs: dict[str, str] = self._load()["refs"]
        return refs

    def resolve(self, ref: str) -> ImageRecord | None:
        doc = self._load()
        image_id = doc["refs"].get(ref)
        if image_id is None and ref in doc["images"]:
            image_id = ref
        if image_id is None:
            return None
        rec = doc["images"].get(image_id)
        return ImageRecord.from_json(rec) if rec else None

    def add_image(self, rec: ImageRecord, refs: list[str]) -> None:
        """Record a complete image and point ``refs`` at it (moving them from older images).

        The caller guarantees that every blob and layer of ``rec`` is committed.
        """
        with self._locked():
            doc = self._load()
            doc["images"][rec.id] = rec.to_json()
            for r in refs:
                doc["refs"][r] = rec.id
            self._save(doc)

    def remove_ref(self, ref: str) -> ImageRecord | None:
        """Drop a tag; when it was the image's last tag, or ``ref`` is a digest reference or
        an image id, drop the image with all its references and every blob and layer no
        other image uses. Returns the image if it was deleted."""
        with self._locked():
            doc = self._load()
            image_id = doc["refs"].get(ref) or (ref if ref in doc["images"] else None)
            if image_id is None:
                raise ImageNotFound(f"image {ref!r} not found")
            if not self.deletes_image(doc["refs"], ref, image_id):
                del doc["refs"][ref]
                self._save(doc)
                return None
            for r in [r for r, i in doc["refs"].items() if i == image_id]:
                del doc["refs"][r]
            removed = ImageRecord.from_json(doc["images"].pop(image_id))
            self._save(doc)
            self._release(removed, doc)
            return removed

    @staticmethod
    def deletes_image(refs: dict[str, str], ref: str, image_id: str) -> bool:
        """Whether removing ``ref`` removes the image itself (see :meth:`remove_ref`)."""
        if ref == image_id or "@" in ref:
            return True
        return not any(i == image_id and "@" not in r and r != ref for r, i in refs.items())

    def _release(self, rec: ImageRecord, doc: dict[str, Any]) -> None:
        others = [ImageRecord.from_json(v) for v in doc["images"].values()]
        used_blobs = set().union(*(o.blobs() for o in others)) if others else set()
        used_layers = {x.diff_id for o in others for x in o.layers}
        for digest in rec.blobs() - used_blobs:
            self.blob_path(digest).unlink(missing_ok=True)
        for layer in rec.layers:
            if layer.diff_id not in used_layers:
                self._delete_layer(layer.diff_id)

    def _delete_layer(self, diff_id: str) -> None:
        path = self.layer_path(diff_id)
        if path.is_dir():
            # rename first so a half-deleted layer is never visible under its name
            trash = self.tmp_dir / f"trash-{uuid.uuid4().hex}"
            os.rename(path, trash)
            shutil.rmtree(trash, ignore_errors=True)

    def imported(self) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = self._load()["imported"]
        return out

    def mark_imported(self, key: str, stamp: list[Any]) -> None:
        with self._locked():
            doc = self._load()
            doc["imported"][key] = stamp
            self._save(doc)

    # ---- maintenance ---------------------------------------------------------
    def prune(self, keep: set[str] | None = None, min_age: float = 0.0) -> int:
        """Delete blobs and layers no image references (left by an interrupted pull),
        except the digests in ``keep`` (content of pulls in progress) and content committed
        less than ``min_age`` seconds ago (a retried pull reuses it). Returns the count."""
        keep = keep or set()
        cutoff = time.time() - min_age
        with self._locked():
            recs = [ImageRecord.from_json(v) for v in self._load()["images"].values()]
            kept = {d.split(":", 1)[1] for d in keep}
            blobs = {_hex(d) for r in recs for d in r.blobs()} | kept
            layers = {_hex(x.diff_id) for r in recs for x in r.layers} | kept
            n = 0
            for p in self.blob_dir.iterdir():
                if p.name not in blobs and p.lstat().st_ctime <= cutoff:
                    p.unlink(missing_ok=True)
                    n += 1
            for p in self.layer_dir.iterdir():
                if p.name not in layers and p.lstat().st_ctime <= cutoff:
                    self._delete_layer("sha256:" + p.name)
                    n += 1
            return n

    def fsck(self) -> list[str]:
        """Problems found: references to missing images, images with missing content,
        blobs whose content does not match their name. Empty means consistent."""
        import hashlib

        problems: list[str] = []
        doc = self._load()
        for ref, image_id in doc["refs"].items():
            if image_id not in doc["images"]:
                problems.append(f"reference {ref} points to missing image {image_id}")
        for image_id, raw in doc["images"].items():
            rec = ImageRecord.from_json(raw)
            for d in rec.blobs():
                if not self.has_blob(d):
                    problems.append(f"image {image_id}: blob {d} missing")
            for x in rec.layers:
                if not self.has_layer(x.diff_id):
                    problems.append(f"image {image_id}: layer {x.diff_id} missing")
        for p in self.blob_dir.iterdir():
            h = hashlib.sha256()
            with open(p, "rb") as f:
                while chunk := f.read(1 << 20):
                    h.update(chunk)
            if h.hexdigest() != p.name:
                problems.append(f"blob {p.name} has content sha256:{h.hexdigest()}")
        return problems
