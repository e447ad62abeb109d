"""FinderLookup: the kubelet's lookup(ns, pod, container) seen as the server's PodLookup."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from kubelite.kubelet.server import ContainerTarget, FinderLookup, PodLookupError, PodTarget
from kubelite.runtime.protocol import ContainerRuntime
from kubelite.testing.fake_runtime import FakeRuntime


@dataclass(frozen=True)
class Found:
    pod_uid: str
    container_id: str
    sandbox_id: str
    log_path: str


class Finder:
    def __init__(self) -> None:
        self.runtime: ContainerRuntime = FakeRuntime()

    async def lookup(self, namespace: str, pod_name: str,
                     container: str | None = None) -> Found | None:
        if (namespace, pod_name) == ("default", "web") and container in (None, "app"):
            return Found("uid1", "c1", "s1", "/logs/app/0.log")
        return None


async def test_finder_lookup_maps_answers_and_errors() -> None:
    lookup = FinderLookup(Finder())
    assert await lookup.container("default", "web", "app") == ContainerTarget(
        "uid1", "s1", "c1", "/logs/app/0.log")
    assert await lookup.pod("default", "web") == PodTarget("uid1", "s1")
    with pytest.raises(PodLookupError, match='container "db" in pod "web" is not available'):
        await lookup.container("default", "web", "db")
    with pytest.raises(PodLookupError, match="previous terminated container"):
        await lookup.container("default", "web", "app", previous=True)
    with pytest.raises(PodLookupError) as info:
        await lookup.pod("default", "gone")
    assert info.value.code == 404
