"""Native sidecars on real runc, read with the real kubectl: init containers with
``restartPolicy: Always`` run beside the app, count in READY, restart when they exit,
and do not keep a run-to-completion pod (restartPolicy Never) from succeeding."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kubelite.testing.server_process import ServerProcess, wait_for

pytestmark = pytest.mark.root

# exits 3 on SIGTERM (a plain `sleep` as pid 1 would ignore it)
LOOP = "trap 'exit 3' TERM; while true; do sleep 0.2; done"


def sidecar_pod(name: str, app_script: str, policy: str = "Always") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"restartPolicy": policy, "terminationGracePeriodSeconds": 2,
                     "initContainers": [{"name": "logger", "image": "busybox",
                                         "restartPolicy": "Always",
                                         "command": ["sh", "-c", LOOP]}],
                     "containers": [{"name": "app", "image": "busybox",
                                     "command": ["sh", "-c", app_script]}]}}


def apply(node: ServerProcess, obj: dict[str, Any]) -> None:
    r = node.kubectl("apply", "-f", "-", input=json.dumps(obj))
    assert r.returncode == 0, r.stderr


def get_row(node: ServerProcess, name: str) -> list[str]:
    r = node.kubectl("get", "pod", name, "--no-headers")
    return r.stdout.split() if r.returncode == 0 else []


def pod_json(node: ServerProcess, name: str) -> dict[str, Any]:
    r = node.kubectl("get", "pod", name, "-o", "json")
    return json.loads(r.stdout) if r.returncode == 0 else {}


def test_sidecar_is_ready_and_restarts_when_killed(node: ServerProcess) -> None:
    apply(node, sidecar_pod("with-sidecar", LOOP))
    assert wait_for(lambda: get_row(node, "with-sidecar")[1:3] == ["2/2", "Running"], 60), \
        get_row(node, "with-sidecar")
    r = node.kubectl("exec", "with-sidecar", "-c", "logger", "--", "kill", "1")
    assert r.returncode == 0, r.stderr

    def restarted() -> bool:
        st = pod_json(node, "with-sidecar").get("status", {})
        side = (st.get("initContainerStatuses") or [{}])[0]
        return (side.get("restartCount") == 1 and "running" in side.get("state", {})
                and side.get("lastState", {}).get("terminated", {}).get("exitCode") == 3)
    assert wait_for(restarted, 30), pod_json(node, "with-sidecar").get("status")
    assert wait_for(lambda: get_row(node, "with-sidecar")[1:4] == ["2/2", "Running", "1"], 30), \
        get_row(node, "with-sidecar")
    app = pod_json(node, "with-sidecar")["status"]["containerStatuses"][0]
    assert app["restartCount"] == 0


def test_run_to_completion_pod_with_sidecar_succeeds(node: ServerProcess) -> None:
    apply(node, sidecar_pod("job-like", "sleep 2; echo done", policy="Never"))
    assert wait_for(lambda: pod_json(node, "job-like").get("status", {}).get("phase")
                    == "Succeeded", 60), pod_json(node, "job-like").get("status")
    st = pod_json(node, "job-like")["status"]
    assert st["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 0
    assert "terminated" in st["initContainerStatuses"][0]["state"]
    assert get_row(node, "job-like")[1:3] == ["0/2", "Completed"]
    assert node.kubectl("logs", "job-like", "-c", "app").stdout.strip() == "done"
