"""Airgap: image archives dropped in <data-dir>/agent/images run without any registry."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kubelite.testing.node import running_node
from kubelite.testing.registry import TestRegistry
from kubelite.testing.server_process import wait_for

pytestmark = pytest.mark.root

POD = {
    "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "offline-hello"},
    "spec": {"containers": [{"name": "hello", "image": "gcr.io/google-samples/hello-app:2.0",
                             "ports": [{"containerPort": 8080}]}]},
}


def test_imported_archive_runs_without_registry(tmp_path: Path,
                                                image_registry: TestRegistry) -> None:
    data_dir = tmp_path / "data"
    airgap = data_dir / "agent" / "images"
    airgap.mkdir(parents=True)
    shutil.copy(image_registry.archives / "hello-app-2.0.tar", airgap / "hello-app.tar")
    unreachable = tmp_path / "registries.yaml"  # every pull would fail
    unreachable.write_text(json.dumps({"mirrors": {"gcr.io": {
        "endpoint": ["http://127.0.0.1:1"]}}}))
    with running_node(data_dir, unreachable, node_name="airgap-node") as node:
        assert "imported image gcr.io/google-samples/hello-app:2.0" in node.log()
        r = node.kubectl("apply", "-f", "-", input=json.dumps(POD))
        assert r.returncode == 0, r.stderr
        assert wait_for(lambda: node.kubectl(
            "get", "pod", "offline-hello", "-o", "jsonpath={.status.phase}").stdout
            == "Running", 60), node.kubectl("describe", "pod", "offline-hello").stdout
        events = node.kubectl("get", "events", "--field-selector",
                              "involvedObject.name=offline-hello").stdout
        assert "already present on machine" in events
