"""Unpack one layer blob into a directory in the form overlayfs expects.

Blocking: call it from a worker thread. The caller gives an empty scratch directory and
renames it into place only after this returns, so a crash never leaves a half layer in use.

Contract: the blob may be a plain, gzip or zstd tar (sniffed by its magic bytes); the
uncompressed stream must hash to ``diff_id`` when one is given. Whiteout files ``.wh.NAME``
become character devices 0/0 named ``NAME``; an opaque marker ``.wh..wh..opq`` becomes the
xattr ``trusted.overlay.opaque=y`` on its directory. Owners, modes, mtimes, symlinks, hard
links, devices and xattrs are kept (GNU tar does the extraction).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import zstandard

from kubelite.images.errors import LayerError

CHUNK = 1 << 20
WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def compression_of(path: Path) -> str:
    """``gzip``, ``zstd`` or ``none``, from the file's first bytes."""
    with open(path, "rb") as f:
        head = f.read(4)
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head == ZSTD_MAGIC:
        return "zstd"
    return "none"


def _gunzip(f: BinaryIO) -> Iterator[bytes]:
    d = zlib.decompressobj(wbits=31)
    fresh = True  # no byte of the current member seen yet
    while True:
        chunk = f.read(CHUNK)
        if not chunk:
            break
        while chunk:
            fresh = False
            yield d.decompress(chunk)
            if d.eof:  # concatenated gzip members
                chunk = d.unused_data
                d = zlib.decompressobj(wbits=31)
                fresh = True
            else:
                chunk = b""
    tail = d.flush()
    if tail:
        yield tail
    if not fresh and not d.eof:
        raise zlib.error("truncated gzip stream")


def _unzstd(f: BinaryIO) -> Iterator[bytes]:
    dctx = zstandard.ZstdDecompressor()
    d = dctx.decompressobj()
    fresh = True
    while True:
        chunk = f.read(CHUNK)
        if not chunk:
            break
        while chunk:
            fresh = False
            yield d.decompress(chunk)
            if d.eof:  # concatenated frames
                chunk = d.unused_data
                d = dctx.decompressobj()
                fresh = True
            else:
                chunk = b""
    if not fresh and not d.eof:
        raise zstandard.ZstdError("truncated zstd stream")


def _plain(f: BinaryIO) -> Iterator[bytes]:
    while True:
        chunk = f.read(CHUNK)
        if not chunk:
            return
        yield chunk


def iter_uncompressed(path: Path) -> Iterator[bytes]:
    """The layer's tar stream, decompressed."""
    kind = compression_of(path)
    with open(path, "rb") as f:
        gen = {"gzip": _gunzip, "zstd": _unzstd, "none": _plain}[kind](f)
        try:
            yield from gen
        except (zlib.error, zstandard.ZstdError) as exc:
            raise LayerError(f"layer {path.name}: bad {kind} data: {exc}") from exc


def unpack_layer(blob: Path, dest: Path, diff_id: str | None) -> tuple[str, int]:
    """Extract ``blob`` into the existing empty directory ``dest``.

    Returns (diff id, uncompressed size). Raises :class:`LayerError` on a bad archive or a
    diff id mismatch; ``dest`` is then left for the caller to delete.
    """
    cmd = ["tar", "-x", "-f", "-", "-C", str(dest), "--numeric-owner", "--xattrs",
           "--xattrs-include=*"]
    cmd += ["--same-owner", "-p"] if os.geteuid() == 0 else ["--no-same-owner"]
    h = hashlib.sha256()
    size = 0
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    assert proc.stdin is not None and proc.stderr is not None
    broken = False
    try:
        for chunk in iter_uncompressed(blob):
            h.update(chunk)
            size += len(chunk)
            if not broken:
                try:
                    proc.stdin.write(chunk)
                except BrokenPipeError:
                    broken = True
    finally:
        try:
            proc.stdin.close()
        except BrokenPipeError:
            pass
        err = proc.stderr.read().decode(errors="replace").strip()
        code = proc.wait()
    if code != 0 or broken:
        raise LayerError(f"layer {blob.name}: tar failed ({code}): {err[-500:]}")
    got = "sha256:" + h.hexdigest()
    if diff_id and got != diff_id:
        raise LayerError(f"layer {blob.name}: uncompressed content is {got}, "
                         f"the image config says {diff_id}")
    convert_whiteouts(dest)
    return got, size


def convert_whiteouts(root: Path) -> int:
    """Turn OCI whiteout files under ``root`` into overlayfs whiteouts; return how many."""
    count = 0
    for dirpath, dirnames, filenames in os.walk(root):
        names = [n for n in (*filenames, *dirnames) if n.startswith(WHITEOUT_PREFIX)]
        for name in names:
            path = os.path.join(dirpath, name)
            if name == OPAQUE_MARKER:
                os.unlink(path)
                _set_opaque(dirpath)
            else:
                target = os.path.join(dirpath, name[len(WHITEOUT_PREFIX):])
                _remove(path)
                _remove(target)
                try:
                    os.mknod(target, stat.S_IFCHR | 0o000, os.makedev(0, 0))
                except PermissionError as exc:
                    raise LayerError(
                        f"cannot create the whiteout {target}: needs root (CAP_MKNOD)"
                    ) from exc
            count += 1
        dirnames[:] = [d for d in dirnames if not d.startswith(WHITEOUT_PREFIX)]
    return count


def _set_opaque(directory: str) -> None:
    try:
        os.setxattr(directory, "trusted.overlay.opaque", b"y", follow_symlinks=False)
    except PermissionError as exc:
        raise LayerError(f"cannot mark {directory} opaque: needs root (trusted xattrs)") from exc


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)
