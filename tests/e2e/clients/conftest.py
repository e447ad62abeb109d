"""One node for the official clients' tests (Python and JavaScript), shared by the package.

``kubelite server`` with its kubelet on real runc, images from the local test registry, a pod
range of its own (picked free by ``running_node``). The pods every test uses
are started once:

- ``bb``: busybox sleeping (exec);
- ``att``: busybox reading its stdin, answering ``got <line>`` (attach; ``stdin: true``);
- ``ng``: nginx on port 80, and busybox httpd on 8080 serving ``second port`` (port-forward
  of several ports);
- ``counter``: busybox printing ``line N`` every 0.3 s (logs with follow).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from clients_pods import PODS, SECOND_PORT_PAGE

from kubelite.testing.node import running_node
from kubelite.testing.registry import TestRegistry
from kubelite.testing.server_process import ServerProcess, wait_for


def _phases(node: ServerProcess) -> dict[str, str]:
    r = node.kubectl("get", "pods", "-o", "json")
    if r.returncode != 0:
        return {}
    return {p["metadata"]["name"]: (p.get("status") or {}).get("phase", "")
            for p in json.loads(r.stdout)["items"]}


@pytest.fixture(scope="package")
def node(tmp_path_factory: pytest.TempPathFactory,
         image_registry: TestRegistry) -> Iterator[ServerProcess]:
    """The node with ``bb``, ``att`` and ``ng`` Running."""
    with running_node(tmp_path_factory.mktemp("kubelite-clients"),
                      image_registry.registries_yaml,
                      node_name="clients-node") as proc:
        r = proc.kubectl("apply", "-f", "-", input="\n".join(json.dumps(p) for p in PODS))
        assert r.returncode == 0, r.stderr
        names = {p["metadata"]["name"] for p in PODS}
        assert wait_for(lambda: all(_phases(proc).get(n) == "Running" for n in names), 120, 0.5), \
            proc.kubectl("describe", "pods").stdout
        # httpd and nginx listen a moment after Running
        assert wait_for(lambda: proc.kubectl(
            "exec", "ng", "-c", "second", "--", "wget", "-qO-",
            "http://127.0.0.1:8080/").stdout.strip() == SECOND_PORT_PAGE, 30, 0.5)
        assert wait_for(lambda: "nginx" in proc.kubectl(
            "exec", "ng", "-c", "second", "--", "wget", "-qO-",
            "http://127.0.0.1:80/").stdout, 30, 0.5)
        yield proc
