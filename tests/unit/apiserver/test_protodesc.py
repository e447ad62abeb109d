"""Descriptor extraction from executables, merging across kubectl versions, the cache."""

from __future__ import annotations

import gzip
import os
import stat
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2

from kubelite.apiserver.protobuf import protodesc
from kubelite.apiserver.protobuf.protodesc import KubectlDescriptors, NoDescriptors


def fake_file(name: str, package: str, messages: list[str]) -> bytes:
    fd = descriptor_pb2.FileDescriptorProto(name=name, package=package, syntax="proto2")
    fd.dependency.append("github.com/gogo/protobuf/gogoproto/gogo.proto")
    for m in messages:
        fd.message_type.add(name=m)
    return fd.SerializeToString()


def go_gzip(data: bytes) -> bytes:
    """gzip as Go writes it: no name, zero mtime (the header kubectl's members have)."""
    return gzip.compress(data, mtime=0)


def fake_binary(path: Path, *members: bytes) -> Path:
    junk = os.urandom(4096)
    path.write_bytes(junk + b"".join(go_gzip(m) + junk for m in members)
                     + b"\x1f\x8b\x08\x00\x00\x00\x00\x00 not gzip")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def names(file_set: bytes) -> dict[str, descriptor_pb2.FileDescriptorProto]:
    return {f.name: f for f in descriptor_pb2.FileDescriptorSet.FromString(file_set).file}


def test_extract_keeps_k8s_files_only(tmp_path: Path) -> None:
    binary = fake_binary(
        tmp_path / "kubectl",
        fake_file("k8s.io/api/core/v1/generated.proto", "k8s.io.api.core.v1", ["Pod"]),
        fake_file("github.com/other/thing.proto", "other", ["X"]),
        b"plain text that is not a descriptor",
    )
    files = protodesc.extract(binary.read_bytes())
    assert [f.name for f in files] == ["k8s.io/api/core/v1/generated.proto"]


def test_merge_prefers_richer_files_and_canonical_names(tmp_path: Path) -> None:
    new = [descriptor_pb2.FileDescriptorProto.FromString(fake_file(
        "k8s.io/api/core/v1/generated.proto", "k8s.io.api.core.v1", ["Pod", "Node"]))]
    old = [descriptor_pb2.FileDescriptorProto.FromString(fake_file(
        "k8s.io/kubernetes/vendor/k8s.io/api/core/v1/generated.proto", "k8s.io.api.core.v1",
        ["Pod"])),
        descriptor_pb2.FileDescriptorProto.FromString(fake_file(
            "k8s.io/kubernetes/vendor/k8s.io/api/old/v1/generated.proto", "k8s.io.api.old.v1",
            ["Gone"]))]
    merged = names(protodesc.merge([old, new]))
    assert sorted(merged) == ["k8s.io/api/core/v1/generated.proto",
                              "k8s.io/api/old/v1/generated.proto"]
    core = merged["k8s.io/api/core/v1/generated.proto"]
    assert [m.name for m in core.message_type] == ["Pod", "Node"]
    assert list(core.dependency) == []  # gogo.proto is not in the set: dropped


def test_cache_is_keyed_by_path_size_and_mtime(tmp_path: Path) -> None:
    binary = fake_binary(tmp_path / "kubectl", fake_file(
        "k8s.io/api/core/v1/generated.proto", "k8s.io.api.core.v1", ["Pod"]))
    cache = tmp_path / "data" / "proto-descriptors.bin"
    source = KubectlDescriptors(cache, binaries=lambda: [binary])
    first = source.load()
    assert "k8s.io/api/core/v1/generated.proto" in names(first)
    assert cache.exists()

    # same size and mtime: the cache answers, the binary is not read again (a rescan
    # would find nothing in these zeros)
    st = binary.stat()
    binary.write_bytes(bytes(st.st_size))
    os.utime(binary, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert source.load() == first

    # a new kubectl (new mtime): rescanned
    fake_binary(binary, fake_file("k8s.io/api/core/v1/generated.proto",
                                  "k8s.io.api.core.v1", ["Pod", "Node"]))
    os.utime(binary, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    core = names(source.load())["k8s.io/api/core/v1/generated.proto"]
    assert [m.name for m in core.message_type] == ["Pod", "Node"]


def test_damaged_cache_is_rebuilt(tmp_path: Path) -> None:
    binary = fake_binary(tmp_path / "kubectl", fake_file(
        "k8s.io/api/core/v1/generated.proto", "k8s.io.api.core.v1", ["Pod"]))
    cache = tmp_path / "proto-descriptors.bin"
    source = KubectlDescriptors(cache, binaries=lambda: [binary])
    good = source.load()
    cache.write_bytes(cache.read_bytes()[:-1])  # cut short: the last field is incomplete
    assert source.load() == good


def test_no_kubectl_means_no_descriptors(tmp_path: Path) -> None:
    with pytest.raises(NoDescriptors, match="no kubectl found"):
        KubectlDescriptors(tmp_path / "c.bin", binaries=lambda: []).load()
    assert protodesc.kubectl_binaries(path=str(tmp_path)) == []


def test_kubectl_binaries_lists_versioned_siblings_newest_first(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    for name in ("kubectl", "kubectl.1.27", "kubectl.1.33", "kubectl.1.9", "kubectl.bak"):
        (real / name).write_bytes(b"")
        (real / name).chmod(0o755)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "kubectl").symlink_to(real / "kubectl")
    found = protodesc.kubectl_binaries(path=str(bindir))
    assert [p.name for p in found] == ["kubectl", "kubectl.1.33", "kubectl.1.27",
                                       "kubectl.1.9"]
