"""The service proxy's planner: Services and EndpointSlices in, the whole table out."""

from __future__ import annotations

import re
from typing import Any

import pytest

from kubelite.proxy.model import service_ports
from kubelite.proxy.planner import LocalDNS, ProxyConfig, delete_table, plan_table

CFG = ProxyConfig(table="kltest", node_name="n1", node_ips=("192.0.2.10",),
                  cluster_cidr="10.42.0.0/16")


def svc(name: str, ip: str | None, *ports: dict[str, Any], ns: str = "default",
        status: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    s: dict[str, Any] = {"metadata": {"namespace": ns, "name": name},
                         "spec": {"clusterIP": ip, "ports": list(ports), **spec}}
    if status:
        s["status"] = status
    return s


def eps(service: str, ports: list[dict[str, Any]], *endpoints: tuple[str, str, Any],
        ns: str = "default", name: str = "") -> dict[str, Any]:
    """An EndpointSlice: endpoints as (ip, node, conditions or None)."""
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"namespace": ns, "name": name or f"{service}-x1",
                         "labels": {"kubernetes.io/service-name": service}},
            "addressType": "IPv4", "ports": ports,
            "endpoints": [{"addresses": [ip], "nodeName": node,
                           **({"conditions": c} if c is not None else {})}
                          for ip, node, c in endpoints]}


def plan(services: list[dict[str, Any]], slices: list[dict[str, Any]],
         cfg: ProxyConfig = CFG) -> str:
    return plan_table(service_ports(services, slices), cfg)


def parsed(text: str) -> dict[str, list[str]]:
    """Each map's elements and each service chain's rules, the constant chains left out."""
    out: dict[str, list[str]] = {}
    for m in re.finditer(r"\tmap (\S+) \{\n\t\ttype [^\n]*\n(?:\t\telements = \{ (.*) \}\n)?",
                         text):
        out[m.group(1)] = m.group(2).split(", ") if m.group(2) else []
    for m in re.finditer(r"\tchain ((?:service|local|external|endpoint)-\S+) \{\n(.*?)\n\t\}",
                         text, re.S):
        name = re.sub(r"-[A-Z2-7]{8}-", "-", m.group(1))
        out[name] = [r.strip() for r in m.group(2).split("\n")]
    return {k: [re.sub(r"-[A-Z2-7]{8}-", "-", r) for r in v] for k, v in out.items()}


WEB = svc("web", "10.43.0.5", {"port": 80, "targetPort": 8080, "protocol": "TCP"})
WEB_EPS = eps("web", [{"port": 8080, "protocol": "TCP"}], ("10.42.0.5", "n1", {"ready": True}))

GOLDEN = """\
add table ip kltest
delete table ip kltest
table ip kltest {
\tmap service-ips {
\t\ttype ipv4_addr . inet_proto . inet_service : verdict
\t\telements = { 10.43.0.5 . tcp . 80 : goto service-PFISGYVC-default/web/tcp/ }
\t}
\tmap service-nodeports {
\t\ttype inet_proto . inet_service : verdict
\t}
\tmap no-endpoint-services {
\t\ttype ipv4_addr . inet_proto . inet_service : verdict
\t}
\tmap no-endpoint-nodeports {
\t\ttype inet_proto . inet_service : verdict
\t}
\tset nodeport-ips {
\t\ttype ipv4_addr
\t\telements = { 192.0.2.10 }
\t}
\tchain filter-input {
\t\ttype filter hook input priority -110; policy accept;
\t\tct state new jump nodeport-endpoints-check
\t\tct state new jump service-endpoints-check
\t}
\tchain filter-forward {
\t\ttype filter hook forward priority -110; policy accept;
\t\tct state new jump service-endpoints-check
\t}
\tchain filter-output {
\t\ttype filter hook output priority -110; policy accept;
\t\tct state new jump service-endpoints-check
\t\tct state new jump nodeport-endpoints-check
\t}
\tchain service-endpoints-check {
\t\tip daddr . meta l4proto . th dport vmap @no-endpoint-services
\t}
\tchain nodeport-endpoints-check {
\t\tip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports
\t}
\tchain reject-chain {
\t\tmeta l4proto tcp reject with tcp reset
\t\treject
\t}
\tchain nat-prerouting {
\t\ttype nat hook prerouting priority dstnat; policy accept;
\t\tjump services
\t}
\tchain nat-output {
\t\ttype nat hook output priority -100; policy accept;
\t\tjump services
\t}
\tchain nat-postrouting {
\t\ttype nat hook postrouting priority srcnat; policy accept;
\t\tjump masquerading
\t}
\tchain masquerading {
\t\tmeta mark & 0x4000 == 0 return
\t\tmeta mark set meta mark ^ 0x4000
\t\tmasquerade fully-random
\t}
\tchain mark-for-masquerade {
\t\tmeta mark set meta mark | 0x4000
\t}
\tchain services {
\t\tip daddr . meta l4proto . th dport vmap @service-ips
\t\tip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports
\t}
\tchain service-PFISGYVC-default/web/tcp/ {
\t\tip daddr 10.43.0.5 ip saddr != 10.42.0.0/16 jump mark-for-masquerade
\t\tnumgen random mod 1 vmap { 0 : goto endpoint-CEI3K4UP-default/web/tcp/__10.42.0.5/8080 }
\t}
\tchain endpoint-CEI3K4UP-default/web/tcp/__10.42.0.5/8080 {
\t\tip saddr 10.42.0.5 jump mark-for-masquerade
\t\tmeta l4proto tcp dnat to 10.42.0.5:8080
\t}
}
"""


def test_one_service_one_endpoint_is_this_whole_table() -> None:
    assert plan([WEB], [WEB_EPS]) == GOLDEN


def test_the_plan_does_not_depend_on_the_order_of_the_informer_lists() -> None:
    other = svc("api", "10.43.0.9", {"port": 443, "protocol": "TCP"})
    other_eps = eps("api", [{"port": 6443}], ("10.42.1.7", "n2", None), ("10.42.0.3", "n1", None))
    assert plan([WEB, other], [WEB_EPS, other_eps]) == plan([other, WEB], [other_eps, WEB_EPS])


def test_a_removed_table_is_created_first_so_the_delete_never_fails() -> None:
    assert delete_table("kltest") == "add table ip kltest\ndelete table ip kltest\n"


S = "10.43.0.5 . tcp . 80"
CHAIN = "goto service-default/web/tcp/"
EP = "endpoint-default/web/tcp/__{}/8080"
TCP_PORT = [{"port": 8080, "protocol": "TCP"}]

CASES: list[tuple[str, list[dict[str, Any]], list[dict[str, Any]], dict[str, list[str]]]] = [
    ("two ready endpoints: random over both, each with its hairpin masquerade",
     [WEB], [eps("web", TCP_PORT, ("10.42.0.6", "n2", None), ("10.42.0.5", "n1", None))],
     {"service-ips": [f"{S} : {CHAIN}"],
      "service-default/web/tcp/": [
          "ip daddr 10.43.0.5 ip saddr != 10.42.0.0/16 jump mark-for-masquerade",
          f"numgen random mod 2 vmap {{ 0 : goto {EP.format('10.42.0.5')}, "
          f"1 : goto {EP.format('10.42.0.6')} }}"],
      EP.format("10.42.0.6"): ["ip saddr 10.42.0.6 jump mark-for-masquerade",
                               "meta l4proto tcp dnat to 10.42.0.6:8080"]}),
    ("not-ready endpoints are left out",
     [WEB], [eps("web", TCP_PORT, ("10.42.0.5", "n1", {"ready": True}),
                 ("10.42.0.6", "n1", {"ready": False, "serving": False}))],
     {"service-default/web/tcp/": [
         "ip daddr 10.43.0.5 ip saddr != 10.42.0.0/16 jump mark-for-masquerade",
         f"numgen random mod 1 vmap {{ 0 : goto {EP.format('10.42.0.5')} }}"]}),
    ("no ready endpoint: the serving terminating ones are used",
     [WEB], [eps("web", TCP_PORT, ("10.42.0.6", "n1",
                                   {"ready": False, "serving": True, "terminating": True}),
                 ("10.42.0.7", "n1", {"ready": False, "serving": False, "terminating": True}))],
     {"service-default/web/tcp/": [
         "ip daddr 10.43.0.5 ip saddr != 10.42.0.0/16 jump mark-for-masquerade",
         f"numgen random mod 1 vmap {{ 0 : goto {EP.format('10.42.0.6')} }}"]}),
    ("no endpoints: rejected, nothing DNAT-ed",
     [WEB], [], {"service-ips": [], "no-endpoint-services": [f"{S} : goto reject-chain"]}),
    ("headless and ExternalName Services have no rules",
     [svc("h", "None", {"port": 80}), svc("x", None, {"port": 80}, type="ExternalName",
                                          externalName="example.org")],
     [eps("h", [{"port": 80}], ("10.42.0.5", "n1", None))],
     {"service-ips": [], "no-endpoint-services": []}),
    ("a slice of another Service or another namespace is not used",
     [WEB], [eps("other", TCP_PORT, ("10.42.0.5", "n1", None)),
             eps("web", TCP_PORT, ("10.42.0.5", "n1", None), ns="prod")],
     {"service-ips": [], "no-endpoint-services": [f"{S} : goto reject-chain"]}),
    ("named ports take the slice port of the same name and protocol",
     [svc("web", "10.43.0.5", {"name": "http", "port": 80},
          {"name": "dns", "port": 53, "protocol": "UDP"})],
     [eps("web", [{"name": "http", "port": 8080, "protocol": "TCP"},
                  {"name": "dns", "port": 5353, "protocol": "UDP"}], ("10.42.0.5", "n1", None))],
     {"service-ips": ["10.43.0.5 . udp . 53 : goto service-default/web/udp/dns",
                      "10.43.0.5 . tcp . 80 : goto service-default/web/tcp/http"],
      "endpoint-default/web/udp/dns__10.42.0.5/5353": [
          "ip saddr 10.42.0.5 jump mark-for-masquerade",
          "meta l4proto udp dnat to 10.42.0.5:5353"]}),
    ("NodePort: the node's port goes through an external chain that masquerades",
     [svc("web", "10.43.0.5", {"port": 80, "nodePort": 30080}, type="NodePort")], [WEB_EPS],
     {"service-nodeports": ["tcp . 30080 : goto external-default/web/tcp/"],
      "external-default/web/tcp/": ["jump mark-for-masquerade", CHAIN]}),
    ("a nodePort on a ClusterIP Service is ignored",
     [svc("web", "10.43.0.5", {"port": 80, "nodePort": 30080})], [WEB_EPS],
     {"service-nodeports": []}),
    ("NodePort without endpoints is rejected on the node's IPs",
     [svc("web", "10.43.0.5", {"port": 80, "nodePort": 30080}, type="NodePort")], [],
     {"no-endpoint-nodeports": ["tcp . 30080 : goto reject-chain"],
      "no-endpoint-services": [f"{S} : goto reject-chain"]}),
    ("LoadBalancer: the ingress IPs and the node port reach the endpoints",
     [svc("web", "10.43.0.5", {"port": 80, "nodePort": 30080}, type="LoadBalancer",
          status={"loadBalancer": {"ingress": [{"ip": "192.0.2.10"}]}})], [WEB_EPS],
     {"service-ips": [f"{S} : {CHAIN}",
                      "192.0.2.10 . tcp . 80 : goto external-default/web/tcp/"],
      "service-nodeports": ["tcp . 30080 : goto external-default/web/tcp/"]}),
    ("externalTrafficPolicy Local: pods and the node use all, outside clients the local ones",
     [svc("web", "10.43.0.5", {"port": 80, "nodePort": 30080}, type="NodePort",
          externalTrafficPolicy="Local")],
     [eps("web", TCP_PORT, ("10.42.0.5", "n1", None), ("10.42.1.5", "n2", None))],
     {"external-default/web/tcp/": [
         "ip saddr 10.42.0.0/16 goto service-default/web/tcp/",
         "fib saddr type local jump mark-for-masquerade",
         "fib saddr type local goto service-default/web/tcp/",
         "goto local-default/web/tcp/"],
      "local-default/web/tcp/": [
          "ip daddr 10.43.0.5 ip saddr != 10.42.0.0/16 jump mark-for-masquerade",
          f"numgen random mod 1 vmap {{ 0 : goto {EP.format('10.42.0.5')} }}"]}),
    ("externalTrafficPolicy Local without a local endpoint drops outside clients",
     [svc("web", "10.43.0.5", {"port": 80, "nodePort": 30080}, type="NodePort",
          externalTrafficPolicy="Local")],
     [eps("web", TCP_PORT, ("10.42.1.5", "n2", None))],
     {"external-default/web/tcp/": [
         "ip saddr 10.42.0.0/16 goto service-default/web/tcp/",
         "fib saddr type local jump mark-for-masquerade",
         "fib saddr type local goto service-default/web/tcp/", "drop"]}),
    ("internalTrafficPolicy Local: the cluster IP uses this node's endpoints",
     [svc("web", "10.43.0.5", {"port": 80}, internalTrafficPolicy="Local")],
     [eps("web", TCP_PORT, ("10.42.0.5", "n1", None), ("10.42.1.5", "n2", None))],
     {"service-ips": [f"{S} : goto local-default/web/tcp/"]}),
    ("internalTrafficPolicy Local without a local endpoint: dropped",
     [svc("web", "10.43.0.5", {"port": 80}, internalTrafficPolicy="Local")],
     [eps("web", TCP_PORT, ("10.42.1.5", "n2", None))],
     {"service-ips": [], "no-endpoint-services": [f"{S} : drop"]}),
    ("sessionAffinity ClientIP: a timed set per endpoint, checked before the random pick",
     [svc("web", "10.43.0.5", {"port": 80}, sessionAffinity="ClientIP",
          sessionAffinityConfig={"clientIP": {"timeoutSeconds": 60}})], [WEB_EPS],
     {"service-default/web/tcp/": [
         "ip daddr 10.43.0.5 ip saddr != 10.42.0.0/16 jump mark-for-masquerade",
         f"ip saddr @affinity-default/web/tcp/__10.42.0.5/8080 goto {EP.format('10.42.0.5')}",
         f"numgen random mod 1 vmap {{ 0 : goto {EP.format('10.42.0.5')} }}"],
      EP.format("10.42.0.5"): [
          "ip saddr 10.42.0.5 jump mark-for-masquerade",
          "update @affinity-default/web/tcp/__10.42.0.5/8080 { ip saddr }",
          "meta l4proto tcp dnat to 10.42.0.5:8080"]}),
    ("externalIPs are routed like load-balancer IPs",
     [svc("web", "10.43.0.5", {"port": 80}, externalIPs=["198.51.100.7"])], [WEB_EPS],
     {"service-ips": [f"{S} : {CHAIN}",
                      "198.51.100.7 . tcp . 80 : goto external-default/web/tcp/"]}),
]


@pytest.mark.parametrize(("services", "slices", "expected"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rules_for(services: list[dict[str, Any]], slices: list[dict[str, Any]],
                   expected: dict[str, list[str]]) -> None:
    got = parsed(plan(services, slices))
    assert {k: got.get(k) for k in expected} == expected


def test_affinity_set_keeps_clients_for_the_service_timeout() -> None:
    text = plan([svc("web", "10.43.0.5", {"port": 80}, sessionAffinity="ClientIP")], [WEB_EPS])
    assert ("\tset affinity-CEI3K4UP-default/web/tcp/__10.42.0.5/8080 {\n\t\ttype ipv4_addr\n"
            "\t\tflags dynamic,timeout\n\t\ttimeout 10800s\n\t}\n") in text


def test_cluster_dns_address_goes_to_the_node_dns_server_before_any_service() -> None:
    cfg = ProxyConfig(table="kltest", node_name="n1",
                      dns=LocalDNS("10.43.0.10", "10.42.0.1", 5353))
    kube_dns = svc("kube-dns", "10.43.0.10", {"name": "dns", "port": 53, "protocol": "UDP"},
                   ns="kube-system")
    text = plan([kube_dns], [eps("kube-dns", [{"name": "dns", "port": 53, "protocol": "UDP"}],
                                 ("10.42.0.9", "n1", None), ns="kube-system")], cfg)
    got = parsed(text)
    assert got["service-ips"] == ["10.43.0.10 . udp . 53 : goto cluster-dns",
                                  "10.43.0.10 . tcp . 53 : goto cluster-dns"]
    assert ("\tchain cluster-dns {\n\t\tmeta l4proto udp dnat to 10.42.0.1:5353\n"
            "\t\tmeta l4proto tcp dnat to 10.42.0.1:5353\n\t}\n") in text


def test_no_rule_matches_outside_the_cluster_addresses() -> None:
    """Every rule that rewrites or marks is reached only from a map keyed by a service
    address or a node port on the node IPs; the hooked chains only jump."""
    text = plan([svc("web", "10.43.0.5", {"port": 80, "nodePort": 30080}, type="NodePort")],
                [WEB_EPS])
    hooked = re.findall(r"\tchain (\S+) \{\n\t\ttype [^\n]*\n(.*?)\n\t\}", text, re.S)
    assert {name: body.split("\n") for name, body in hooked} == {
        "filter-input": ["\t\tct state new jump nodeport-endpoints-check",
                         "\t\tct state new jump service-endpoints-check"],
        "filter-forward": ["\t\tct state new jump service-endpoints-check"],
        "filter-output": ["\t\tct state new jump service-endpoints-check",
                          "\t\tct state new jump nodeport-endpoints-check"],
        "nat-prerouting": ["\t\tjump services"], "nat-output": ["\t\tjump services"],
        "nat-postrouting": ["\t\tjump masquerading"]}
    assert "\tchain masquerading {\n\t\tmeta mark & 0x4000 == 0 return\n" in text


def test_an_endpoint_change_rewrites_only_its_chains_in_place() -> None:
    from kubelite.proxy.planner import plan as plan_of
    from kubelite.proxy.planner import update_text
    old = plan_of(service_ports([WEB], [WEB_EPS]), CFG)
    new = plan_of(service_ports([WEB], [eps("web", TCP_PORT, ("10.42.0.6", "n1", None))]), CFG)
    svc_chain = "service-PFISGYVC-default/web/tcp/"
    gone = "endpoint-CEI3K4UP-default/web/tcp/__10.42.0.5/8080"
    added = "endpoint-7IZ6GQPT-default/web/tcp/__10.42.0.6/8080"
    assert update_text(old, new, "kltest") == "\n".join([
        f"flush chain ip kltest {svc_chain}",
        f"flush chain ip kltest {gone}",
        f"add chain ip kltest {added}",
        f"add rule ip kltest {svc_chain} ip daddr 10.43.0.5 ip saddr != 10.42.0.0/16 "
        "jump mark-for-masquerade",
        f"add rule ip kltest {svc_chain} numgen random mod 1 vmap {{ 0 : goto {added} }}",
        f"add rule ip kltest {added} ip saddr 10.42.0.6 jump mark-for-masquerade",
        f"add rule ip kltest {added} meta l4proto tcp dnat to 10.42.0.6:8080",
        f"delete chain ip kltest {gone}", ""])
    assert update_text(old, old, "kltest") == ""
    other = ProxyConfig(table="kltest", node_name="n1", node_ips=("192.0.2.11",))
    assert update_text(old, plan_of(service_ports([WEB], [WEB_EPS]), other), "kltest") is None
