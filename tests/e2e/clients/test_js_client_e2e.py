"""The official JavaScript client (``@kubernetes/client-node`` from npm) on a real node.

Each scenario is a Node.js script in js/ (Exec, Attach, PortForward, Watch, an informer, Log
with follow) that prints one JSON line; the tests assert what it saw. The client is
installed by ``npm ci`` in js/ (scripts/install.sh does it).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from kubelite.testing.server_process import ServerProcess

pytestmark = [pytest.mark.e2e, pytest.mark.root]

JS = Path(__file__).parent / "js"


@pytest.fixture(scope="module")
def run_js(node: ServerProcess) -> Any:
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    if not (JS / "node_modules" / "@kubernetes" / "client-node").is_dir():
        pytest.skip("@kubernetes/client-node is not installed (npm ci in tests/e2e/clients/js)")

    def run(script: str) -> dict[str, Any]:
        r = subprocess.run(["node", str(JS / script), str(node.kubeconfig)], cwd=JS,
                           capture_output=True, text=True, timeout=60, check=False)
        assert r.returncode == 0, f"{script}: exit {r.returncode}\n{r.stdout}\n{r.stderr}"
        result: dict[str, Any] = json.loads(r.stdout.strip().splitlines()[-1])
        return result

    return run


def test_exec_with_stdin_and_exit_code(run_js: Any) -> None:
    out = run_js("exec.mjs")
    assert out["protocol"] == "v5.channel.k8s.io"
    assert out["stdout"] == "test string 1\n"
    assert out["stderr"] == "bye\n"
    status = out["status"]
    assert status["status"] == "Failure" and status["reason"] == "NonZeroExitCode"
    assert status["details"]["causes"] == [{"reason": "ExitCode", "message": "3"}]


def test_attach_reaches_stdin(run_js: Any) -> None:
    assert run_js("attach.mjs")["stdout"].endswith("got from js\n")


def test_port_forward_returns_the_nginx_page(run_js: Any) -> None:
    out = run_js("portforward.mjs")
    assert out["page"].startswith("HTTP/1.1 200 OK")
    assert "<title>Welcome to nginx!</title>" in out["page"]
    assert out["pageError"] == ""
    assert out["refusedError"].startswith("error forwarding port 81 to pod")


def test_watch_sees_added_modified_deleted(run_js: Any) -> None:
    assert run_js("watch.mjs")["events"] == [
        ["ADDED", "js-watched", "1"], ["MODIFIED", "js-watched", "2"],
        ["DELETED", "js-watched", "2"]]


def test_informer_lists_then_follows_changes(run_js: Any) -> None:
    out = run_js("informer.mjs")
    assert out["listed"] == ["js-inf-a"]
    assert out["events"] == [["add", "js-inf-a"], ["add", "js-inf-b"],
                             ["update", "js-inf-a", "2"], ["delete", "js-inf-b"]]
    assert out["cached"] == ["js-inf-a"]


def test_log_follow_streams_new_lines(run_js: Any) -> None:
    out = run_js("log.mjs")
    numbers = [int(m.group(1)) for line in out["lines"]
               if (m := re.fullmatch(r"line (\d+)", line))]
    assert len(numbers) == 4
    assert numbers == list(range(numbers[0], numbers[0] + 4))  # consecutive, none lost
    assert out["seconds"] >= 0.6  # three of them were written after the request
