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


def test_exec_uses_websocket_without_fallback(cluster: StreamingCluster) -> None:
    r = cluster.kubectl("exec", "web", "-v=6", "--", "echo", "ws")
    assert r.returncode == 0, r.stderr
    assert "The subprotocol is v5.channel.k8s.io" in r.stderr
    assert "fallback" not in r.stderr.lower()


def test_logs_follow_ends_when_container_exits(cluster: StreamingCluster) -> None:
    import subprocess
    import time

    job = cluster.containers["job"]
    cluster.runtime.write_log(job, "line1\nline2\nline3")
    proc = subprocess.Popen(cluster.kubectl_cmd("logs", "-f", "web", "-c", "job"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "line1\n"
        time.sleep(0.3)
        cluster.runtime.write_log(job, "later")
        for expected in ("line2\n", "line3\n", "later\n"):
            assert proc.stdout.readline() == expected
        cluster.exit_container("job")
        assert proc.wait(10) == 0
    finally:
        proc.kill()


def _port_forward(cluster: StreamingCluster, env: dict[str, str], version: str | None) -> None:
    import os
    import re
    import socket
    import subprocess

    proc = subprocess.Popen(cluster.kubectl_cmd("port-forward", "pod/web", ":80", "-v=6",
                                                version=version),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **env})
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        while line.startswith("Forwarding from [") or line.startswith("I"):
            line = proc.stdout.readline()
        m = re.match(r"Forwarding from 127\.0\.0\.1:(\d+) -> 80", line)
        assert m, line + (proc.stderr.read() if proc.poll() is not None and proc.stderr else "")
        port = int(m.group(1))
        for i in range(3):  # several connections over the one upgraded connection
            payload = f"hello {i} ".encode() * 5000
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                s.sendall(payload)
                s.shutdown(socket.SHUT_WR)
                received = b""
                while chunk := s.recv(65536):
                    received += chunk
            assert received == payload
        assert proc.poll() is None
        proc.terminate()
        _, err = proc.communicate(timeout=10)
        tunnelled = "negotiated protocol: portforward.k8s.io" in err
        assert tunnelled == (version is None and not env), err
    finally:
        proc.kill()


@pytest.mark.parametrize("env,version", [({}, None), (SPDY, None), ({}, "1.29")],
                         ids=["websocket", "spdy", "kubectl-1.29"])
def test_port_forward(cluster: StreamingCluster, env: dict[str, str], version: str | None) -> None:
    _port_forward(cluster, env, version)


def test_port_forward_refused_port_reports_error(cluster: StreamingCluster) -> None:
    import re
    import socket
    import subprocess

    proc = subprocess.Popen(cluster.kubectl_cmd("port-forward", "pod/web", ":81"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stderr is not None
        m = re.match(r"Forwarding from 127\.0\.0\.1:(\d+) -> 81", proc.stdout.readline())
        assert m
        with socket.create_connection(("127.0.0.1", int(m.group(1))), timeout=10) as s:
            s.settimeout(10)
            assert s.recv(100) == b""
        assert proc.wait(10) == 1
        err = proc.stderr.read()
        assert "an error occurred forwarding" in err and "connection refused" in err, err
    finally:
        proc.kill()


def test_port_forward_pending_pod_refused(cluster: StreamingCluster) -> None:
    r = cluster.kubectl("port-forward", "pod/pending", ":80")
    assert r.returncode == 1
    assert "pod is not running" in r.stderr


def _run_in_pty(argv: list[str], keys: list[bytes], timeout: float = 20) -> tuple[int, bytes]:
    """Run argv on a pseudo-terminal, typing ``keys`` once output appeared; (code, output)."""
    import os
    import pty
    import select
    import subprocess
    import time

    master, slave = pty.openpty()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    out = b""
    deadline = time.monotonic() + timeout
    pending = list(keys)
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
                if pending and b"$ " in out:
                    time.sleep(0.1)
                    os.write(master, pending.pop(0))
            elif proc.poll() is not None:
                break
        return proc.wait(5), out
    finally:
        proc.kill()
        os.close(master)


@pytest.mark.parametrize("env", [{}, SPDY], ids=["websocket", "spdy"])
def test_exec_tty(cluster: StreamingCluster, env: dict[str, str]) -> None:
    import os

    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        code, out = _run_in_pty(cluster.kubectl_cmd("exec", "-it", "web", "--", "sh"),
                                [b"hello tty\r", b"\x04"])
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    assert code == 0, out
    assert b"hello tty" in out


def test_attach_ends_with_container(cluster: StreamingCluster) -> None:
    import subprocess
    import time

    proc = subprocess.Popen(cluster.kubectl_cmd("attach", "web", "-c", "attached"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.0)
        assert proc.poll() is None  # attached, waiting for output
        cluster.exit_container("attached")
        assert proc.wait(10) == 0, proc.stderr.read() if proc.stderr else ""
    finally:
        proc.kill()


def test_kubelet_refuses_clients_without_credentials(cluster: StreamingCluster) -> None:
    import ssl
    import urllib.error
    import urllib.request

    ctx = ssl.create_default_context(cafile=str(cluster.root / "tls" / "ca.crt"))
    url = f"https://127.0.0.1:{cluster.kubelet.port}/containerLogs/default/web/app"
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(url, context=ctx, timeout=10)
    assert info.value.code == 401
    ctx.load_cert_chain(cluster.root / "tls" / "kubelet-client.crt",
                        cluster.root / "tls" / "kubelet-client.key")
    with urllib.request.urlopen(url, context=ctx, timeout=10) as resp:
        assert resp.read() == b"line1\nline2\nline3\n"


def test_non_upgrade_request_gets_a_status(cluster: StreamingCluster) -> None:
    import json
    import ssl
    import urllib.error
    import urllib.request

    tls = cluster.root / "tls"
    ctx = ssl.create_default_context(cafile=str(tls / "ca.crt"))
    ctx.load_cert_chain(tls / "admin.crt", tls / "admin.key")
    url = f"{cluster.api.url()}/api/v1/namespaces/default/pods/web/exec?command=ls&stdout=true"
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(url, context=ctx, timeout=10)
    assert info.value.code == 400
    status = json.loads(info.value.read())
    assert (status["kind"], status["reason"]) == ("Status", "BadRequest")
    assert status["message"] == "Upgrade request required"


def test_exec_into_unknown_pod(cluster: StreamingCluster) -> None:
    r = cluster.kubectl("exec", "nope", "--", "echo")
    assert r.returncode == 1
    assert 'Error from server (NotFound): pods "nope" not found' in r.stderr
