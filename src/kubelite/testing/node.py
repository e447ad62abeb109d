"""A whole node for end-to-end tests: ``kubelite server`` with its kubelet on real runc."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from kubelite.testing.server_process import ServerProcess


class MissingTool(RuntimeError):
    """A binary the node needs is not installed."""


@contextmanager
def running_node(data_dir: Path, registries: Path, cidr: str | None = None,
                 node_name: str = "e2e-node") -> Iterator[ServerProcess]:
    """``kubelite server`` with its kubelet, static pods from ``data_dir/manifests``
    (checked every 200 ms) and, unless ``cidr`` is given, a free pod range; isolated from
    the machine's own server and cleaned up after (see :class:`ServerProcess`)."""
    for tool in ("kubectl", "runc", "conmon"):
        if shutil.which(tool) is None:
            raise MissingTool(f"{tool} is not installed")
    manifests = data_dir / "manifests"
    manifests.mkdir(exist_ok=True)
    config = data_dir / "kubelet-config.yaml"
    config.write_text(yaml.safe_dump({
        "apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
        "staticPodPath": str(manifests), "fileCheckFrequency": "200ms"}))
    proc = ServerProcess(data_dir, disable_agent=False, extra_args=[
        "--node-name", node_name, "--kubelet-config", str(config),
        "--registries", str(registries), *(["--cluster-cidr", cidr] if cidr else [])])
    proc.start(timeout=60)
    try:
        yield proc
    finally:
        proc.close()
