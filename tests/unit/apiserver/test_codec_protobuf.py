"""Protobuf request bodies at the codec: schemas loaded once, clear 415s and 400s."""

from __future__ import annotations

import asyncio
import shutil

import pytest

from kubelite.api.errors import StatusError
from kubelite.apiserver import codec
from kubelite.apiserver.protobuf.protodesc import KubectlDescriptors, NoDescriptors

PROTOBUF = "application/vnd.kubernetes.protobuf"
needs_kubectl = pytest.mark.skipif(shutil.which("kubectl") is None,
                                   reason="kubectl is not installed")


def no_kubectl() -> bytes:
    raise NoDescriptors("no kubectl found to read the schema from")


async def test_without_kubectl_protobuf_is_a_415_that_says_why() -> None:
    schemas = codec.ProtobufSchemas(no_kubectl)
    with pytest.raises(StatusError) as info:
        await codec.decode_body(b"k8s\x00", PROTOBUF, schemas)
    assert info.value.code == 415
    assert info.value.reason == "UnsupportedMediaType"
    assert info.value.message.endswith(
        "application/vnd.kubernetes.protobuf is not supported: "
        "no kubectl found to read the schema from")
    with pytest.raises(StatusError) as info:
        await codec.decode_body(b"k8s\x00", PROTOBUF, None)
    assert info.value.code == 415
    # JSON and YAML never need the schemas
    assert await codec.decode_body(b'{"kind": "ConfigMap"}', "application/json",
                                   schemas) == {"kind": "ConfigMap"}
    assert await codec.decode_body(b"kind: Pod\n", "application/yaml", schemas) == {
        "kind": "Pod"}


@needs_kubectl
async def test_schemas_load_once_and_bad_bodies_are_400() -> None:
    calls = 0
    source = KubectlDescriptors()

    def counting() -> bytes:
        nonlocal calls
        calls += 1
        return source.load()

    schemas = codec.ProtobufSchemas(counting)
    first, second = await asyncio.gather(schemas.decoder(), schemas.decoder())
    assert first is second and calls == 1
    with pytest.raises(StatusError) as info:
        await codec.decode_body(b"not protobuf", PROTOBUF + "; charset=utf-8", schemas)
    assert info.value.code == 400
    assert "does not appear to be a protobuf message" in info.value.message
    assert calls == 1
