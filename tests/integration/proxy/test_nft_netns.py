"""The service proxy's rules applied by real nft inside network namespaces this test
creates (root only): the table is replaced whole, removed on delete, and traffic to a
ClusterIP and a NodePort reaches a listener in a "pod" namespace over a veth pair."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from kubelite.proxy.nft import NftApplier, NftError, RecordingApplier, run_nft
from kubelite.proxy.planner import ProxyConfig, delete_table
from kubelite.proxy.proxier import ServiceProxy
from kubelite.testing.fake_informer import FakeSource
from kubelite.testing.waiting import eventually

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
    pytest.mark.skipif(shutil.which("nft") is None or shutil.which("ip") is None,
                       reason="needs nft and iproute2"),
]

NODE_IP, POD_IP, CLIENT_IP = "10.254.1.1", "10.254.1.2", "10.254.2.2"

LISTENER = """
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080)); s.listen(16); print("ready", flush=True)
while True:
    c, addr = s.accept(); c.sendall(("pod saw " + addr[0] + "\\n").encode()); c.close()
"""

CLIENT = """
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
print(c.recv(100).decode().strip())
"""


def sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=check, timeout=20)


@dataclass
class Net:
    node: str
    pod: str
    client: str

    def connect(self, netns: str, ip: str, port: int) -> str:
        r = sh("ip", "netns", "exec", netns, sys.executable, "-c", CLIENT, ip, str(port),
               check=False)
        return r.stdout.strip() if r.returncode == 0 else f"failed: {r.stderr.strip()[-80:]}"

    def ruleset(self) -> str:
        return sh("ip", "netns", "exec", self.node, "nft", "list", "ruleset").stdout


@pytest.fixture
def net() -> Iterator[Net]:
    """node <-veth-> pod (10.254.1.0/24) and node <-veth-> client (10.254.2.0/24)."""
    tag = f"klpx{os.getpid() % 100000}"
    n = Net(f"{tag}-node", f"{tag}-pod", f"{tag}-cli")
    listener = None
    try:
        for ns in (n.node, n.pod, n.client):
            sh("ip", "netns", "add", ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        for peer, side, node_addr, addr in ((n.pod, "p", NODE_IP, POD_IP),
                                            (n.client, "c", "10.254.2.1", CLIENT_IP)):
            sh("ip", "-n", n.node, "link", "add", f"v{side}0", "type", "veth",
               "peer", "name", f"v{side}1", "netns", peer)
            sh("ip", "-n", n.node, "addr", "add", f"{node_addr}/24", "dev", f"v{side}0")
            sh("ip", "-n", n.node, "link", "set", f"v{side}0", "up")
            sh("ip", "-n", peer, "addr", "add", f"{addr}/24", "dev", f"v{side}1")
            sh("ip", "-n", peer, "link", "set", f"v{side}1", "up")
            sh("ip", "-n", peer, "route", "add", "default", "via", node_addr)
        sh("ip", "netns", "exec", n.node, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        # as on a real host, the node has a default route (the output hook runs after
        # the route lookup, so a ClusterIP needs one to leave the node at all)
        sh("ip", "-n", n.node, "route", "add", "default", "via", CLIENT_IP)
        listener = subprocess.Popen(["ip", "netns", "exec", n.pod, sys.executable, "-c",
                                     LISTENER], stdout=subprocess.PIPE, text=True)
        assert listener.stdout is not None and listener.stdout.readline().strip() == "ready"
        yield n
    finally:
        if listener is not None:
            listener.kill()
            listener.wait()
        for ns in (n.node, n.pod, n.client):
            sh("ip", "netns", "del", ns, check=False)


def web(node_port: int = 30080, **spec: Any) -> dict[str, Any]:
    return {"metadata": {"namespace": "default", "name": "web"},
            "spec": {"type": "NodePort", "clusterIP": "10.43.7.7", **spec,
                     "ports": [{"port": 80, "nodePort": node_port, "protocol": "TCP"}]}}


def web_slice(*ips: str) -> dict[str, Any]:
    return {"metadata": {"namespace": "default", "name": "web-1",
                         "labels": {"kubernetes.io/service-name": "web"}},
            "addressType": "IPv4", "ports": [{"port": 8080, "protocol": "TCP"}],
            "endpoints": [{"addresses": [ip], "conditions": {"ready": True},
                           "nodeName": "n1"} for ip in ips]}


def config(table: str) -> ProxyConfig:
    return ProxyConfig(table=table, node_name="n1", node_ips=(NODE_IP,),
                       cluster_cidr="10.254.1.0/24")


async def test_traffic_through_cluster_ip_and_node_port_reaches_the_pod(net: Net) -> None:
    services, slices = FakeSource([web()]), FakeSource([web_slice(POD_IP)])
    proxy = ServiceProxy(services, slices, NftApplier(net.node), config("kltest"),
                         min_sync_period=0.05)
    proxy.start()
    try:
        await eventually(lambda: _true(proxy.syncs == 1))
        # a client outside the pod range, routed through the node: DNAT and masquerade
        assert await asyncio.to_thread(net.connect, net.client, "10.43.7.7", 80) \
            == f"pod saw {NODE_IP}"
        assert await asyncio.to_thread(net.connect, net.client, NODE_IP, 30080) \
            == f"pod saw {NODE_IP}"
        # the node itself (output hook)
        assert (await asyncio.to_thread(net.connect, net.node, "10.43.7.7", 80)) \
            .startswith("pod saw ")
        # the pod to its own Service: hairpin, masqueraded so the reply comes back
        assert await asyncio.to_thread(net.connect, net.pod, "10.43.7.7", 80) \
            == f"pod saw {NODE_IP}"
        assert "table ip kltest" in net.ruleset()

        slices.put(web_slice())  # the endpoint goes away: refused, not hanging
        await eventually(lambda: _true(proxy.syncs == 2))
        assert "refused" in (await asyncio.to_thread(net.connect, net.client,
                                                     "10.43.7.7", 80)).lower()
        services.delete("default/web")
        await eventually(lambda: _true(proxy.syncs == 3))
        rules = net.ruleset()
        assert "10.43.7.7" not in rules and "web" not in rules
    finally:
        await proxy.stop()
    assert "table ip kltest" in net.ruleset()  # stop leaves the rules
    await run_nft(delete_table("kltest"), net.node)
    assert "kltest" not in net.ruleset()


async def test_a_restart_replaces_the_table_in_one_transaction(net: Net) -> None:
    applier = NftApplier(net.node)
    first = ServiceProxy(FakeSource([web()]), FakeSource([web_slice(POD_IP)]), applier,
                         config("kltest"))
    await first.sync()
    # a new run with other Services: the old ones' chains are gone, nothing merged
    second = ServiceProxy(FakeSource([web(node_port=30099, clusterIP="10.43.8.8")]),
                          FakeSource([web_slice(POD_IP)]), applier, config("kltest"))
    await second.sync()
    rules = net.ruleset()
    assert "10.43.8.8" in rules and "10.43.7.7" not in rules
    assert rules.count("table ip kltest") == 1
    assert await asyncio.to_thread(net.connect, net.client, "10.43.8.8", 80) \
        == f"pod saw {NODE_IP}"
    # a refused text leaves the table as it was
    with pytest.raises(NftError):
        await applier.apply("add table ip kltest\nadd chain ip kltest bad { nonsense }\n")
    assert net.ruleset() == rules


async def _true(cond: bool) -> bool:
    assert cond
    return True


def blocks(listing: str) -> list[str]:
    """A ``nft list table`` output as its sorted map/set/chain blocks (the order in which
    nft lists them follows their creation, which an in-place update changes)."""
    body = listing.strip().split("\n", 1)[1].rsplit("\n", 1)[0]
    return sorted(b.strip() for b in body.split("\n\n"))


async def test_an_in_place_update_gives_the_table_a_whole_replace_would(net: Net) -> None:
    two = web_slice(POD_IP, "10.254.1.3")
    steps = [([web()], [web_slice(POD_IP)]),
             ([web(sessionAffinity="ClientIP")], [two]),  # affinity sets, a new endpoint
             ([web(sessionAffinity="ClientIP"), {**web(node_port=30081, clusterIP="10.43.9.9"),
                                                 "metadata": {"namespace": "b", "name": "x"}}],
              [two]),
             ([web()], [web_slice("10.254.1.3")])]  # endpoint, Service and sets gone
    applier = NftApplier(net.node)
    services, slices = FakeSource(), FakeSource()
    proxy = ServiceProxy(services, slices, applier, config("kltest"))
    texts = []
    for svcs, sls in steps:
        services.cache = {f"{s['metadata']['namespace']}/{s['metadata']['name']}": s
                          for s in svcs}
        slices.cache = {"default/web-1": sls[0]}
        recorder = RecordingApplier()
        proxy.applier = recorder
        assert await proxy.sync()
        texts.append(recorder.current)
        await applier.apply(recorder.current)
        incremental = net.ruleset()
        await applier.apply(proxy.plan().text("kltest"))  # the whole replace
        assert blocks(incremental) == blocks(net.ruleset())
    assert texts[0].startswith("add table ip kltest\ndelete table ip kltest\n")
    assert all(not t.startswith("add table") for t in texts[1:])
    assert "delete chain ip kltest endpoint-" in texts[3]
    assert "delete set ip kltest affinity-" in texts[3]


async def test_affinity_clients_survive_an_unrelated_change(net: Net) -> None:
    services = FakeSource([web(sessionAffinity="ClientIP")])
    slices = FakeSource([web_slice(POD_IP)])
    proxy = ServiceProxy(services, slices, NftApplier(net.node), config("kltest"))
    await proxy.sync()
    assert await asyncio.to_thread(net.connect, net.client, "10.43.7.7", 80) \
        == f"pod saw {NODE_IP}"
    services.put({**web(node_port=30081, clusterIP="10.43.9.9"),
                  "metadata": {"namespace": "b", "name": "x"}})
    await proxy.sync()
    rules = net.ruleset()
    assert f"elements = {{ {CLIENT_IP} expires 2h59m" in rules  # the client is remembered
