"""The official Python client's exec and port-forward through the API server to a kubelet.

Over the fake runtime (see streaming_cluster): the client sends stdin as TEXT frames whose
first character is the channel, and port-forwards over ``v4.channel.k8s.io`` channels.
"""

from __future__ import annotations

import select
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config
from kubernetes.stream import portforward, stream
from streaming_cluster import NS, StreamingCluster

from kubelite.testing.sockets import read_until_eof


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamingCluster]:
    c = StreamingCluster(Path(tmp_path_factory.mktemp("pyclient"))).start()
    yield c
    c.stop()


@pytest.fixture(scope="module")
def core(cluster: StreamingCluster) -> client.CoreV1Api:
    return client.CoreV1Api(config.new_client_from_config(config_file=str(cluster.kubeconfig)))


def test_exec_stdin_text_frames_reach_the_process(core: client.CoreV1Api) -> None:
    r = stream(core.connect_get_namespaced_pod_exec, "web", NS, container="app",
               command=["cat"], stdin=True, stdout=True, stderr=True, tty=False,
               _preload_content=False)
    try:
        r.write_stdin("test string 1\n")
        assert r.readline_stdout(timeout=5) == "test string 1"
        r.write_stdin("second\n")
        assert r.readline_stdout(timeout=5) == "second"
        r.close_channel(0)  # v5 CLOSE of stdin: cat sees EOF and exits 0
        r.run_forever(timeout=5)
        assert not r.is_open()
        assert r.returncode == 0
    finally:
        r.close()


def test_exec_exit_code_from_the_status_channel(core: client.CoreV1Api) -> None:
    r = stream(core.connect_get_namespaced_pod_exec, "web", NS, container="app",
               command=["sh", "-c", "exit 3"], stdin=False, stdout=True, stderr=True,
               tty=False, _preload_content=False)
    r.run_forever(timeout=5)
    assert r.returncode == 3


def test_port_forward_several_ports_and_a_refused_one(core: client.CoreV1Api) -> None:
    pf = portforward(core.connect_get_namespaced_pod_portforward, "web", NS, ports="80,81")
    try:
        echo = pf.socket(80)
        echo.setblocking(True)
        echo.sendall(b"ping over channel 0\n")
        echoed = b""
        while not echoed.endswith(b"\n"):
            ready, _, _ = select.select([echo], [], [], 10)
            assert ready, echoed
            echoed += echo.recv(65536)
        assert echoed == b"ping over channel 0\n"
        # port 81: nobody listens, so its error channel carries the kubelet's message and
        # the client ends that port's socket
        assert read_until_eof(pf.socket(81)) == b""
        error = pf.error(81)
        assert error is not None and error.startswith("error forwarding port 81 to pod web")
        assert "connection refused" in error
        assert pf.error(80) is None
    finally:
        pf.close()
