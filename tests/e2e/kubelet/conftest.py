"""The node fixture: ``kubelite server`` with its kubelet on real runc, images from the
local test registry, pod network 10.77.0.0/16 (apart from the runtime tests' subnets)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

import kubelite
from kubelite.testing.registry import TestRegistry
from kubelite.testing.server_process import ServerProcess


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory,
         image_registry: TestRegistry) -> Iterator[ServerProcess]:
    for tool in ("kubectl", "runc", "conmon"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    data_dir: Path = tmp_path_factory.mktemp("kubelite-node")
    manifests = data_dir / "manifests"
    manifests.mkdir()
    config = data_dir / "kubelet-config.yaml"
    config.write_text(yaml.safe_dump({
        "apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
        "staticPodPath": str(manifests), "fileCheckFrequency": "200ms"}))
    proc = ServerProcess(data_dir, disable_agent=False, extra_args=[
        "--node-name", "e2e-node", "--kubelet-config", str(config),
        "--cluster-cidr", "10.77.0.0/16", "--registries", str(image_registry.registries_yaml),
        "--kubelet-port", "0"]).start(timeout=60)
    try:
        yield proc
    finally:
        proc.stop()
        r = subprocess.run([sys.executable, "-m", "kubelite.cli.main", "killall", "--data-dir",
                            str(data_dir), "--cluster-cidr", "10.77.0.0/24"],
                           capture_output=True, text=True, check=False,
                           env={**os.environ,
                                "PYTHONPATH": str(Path(kubelite.__file__).parents[1])})
        assert r.returncode == 0, r.stderr


