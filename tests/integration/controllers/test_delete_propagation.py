"""The API server's part of cascading deletion: the finalizers a propagationPolicy puts
on the owner, without a garbage collector running."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelite.api.errors import StatusError
from kubelite.client.resources import CONFIGMAPS
from kubelite.testing.inprocess import InProcessAPI


def cm(name: str) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "default"}}


async def test_policies_set_finalizers(tmp_path: Path) -> None:
    async with InProcessAPI(tmp_path) as api:
        c = api.client()
        for name, policy, finalizer in (("o", "Orphan", "orphan"),
                                        ("f", "Foreground", "foregroundDeletion")):
            await c.create(CONFIGMAPS, cm(name))
            out = await c.delete(CONFIGMAPS, name, "default", propagation_policy=policy)
            assert out["metadata"]["finalizers"] == [finalizer]
            assert out["metadata"]["deletionTimestamp"]
            assert (await c.get(CONFIGMAPS, name, "default"))["metadata"]["finalizers"] == \
                [finalizer]
        # a later Background deletion drops the garbage collector's finalizer: gone
        await c.delete(CONFIGMAPS, "o", "default", propagation_policy="Background")
        with pytest.raises(StatusError) as exc:
            await c.get(CONFIGMAPS, "o", "default")
        assert exc.value.code == 404
        # Background and the default delete at once
        for name, policy in (("b", "Background"), ("d", None)):
            await c.create(CONFIGMAPS, cm(name))
            await c.delete(CONFIGMAPS, name, "default", propagation_policy=policy)
            with pytest.raises(StatusError):
                await c.get(CONFIGMAPS, name, "default")


async def test_unsupported_policy_is_invalid(tmp_path: Path) -> None:
    async with InProcessAPI(tmp_path) as api:
        c = api.client()
        await c.create(CONFIGMAPS, cm("x"))
        with pytest.raises(StatusError) as exc:
            await c.delete(CONFIGMAPS, "x", "default", propagation_policy="Sideways")
        assert exc.value.code == 422
        assert 'Unsupported value: "Sideways"' in exc.value.message
        assert (await c.get(CONFIGMAPS, "x", "default"))["metadata"]["name"] == "x"
