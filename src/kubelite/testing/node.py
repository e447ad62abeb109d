"""A whole node for end-to-end tests: ``kubelite server`` with its kubelet on real runc."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

import kubelite
from kubelite.testing.server_process import ServerProcess


class MissingTool(RuntimeError):
    """A binary the node needs is not installed."""


@contextmanager
def running_node(data_dir: Path, registries: Path, cidr: str,
                 node_name: str = "e2e-node") -> Iterator[ServerProcess]:
    """``kubelite server`` with its kubelet; every container and mount removed after."""
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
        "--cluster-cidr", cidr, "--registries", str(registries),
        "--kubelet-port", "0"]).start(timeout=60)
    try:
        yield proc
    finally:
        proc.stop()
        first_24 = cidr.rsplit(".", 2)[0] + ".0.0/24"
        r = subprocess.run([sys.executable, "-m", "kubelite.cli.main", "killall", "--data-dir",
                            str(data_dir), "--cluster-cidr", first_24],
                           capture_output=True, text=True, check=False,
                           env={**os.environ,
                                "PYTHONPATH": str(Path(kubelite.__file__).parents[1])})
        assert r.returncode == 0, r.stderr


