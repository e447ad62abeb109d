"""The Service IP and node-port ranges, and what a Service write claims from them."""

from __future__ import annotations

import random
from typing import Any

import pytest

from kubelite.api import errors
from kubelite.apiserver.allocators.ranges import (
    AllocationError,
    IPRange,
    PortRange,
    RangeFull,
    parse_port_range,
)
from kubelite.apiserver.allocators.services import Allocators


def svc(name: str = "web", **spec: Any) -> dict[str, Any]:
    spec.setdefault("ports", [{"port": 80, "protocol": "TCP"}])
    return {"metadata": {"name": name, "namespace": "default"}, "spec": spec}


@pytest.mark.parametrize(("spec", "want"), [
    ("30000-32767", (30000, 2768)),
    ("30000+2767", (30000, 2768)),
    ("8080", (8080, 1)),
    (" 100-200 ", (100, 101)),
])
def test_port_range_forms(spec: str, want: tuple[int, int]) -> None:
    assert parse_port_range(spec) == want


@pytest.mark.parametrize("spec", ["0-10", "200-100", "abc", "1-70000", ""])
def test_bad_port_ranges(spec: str) -> None:
    with pytest.raises(ValueError):
        parse_port_range(spec)


@pytest.mark.parametrize(("cidr", "first", "size"), [
    ("10.43.0.0/16", "10.43.0.1", 65534),
    ("10.0.0.0/30", "10.0.0.1", 2),
    ("192.168.7.0/24", "192.168.7.1", 254),
])
def test_ip_range_excludes_network_and_broadcast(cidr: str, first: str, size: int) -> None:
    r = IPRange(cidr)
    assert (r.first(), r.size) == (first, size)


def test_small_range_is_handed_out_once_then_full() -> None:
    r = IPRange("10.0.0.0/29", random.Random(1))
    got = {r.allocate_next() for _ in range(6)}
    assert got == {f"10.0.0.{i}" for i in range(1, 7)}
    with pytest.raises(RangeFull):
        r.allocate_next()
    r.release("10.0.0.3")
    assert r.allocate_next() == "10.0.0.3"


def test_dynamic_ips_come_from_the_upper_band_first() -> None:
    r = IPRange("10.43.0.0/16", random.Random(7))
    band = r.static_band
    assert band == 256
    for _ in range(200):
        ip = str(r.allocate_next())
        assert int(ip.split(".")[2]) * 256 + int(ip.split(".")[3]) - 1 >= band


@pytest.mark.parametrize(("member", "text"), [
    ("10.0.0.1", "the provided IP (10.0.0.1) is not in the valid range. "
                 "The range of valid IPs is 10.43.0.0/16"),
    ("10.43.255.255", "the provided IP (10.43.255.255) is not in the valid range. "
                      "The range of valid IPs is 10.43.0.0/16"),
    ("10.43.0.0", "the provided IP (10.43.0.0) is not in the valid range. "
                  "The range of valid IPs is 10.43.0.0/16"),
    ("10.43.0.9", "provided IP is already allocated"),
])
def test_ip_refusals(member: str, text: str) -> None:
    r = IPRange("10.43.0.0/16")
    r.allocate("10.43.0.9")
    with pytest.raises(AllocationError) as exc:
        r.allocate(member)
    assert str(exc.value) == text


@pytest.mark.parametrize(("port", "text"), [
    (29999, "provided port is not in the valid range. The range of valid ports is "
            "30000-32767"),
    (30080, "provided port is already allocated"),
])
def test_port_refusals(port: int, text: str) -> None:
    r = PortRange("30000-32767")
    r.allocate(30080)
    with pytest.raises(AllocationError) as exc:
        r.allocate(port)
    assert str(exc.value) == text


# -- what a write claims -----------------------------------------------------------------

def _causes(exc: errors.StatusError) -> list[tuple[str, str]]:
    return [(c.field, c.message) for c in exc.causes]


@pytest.mark.parametrize(("spec", "ip", "node_ports"), [
    ({"type": "ClusterIP"}, "auto", []),
    ({"type": "ClusterIP", "clusterIP": "10.43.0.50"}, "10.43.0.50", []),
    ({"type": "ClusterIP", "clusterIPs": ["10.43.0.51"]}, "10.43.0.51", []),
    ({"type": "ClusterIP", "clusterIP": "None"}, "None", []),
    ({"type": "ExternalName", "externalName": "example.com"}, None, []),
    ({"type": "NodePort"}, "auto", ["auto"]),
    ({"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]}, "auto", [30080]),
    ({"type": "LoadBalancer"}, "auto", ["auto"]),
    ({"type": "LoadBalancer", "allocateLoadBalancerNodePorts": False}, "auto", [None]),
])
def test_create_fills_in_what_the_type_needs(spec: dict[str, Any], ip: str | None,
                                              node_ports: list[Any]) -> None:
    a = Allocators()
    obj = svc(**spec)
    a.begin(obj, None).commit()
    got_ip = obj["spec"].get("clusterIP")
    if ip == "auto":
        assert a.ips.has(got_ip) and obj["spec"]["clusterIPs"] == [got_ip]
    else:
        assert got_ip == ip
        assert obj["spec"].get("clusterIPs") == ([ip] if ip else None)
    got_ports = [p.get("nodePort") for p in obj["spec"]["ports"]]
    if spec.get("type") in ("NodePort", "LoadBalancer"):
        for want, got in zip(node_ports, got_ports, strict=True):
            if want == "auto":
                assert got is not None and 30000 <= got <= 32767 and a.ports.has(got)
            else:
                assert got == want
    else:
        assert got_ports == [None]


def test_health_check_node_port_for_local_load_balancers() -> None:
    a = Allocators()
    obj = svc(type="LoadBalancer", externalTrafficPolicy="Local")
    a.begin(obj, None).commit()
    hc = obj["spec"]["healthCheckNodePort"]
    assert a.ports.has(hc) and hc != obj["spec"]["ports"][0]["nodePort"]


@pytest.mark.parametrize(("first", "second", "causes"), [
    ({"clusterIP": "10.43.0.7"}, {"clusterIP": "10.43.0.7"},
     [("spec.clusterIPs", 'Invalid value: []string{"10.43.0.7"}: failed to allocate IP '
       '10.43.0.7: provided IP is already allocated')]),
    (None, {"clusterIP": "10.0.0.1"},
     [("spec.clusterIPs", 'Invalid value: []string{"10.0.0.1"}: failed to allocate IP '
       '10.0.0.1: the provided IP (10.0.0.1) is not in the valid range. The range of valid '
       'IPs is 10.43.0.0/16')]),
    ({"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]},
     {"type": "NodePort", "ports": [{"port": 81, "nodePort": 30080}]},
     [("spec.ports[0].nodePort", "Invalid value: 30080: provided port is already "
       "allocated")]),
    (None, {"type": "NodePort", "ports": [{"port": 81, "nodePort": 80}]},
     [("spec.ports[0].nodePort", "Invalid value: 80: provided port is not in the valid "
       "range. The range of valid ports is 30000-32767")]),
])
def test_refused_writes_claim_nothing(first: dict[str, Any] | None, second: dict[str, Any],
                                      causes: list[tuple[str, str]]) -> None:
    a = Allocators()
    if first is not None:
        a.begin(svc("first", **first), None).commit()
    before = (a.ips.used(), a.ports.used())
    with pytest.raises(errors.StatusError) as exc:
        # the IP is claimed first, then the ports: a refused port gives the IP back
        a.begin(svc("second", **second), None)
    assert exc.value.code == 422
    assert _causes(exc.value) == causes
    assert (a.ips.used(), a.ports.used()) == before


def test_revert_gives_back_and_commit_of_update_releases_the_old() -> None:
    a = Allocators()
    obj = svc(type="NodePort")
    a.begin(obj, None).revert()
    assert (a.ips.used(), a.ports.used()) == (0, 0)
    obj = svc(type="NodePort")
    a.begin(obj, None).commit()
    port = obj["spec"]["ports"][0]["nodePort"]
    new = svc(type="ClusterIP", clusterIP=obj["spec"]["clusterIP"])
    claim = a.begin(new, obj)
    assert a.ports.has(port)  # released only once the update is stored
    claim.commit()
    assert not a.ports.has(port) and a.ips.has(obj["spec"]["clusterIP"])
    a.release(new)
    assert (a.ips.used(), a.ports.used()) == (0, 0)


def test_one_node_port_for_tcp_and_udp_of_one_service() -> None:
    a = Allocators()
    obj = svc(type="NodePort", ports=[{"name": "t", "port": 53, "protocol": "TCP",
                                       "nodePort": 30053},
                                      {"name": "u", "port": 53, "protocol": "UDP",
                                       "nodePort": 30053}])
    a.begin(obj, None).commit()
    assert a.ports.used() == 1


def test_seed_claims_what_stored_services_hold() -> None:
    a = Allocators()
    a.seed([svc(clusterIP="10.43.0.5", clusterIPs=["10.43.0.5"], type="NodePort",
                ports=[{"port": 80, "nodePort": 30001}]),
            svc("headless", clusterIP="None", clusterIPs=["None"]),
            svc("outside", clusterIP="10.99.0.1", clusterIPs=["10.99.0.1"])])
    assert a.ips.has("10.43.0.5") and a.ports.has(30001)
    assert (a.ips.used(), a.ports.used()) == (1, 1)


@pytest.mark.parametrize(("spec", "causes"), [
    ({"ipFamilies": ["IPv6"]},
     [("spec.ipFamilies[0]", 'Invalid value: "IPv6": not configured on this cluster')]),
    ({"ipFamilyPolicy": "RequireDualStack", "ipFamilies": ["IPv4", "IPv6"]},
     [("spec.ipFamilyPolicy", 'Invalid value: "RequireDualStack": this cluster is not '
       'configured for dual-stack services'),
      ("spec.ipFamilies[1]", 'Invalid value: "IPv6": not configured on this cluster')]),
])
def test_a_single_stack_cluster_refuses_other_families(spec: dict[str, Any],
                                                       causes: list[tuple[str, str]]) -> None:
    a = Allocators()
    with pytest.raises(errors.StatusError) as exc:
        a.begin(svc(selector={"app": "x"}, **spec), None)
    assert _causes(exc.value) == causes
    assert a.ips.used() == 0
    # PreferDualStack falls back to the one family; headless without a selector may ask
    a.begin(svc(ipFamilyPolicy="PreferDualStack", ipFamilies=["IPv4"]), None).commit()
    a.begin(svc("h", clusterIP="None", ipFamilyPolicy="RequireDualStack",
                ipFamilies=["IPv4", "IPv6"]), None).commit()
