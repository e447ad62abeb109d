"""Cluster DNS on a real node: a pod gets the cluster resolver in its resolv.conf and
resolves a Service's name through the proxy's DNS rule to the node's DNS server; the
node's nftables table is its own and ``killall`` (at the fixture's close) removes it."""

from __future__ import annotations

import ipaddress
import json
import shutil
import subprocess

import pytest

from kubelite.testing.server_process import ServerProcess, wait_for

pytestmark = pytest.mark.root

POD = """
apiVersion: v1
kind: Pod
metadata: {name: dnsclient}
spec:
  containers:
  - {name: c, image: busybox, command: ["sh", "-c", "sleep 3600"]}
"""


def flag(node: ServerProcess, name: str) -> str:
    return node.extra_args[node.extra_args.index(name) + 1]


def ok(r: subprocess.CompletedProcess[str]) -> str:
    assert r.returncode == 0, f"exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r.stdout


def test_a_pod_resolves_a_service_name_through_the_cluster_dns(node: ServerProcess) -> None:
    service_net = ipaddress.ip_network(flag(node, "--service-cidr"))
    dns_ip, web_ip = str(service_net[10]), str(service_net[20])
    ok(node.kubectl("apply", "-f", "-", input=json.dumps({
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"clusterIP": web_ip, "ports": [{"port": 80}]}})))
    ok(node.kubectl("apply", "-f", "-", input=POD))
    assert wait_for(lambda: node.kubectl("get", "pod", "dnsclient", "-o",
                                         "jsonpath={.status.phase}").stdout == "Running", 90)
    resolv = ok(node.kubectl("exec", "dnsclient", "--", "cat", "/etc/resolv.conf"))
    lines = resolv.splitlines()
    assert lines[0] == f"nameserver {dns_ip}"
    assert lines[1].startswith("search default.svc.cluster.local svc.cluster.local "
                               "cluster.local")
    assert lines[-1] == "options ndots:5"

    def resolved() -> bool:
        r = node.kubectl("exec", "dnsclient", "--", "nslookup", "web.default.svc.cluster.local")
        return f"Address: {web_ip}" in r.stdout or f"Address 1: {web_ip}" in r.stdout
    assert wait_for(resolved, 20), node.kubectl(
        "exec", "dnsclient", "--", "nslookup", "web.default.svc.cluster.local").stdout
    # a name that does not exist: NXDOMAIN from the cluster zone
    r = node.kubectl("exec", "dnsclient", "--", "nslookup", "nope.default.svc.cluster.local")
    assert r.returncode != 0 and "NXDOMAIN" in r.stdout + r.stderr

    table = flag(node, "--proxy-table")
    assert shutil.which("nft") is not None
    rules = subprocess.run(["nft", "list", "table", "ip", table], capture_output=True,
                           text=True, check=True, timeout=10).stdout
    assert f"{dns_ip} . udp . 53 : goto cluster-dns" in rules
    ok(node.kubectl("delete", "pod", "dnsclient", "--grace-period=0", "--force"))
    ok(node.kubectl("delete", "service", "web"))
