"""kubectl logs, exec, attach and port-forward through the API server to a kubelet server.

The real kubectl (1.32 over WebSocket, 1.32 forced to SPDY, 1.29 SPDY only) against an
in-process API server and kubelet server over the fake runtime.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from streaming_cluster import StreamingCluster

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl missing")

SPDY = {"KUBECTL_REMOTE_COMMAND_WEBSOCKETS": "false", "KUBECTL_PORT_FORWARD_WEBSOCKETS": "false"}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamingCluster]:
    c = StreamingCluster(Path(tmp_path_factory.mktemp("streaming"))).start()
    c.runtime.write_log(c.containers["app"], "line1\nline2\nline3")
    c.runtime.write_log(c.containers["sidecar"], "side-a\nside-b\nside-c", stream="stderr")
    yield c
    c.stop()


def test_logs(cluster: StreamingCluster) -> None:
    r = cluster.kubectl("logs", "web")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "line1\nline2\nline3\n"


def test_exec_echo(cluster: StreamingCluster) -> None:
    r = cluster.kubectl("exec", "web", "--", "echo", "hello")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "hello\n"


def test_logs_container_tail_timestamps(cluster: StreamingCluster) -> None:
    r = cluster.kubectl("logs", "web", "-c", "sidecar", "--tail=2", "--timestamps")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == ["side-b", "side-c"]
    for line in lines:
        stamp = line.split(" ", 1)[0]
        assert stamp.endswith("Z") and "T" in stamp, stamp


def test_logs_limit_bytes(cluster: StreamingCluster) -> None:
    r = cluster.kubectl("logs", "web", "-c", "app", "--limit-bytes=8")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "line1\nli"


def test_logs_errors(cluster: StreamingCluster) -> None:
    r = cluster.kubectl("logs", "web", "-c", "app", "--previous")
    assert r.returncode == 1
    assert ('Error from server (BadRequest): previous terminated container "app" in pod "web" '
            "not found") in r.stderr
    r = cluster.kubectl("logs", "pending")
    assert r.returncode == 1
    assert ('Error from server (BadRequest): container "app" in pod "pending" is waiting to '
            "start: ContainerCreating") in r.stderr
    r = cluster.kubectl("logs", "web", "-c", "nope")
    assert r.returncode == 1
    assert "container nope is not valid for pod web" in r.stderr


@pytest.mark.parametrize("env", [{}, SPDY], ids=["websocket", "spdy"])
def test_exec_exit_code_and_stderr(cluster: StreamingCluster, env: dict[str, str]) -> None:
    r = cluster.kubectl("exec", "web", "--", "sh", "-c", "exit 3", env=env)
    assert r.returncode == 3
    assert "command terminated with exit code 3" in r.stderr
    r = cluster.kubectl("exec", "web", "-c", "sidecar", "--", "err", "oops", env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    assert "oops" in r.stderr


@pytest.mark.parametrize("env", [{}, SPDY], ids=["websocket", "spdy"])
def test_exec_stdin(cluster: StreamingCluster, env: dict[str, str]) -> None:
    data = "".join(f"line {i}\n" for i in range(2000))
    r = cluster.kubectl("exec", "-i", "web", "--", "cat", input=data, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout == data


def test_exec_kubectl_129_spdy(cluster: StreamingCluster) -> None:
    r = cluster.kubectl("exec", "web", "--", "echo", "old", "client", version="1.29")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "old client\n"
    r = cluster.kubectl("exec", "web", "--", "sh", "-c", "exit 7", version="1.29")
    assert r.returncode == 7
    r = cluster.kubectl("exec", "-i", "web", "--", "cat", input="abc\n", version="1.29")
    assert (r.returncode, r.stdout) == (0, "abc\n")
