"""CNI configuration and result parsing; the fake network's IP handling."""

from __future__ import annotations

import pytest

from kubelite.network import BridgeNetworkConfig, FakeNetwork, NetworkError
from kubelite.network.cni import pod_ip


def test_conflist_is_bridge_host_local_portmap() -> None:
    conf = BridgeNetworkConfig(subnet="10.88.5.0/24", bridge="br9").conflist("/state/ipam")
    bridge, portmap = conf["plugins"]
    assert conf["cniVersion"] == "1.0.0"
    assert (bridge["type"], bridge["bridge"], bridge["isGateway"], bridge["ipMasq"],
            bridge["hairpinMode"]) == ("bridge", "br9", True, True, True)
    assert bridge["ipam"]["type"] == "host-local"
    assert bridge["ipam"]["ranges"] == [[{"subnet": "10.88.5.0/24"}]]
    assert bridge["ipam"]["dataDir"] == "/state/ipam"
    assert portmap == {"type": "portmap", "capabilities": {"portMappings": True}, "snat": True}


def test_pod_ip_is_the_sandbox_interface_address() -> None:
    result = {
        "interfaces": [{"name": "br0"}, {"name": "veth1"}, {"name": "eth0", "sandbox": "/n"}],
        "ips": [{"address": "10.88.5.7/24", "gateway": "10.88.5.1", "interface": 2}],
    }
    assert pod_ip(result) == "10.88.5.7"
    assert pod_ip({}) == ""


async def test_fake_network_allocates_and_reuses() -> None:
    net = FakeNetwork("10.1.0.0/29")
    ips = [await net.setup(f"s{i}", "", pod_namespace="n", pod_name=f"p{i}", pod_uid="u")
           for i in range(3)]
    assert ips == ["10.1.0.2", "10.1.0.3", "10.1.0.4"]
    assert await net.setup("s0", "", pod_namespace="n", pod_name="p0", pod_uid="u") == ips[0]
    await net.teardown("s1", "", pod_namespace="n", pod_name="p1", pod_uid="u")
    assert await net.setup("s9", "", pod_namespace="n", pod_name="p9", pod_uid="u") == "10.1.0.3"
    net.fail_setup = "boom"
    with pytest.raises(NetworkError):
        await net.setup("s10", "", pod_namespace="n", pod_name="p", pod_uid="u")
