"""Shared fixtures: a real kubelite server process, the real kubectl, and (as plugins)
the local test-image registry (``image_registry``) and the guard that fails a run in which
the e2e tier was skipped on a machine that can run it (``kubelite.testing.e2e_guard``)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubelite.testing.busybox import build_rootfs
from kubelite.testing.server_process import ServerProcess

pytest_plugins = ["kubelite.testing.images_fixture", "kubelite.testing.e2e_guard"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A control-plane-only ``kubelite server`` for the tests of one module."""
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed")
    data_dir: Path = tmp_path_factory.mktemp("kubelite")
    proc = ServerProcess(data_dir).start()
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def busybox_rootfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root filesystem with a static busybox and its applet links in /bin (the runtime
    tests' image)."""
    root = build_rootfs(tmp_path_factory.mktemp("busybox") / "rootfs")
    if root is None:
        pytest.skip("busybox-static is not available")
    return root
