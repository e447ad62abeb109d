"""kubectl 1.29 to 1.33 run the same everyday commands against kubelite."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from kubelite.testing.server_process import ServerProcess

pytestmark = pytest.mark.e2e


def _binaries() -> list[str]:
    found = shutil.which("kubectl")
    if found is None:
        return []
    folder = Path(os.path.realpath(found)).parent
    return [str(folder / f"kubectl.1.{m}") for m in range(29, 34)
            if (folder / f"kubectl.1.{m}").exists()]


BINARIES = _binaries()


def run(server: ServerProcess, binary: str, *args: str,
        input: str | None = None) -> subprocess.CompletedProcess[str]:
    cache = server.data_dir / ("cache-" + Path(binary).name)
    return subprocess.run([binary, "--kubeconfig", str(server.kubeconfig), "--cache-dir",
                           str(cache), *args], input=input, capture_output=True, text=True,
                          timeout=60, check=False)


@pytest.mark.parametrize("binary", BINARIES, ids=[Path(b).name for b in BINARIES])
def test_everyday_commands(server: ServerProcess, binary: str) -> None:
    name = "v" + Path(binary).name.replace("kubectl.", "").replace(".", "-")
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "labels": {"app": name}},
           "spec": {"containers": [{"name": "c", "image": "nginx"}]}}

    r = run(server, binary, "version", "-o", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["serverVersion"]["minor"] == "32"

    r = run(server, binary, "apply", "-f", "-", input=json.dumps(pod))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"pod/{name} created"

    pod["metadata"]["labels"]["tier"] = "web"  # type: ignore[index]
    r = run(server, binary, "apply", "-f", "-", input=json.dumps(pod))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"pod/{name} configured"

    r = run(server, binary, "get", "pods", "-l", f"app={name}")
    assert r.returncode == 0, r.stderr
    header, row = r.stdout.splitlines()[:2]
    assert header.split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert row.split()[0] == name

    r = run(server, binary, "explain", "pods.spec.restartPolicy")
    assert r.returncode == 0, r.stderr
    assert "Restart policy for all containers within the pod" in r.stdout

    r = run(server, binary, "delete", "pod", name)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f'pod "{name}" deleted'
