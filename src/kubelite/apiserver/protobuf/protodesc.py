"""Kubernetes' protobuf schemas, read out of the kubectl binaries on this machine.

Every kubectl registers the descriptor of each ``k8s.io/.../generated.proto`` it was built
with, as a gzip member inside the executable. :func:`extract` finds those members and keeps
the ``k8s.io/`` files; :class:`KubectlDescriptors` does that for the kubectl on ``PATH`` and
its versioned siblings (``kubectl.1.27`` ... beside its real location) and caches the result,
keyed by each binary's path, size and modification time.

Contracts: the result is a serialized ``google.protobuf.FileDescriptorSet`` whose files
import only each other (the gogo-protobuf import is dropped: its options stay on fields as
unknown extensions, which :mod:`kubelite.apiserver.protobuf.protobuf` reads). When several
binaries carry the same file, the largest descriptor wins: later Kubernetes releases only add
fields and messages.
Everything here blocks (it reads files of tens of megabytes): call it from a thread.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import zlib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from google.protobuf import descriptor_pb2
from google.protobuf.message import DecodeError

# A gzip header as Go's compress/gzip writes it: deflate, no flags, no mtime.
GZIP_MAGIC = b"\x1f\x8b\x08\x00\x00\x00\x00\x00"
K8S_PREFIX = "k8s.io/"
CACHE_FORMAT = b"kubelite-proto-descriptors 1\n"
_MAX_MEMBER = 8 * 1024 * 1024  # far above the largest descriptor (core/v1, ~75 KB)
_VERSIONED = re.compile(r"^kubectl\.(\d+)\.(\d+)$")


class NoDescriptors(Exception):
    """No kubectl binary with Kubernetes protobuf descriptors was found."""


def kubectl_binaries(path: str | None = None) -> list[Path]:
    """The kubectl on ``PATH`` (resolved) and its ``kubectl.1.NN`` siblings, newest first."""
    found = shutil.which("kubectl", path=path)
    if found is None:
        return []
    real = Path(found).resolve()
    siblings: list[tuple[tuple[int, int], Path]] = []
    try:
        entries = list(real.parent.iterdir())
    except OSError:
        entries = []
    for entry in entries:
        m = _VERSIONED.match(entry.name)
        if m and entry.is_file() and os.access(entry, os.X_OK):
            siblings.append(((int(m.group(1)), int(m.group(2))), entry))
    siblings.sort(reverse=True)
    return [real, *(p for _, p in siblings if p.resolve() != real)]


def extract(data: bytes) -> list[descriptor_pb2.FileDescriptorProto]:
    """The ``k8s.io/`` file descriptors embedded (gzipped) in an executable's bytes."""
    files: list[descriptor_pb2.FileDescriptorProto] = []
    at = data.find(GZIP_MAGIC)
    while at >= 0:
        raw = _gunzip(data, at)
        if raw is not None and raw[:1] == b"\x0a":  # field 1 (name) comes first
            try:
                fd = descriptor_pb2.FileDescriptorProto.FromString(raw)
            except DecodeError:
                fd = None
            if fd is not None and fd.name.startswith(K8S_PREFIX) and fd.package:
                files.append(fd)
        at = data.find(GZIP_MAGIC, at + 1)
    return files


def _gunzip(data: bytes, at: int) -> bytes | None:
    stream = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = stream.decompress(data[at:at + _MAX_MEMBER], _MAX_MEMBER)
    except zlib.error:
        return None
    return out if stream.eof else None


def canonical_name(name: str) -> str:
    """``k8s.io/kubernetes/vendor/k8s.io/api/...`` (kubectl <= 1.29) as ``k8s.io/api/...``."""
    return name[name.rfind(K8S_PREFIX):] if K8S_PREFIX in name else name


def merge(sets: Iterable[Sequence[descriptor_pb2.FileDescriptorProto]]) -> bytes:
    """One FileDescriptorSet from several binaries' files: per file, the largest wins.

    Files are named canonically (:func:`canonical_name`) whichever binary they came from.
    Imports of files outside the set (gogo.proto) are dropped so that the set is closed.
    """
    best: dict[str, tuple[int, descriptor_pb2.FileDescriptorProto]] = {}
    for files in sets:
        for fd in files:
            fd = _canonical(fd)
            size = fd.ByteSize()
            if fd.name not in best or size > best[fd.name][0]:
                best[fd.name] = (size, fd)
    out = descriptor_pb2.FileDescriptorSet()
    for name in sorted(best):
        fd = out.file.add()
        fd.CopyFrom(best[name][1])
        kept = [d for d in fd.dependency if d in best]
        del fd.dependency[:]
        fd.dependency.extend(kept)
    return out.SerializeToString()


def _canonical(fd: descriptor_pb2.FileDescriptorProto) -> descriptor_pb2.FileDescriptorProto:
    copy = descriptor_pb2.FileDescriptorProto()
    copy.CopyFrom(fd)
    copy.name = canonical_name(fd.name)
    deps = [canonical_name(d) for d in fd.dependency]
    del copy.dependency[:]
    copy.dependency.extend(deps)
    del copy.public_dependency[:]
    del copy.weak_dependency[:]
    return copy


class KubectlDescriptors:
    """A descriptor source: the kubectl binaries' schemas, cached in one file.

    ``load()`` returns a serialized FileDescriptorSet or raises :class:`NoDescriptors`.
    The cache (when a path is given) is rewritten whenever the set of binaries, their
    sizes or their modification times change; a damaged cache is ignored and rebuilt.
    """

    def __init__(self, cache: Path | None = None,
                 binaries: Callable[[], list[Path]] = kubectl_binaries) -> None:
        self.cache = cache
        self.binaries = binaries

    def load(self) -> bytes:
        paths = self.binaries()
        key = self._key(paths)
        cached = self._read_cache(key)
        if cached is not None:
            return cached
        sets = []
        for path in paths:
            try:
                sets.append(extract(path.read_bytes()))
            except OSError:
                continue
        if not any(sets):
            raise NoDescriptors("no kubectl found to read the schema from")
        file_set = merge(sets)
        self._write_cache(key, file_set)
        return file_set

    @staticmethod
    def _key(paths: Sequence[Path]) -> bytes:
        entries = []
        for p in paths:
            try:
                st = p.stat()
            except OSError:
                continue
            entries.append([str(p), st.st_size, st.st_mtime_ns])
        return json.dumps(entries, separators=(",", ":")).encode() + b"\n"

    def _read_cache(self, key: bytes) -> bytes | None:
        if self.cache is None:
            return None
        try:
            data = self.cache.read_bytes()
        except OSError:
            return None
        head = CACHE_FORMAT + key
        if not data.startswith(head) or key == b"[]\n":
            return None
        body = data[len(head):]
        try:
            descriptor_pb2.FileDescriptorSet.FromString(body)
        except DecodeError:
            return None
        return body

    def _write_cache(self, key: bytes, file_set: bytes) -> None:
        if self.cache is None:
            return
        try:
            self.cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.cache.with_name(self.cache.name + ".tmp")
            tmp.write_bytes(CACHE_FORMAT + key + file_set)
            tmp.replace(self.cache)
        except OSError:
            pass  # a cache we cannot write only costs the next start a rescan
