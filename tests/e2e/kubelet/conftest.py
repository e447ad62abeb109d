"""The node fixture: ``kubelite server`` with its kubelet on real runc, images from the
local test registry, a free pod range and its own bridge (apart from the machine's server
and other test runs)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kubelite.testing.node import running_node
from kubelite.testing.registry import TestRegistry
from kubelite.testing.server_process import ServerProcess


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory,
         image_registry: TestRegistry) -> Iterator[ServerProcess]:
    """A node whose images come from the local test registry (docker.io, gcr.io mirrored)."""
    with running_node(tmp_path_factory.mktemp("kubelite-node"),
                      image_registry.registries_yaml) as proc:
        yield proc
