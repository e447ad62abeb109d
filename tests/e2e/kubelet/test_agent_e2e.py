"""``kubelite agent --server --token`` joins a control-plane-only server and runs pods."""

from __future__ import annotations

import ipaddress
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

import kubelite
from kubelite.testing.isolation import free_cidr
from kubelite.testing.registry import TestRegistry
from kubelite.testing.server_process import ServerProcess, leftovers, wait_for

pytestmark = pytest.mark.root


def test_agent_joins_and_runs_a_pod(tmp_path: Path, image_registry: TestRegistry) -> None:
    for tool in ("kubectl", "runc", "conmon"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    server = ServerProcess(tmp_path / "server").start()
    agent_dir = tmp_path / "agent"
    config = tmp_path / "kubelet.yaml"
    config.write_text(yaml.safe_dump({"kind": "KubeletConfiguration", "staticPodPath": ""}))
    token = (tmp_path / "server" / "server" / "node-token").read_text().strip()
    assert token.startswith("K10") and "::server:" in token
    cidr = free_cidr(16)  # apart from the machine's server and other test runs
    env = {**os.environ, "PYTHONPATH": str(Path(kubelite.__file__).parents[1]),
           "PYTHONUNBUFFERED": "1"}
    agent = subprocess.Popen(
        [sys.executable, "-m", "kubelite.cli.main", "agent", "--server", server.url,
         # the node-token file's content pins the server's CA (no --ca-file needed)
         "--token", token,
         "--data-dir", str(agent_dir), "--node-name", "agent1", "--kubelet-config", str(config),
         "--cluster-cidr", cidr, "--kubelet-port", "0",
         "--registries", str(image_registry.registries_yaml)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    output: list[str] = []
    threading.Thread(target=lambda: output.extend(agent.stdout or []), daemon=True).start()
    try:
        assert wait_for(lambda: " Ready " in server.kubectl("get", "node", "agent1").stdout,
                        30), "".join(output)
        r = server.kubectl("run", "onagent", "--image=busybox", "--", "sleep", "3600")
        assert r.returncode == 0, r.stderr
        assert wait_for(lambda: server.kubectl(
            "get", "pod", "onagent", "-o", "jsonpath={.status.phase}").stdout == "Running", 60)
        out = server.kubectl("get", "pod", "onagent", "-o", "wide").stdout
        ip = server.kubectl("get", "pod", "onagent", "-o", "jsonpath={.status.podIP}").stdout
        assert "agent1" in out and ip in out
        assert ipaddress.ip_address(ip) in ipaddress.ip_network(cidr)
        lease = server.kubectl("get", "lease", "-n", "kube-node-lease", "agent1")
        assert lease.returncode == 0
    finally:
        agent.send_signal(signal.SIGTERM)
        try:
            agent.wait(15)
        except subprocess.TimeoutExpired:
            agent.kill()
        server.stop()
        subprocess.run([sys.executable, "-m", "kubelite.cli.main", "killall", "--data-dir",
                        str(agent_dir)], env=env, capture_output=True, check=False)
    assert leftovers(agent_dir) == []
